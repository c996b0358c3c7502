# The fuzz targets in the main (g++) build, linked with replay_main.cpp instead of libFuzzer, so that every
# `make test` replays the seed corpora (and, under XBPF_SANITIZE, does so with ASan and UBSan). Included by
# tests/CMakeLists.txt. The coverage-guided fuzzing build is separate: tests/fuzz/CMakeLists.txt and run.sh.
#
#   Fuzz.<target>.corpus     every file in tests/fuzz/corpus/<target>/ once
#   Fuzz.<target>.mutations  XBPF_FUZZ_REPLAY_ROUNDS seeded random mutations of each of those files (the same inputs on
#                            every run: a regression test, not a search)
#
# XBPF_FUZZ_KNOWN_FINDINGS names findings reported but not fixed yet (tests/fuzz/README.md, "Findings"); the mutation
# tests step around them. Remove a name with the fix, and the mutations check it from then on.
set(XBPF_FUZZ_REPLAY_ROUNDS 40 CACHE STRING "Mutations of each corpus file per Fuzz.<target>.mutations test")
set(XBPF_FUZZ_KNOWN_FINDINGS ""
    CACHE STRING "Comma-separated findings the mutation tests skip (tests/fuzz/README.md)")

foreach(name decode assemble interpret hex)
  set(target xbpf_fuzz_${name}_replay)
  add_executable(${target} ${CMAKE_CURRENT_LIST_DIR}/fuzz_${name}.cpp ${CMAKE_CURRENT_LIST_DIR}/replay_main.cpp)
  target_link_libraries(${target} PRIVATE xbpf_vm)
  target_include_directories(${target} PRIVATE ${CMAKE_CURRENT_LIST_DIR} ${CMAKE_SOURCE_DIR})
  add_test(NAME Fuzz.${name}.corpus COMMAND ${target} ${CMAKE_CURRENT_LIST_DIR}/corpus/${name})
  add_test(NAME Fuzz.${name}.mutations
           COMMAND ${target} --mutations ${XBPF_FUZZ_REPLAY_ROUNDS} --seed 1 ${CMAKE_CURRENT_LIST_DIR}/corpus/${name})
  set_tests_properties(Fuzz.${name}.corpus Fuzz.${name}.mutations PROPERTIES TIMEOUT 300)
  set_tests_properties(Fuzz.${name}.mutations PROPERTIES ENVIRONMENT "XBPF_FUZZ_SKIP=${XBPF_FUZZ_KNOWN_FINDINGS}")
endforeach()
# The conformance plugin's hex parser lives in the CLI; its file needs only isa and fmt.
target_sources(xbpf_fuzz_hex_replay PRIVATE ${CMAKE_SOURCE_DIR}/tools/xbpf/common.cpp)

# The verifier's soundness: seeds are generated programs (tests/fuzz/README.md, "Seed corpora"). Its open findings
# (README.md, "Findings") are stepped around here, target by target: remove a name with its fix.
set(XBPF_FUZZ_VERIFIER_OPEN_FINDINGS "")
add_executable(xbpf_fuzz_verifier_replay ${CMAKE_CURRENT_LIST_DIR}/fuzz_verifier.cpp ${CMAKE_CURRENT_LIST_DIR}/replay_main.cpp
                                         ${CMAKE_SOURCE_DIR}/tests/support/verifier_gen.cpp
                                         ${CMAKE_SOURCE_DIR}/tests/support/verifier_gen_memory.cpp
                                         ${CMAKE_SOURCE_DIR}/tests/support/verifier_oracle.cpp)
target_link_libraries(xbpf_fuzz_verifier_replay PRIVATE xbpf_vm)
target_include_directories(xbpf_fuzz_verifier_replay PRIVATE ${CMAKE_CURRENT_LIST_DIR} ${CMAKE_SOURCE_DIR}
                                                                ${CMAKE_SOURCE_DIR}/tests)
add_test(NAME Fuzz.verifier.corpus COMMAND xbpf_fuzz_verifier_replay ${CMAKE_CURRENT_LIST_DIR}/corpus/verifier)
add_test(NAME Fuzz.verifier.mutations
         COMMAND xbpf_fuzz_verifier_replay --mutations ${XBPF_FUZZ_REPLAY_ROUNDS} --seed 1
                 ${CMAKE_CURRENT_LIST_DIR}/corpus/verifier)
set_tests_properties(Fuzz.verifier.corpus Fuzz.verifier.mutations PROPERTIES TIMEOUT 300
                     ENVIRONMENT "XBPF_FUZZ_SKIP=${XBPF_FUZZ_KNOWN_FINDINGS},${XBPF_FUZZ_VERIFIER_OPEN_FINDINGS}")

# The object loader: seeds are the clang-built objects of tests/programs (built with the tests) plus
# tests/fuzz/corpus/object/ (hand-made malformed files and regressions).
if(TARGET xbpf_bpf_programs)
  add_executable(xbpf_fuzz_object_replay ${CMAKE_CURRENT_LIST_DIR}/fuzz_object.cpp ${CMAKE_CURRENT_LIST_DIR}/replay_main.cpp)
  target_link_libraries(xbpf_fuzz_object_replay PRIVATE xbpf_object)
  target_include_directories(xbpf_fuzz_object_replay PRIVATE ${CMAKE_CURRENT_LIST_DIR} ${CMAKE_SOURCE_DIR})
  add_dependencies(xbpf_fuzz_object_replay xbpf_bpf_programs)
  set(object_seeds ${CMAKE_BINARY_DIR}/tests/programs ${CMAKE_CURRENT_LIST_DIR}/corpus/object)
  add_test(NAME Fuzz.object.corpus COMMAND xbpf_fuzz_object_replay ${object_seeds})
  add_test(NAME Fuzz.object.mutations
           COMMAND xbpf_fuzz_object_replay --mutations ${XBPF_FUZZ_REPLAY_ROUNDS} --seed 1 ${object_seeds})
  set_tests_properties(Fuzz.object.corpus Fuzz.object.mutations PROPERTIES TIMEOUT 300)
endif()

# The JIT against the interpreter: the verifier target's input format, so it replays the verifier's corpus too.
add_executable(xbpf_fuzz_jit_replay ${CMAKE_CURRENT_LIST_DIR}/fuzz_jit.cpp ${CMAKE_CURRENT_LIST_DIR}/replay_main.cpp
                                    ${CMAKE_SOURCE_DIR}/tests/support/verifier_gen.cpp
                                    ${CMAKE_SOURCE_DIR}/tests/support/verifier_gen_memory.cpp
                                    ${CMAKE_SOURCE_DIR}/tests/support/engine_diff.cpp)
target_link_libraries(xbpf_fuzz_jit_replay PRIVATE xbpf_vm xbpf_jit)
target_include_directories(xbpf_fuzz_jit_replay PRIVATE ${CMAKE_CURRENT_LIST_DIR} ${CMAKE_SOURCE_DIR}
                                                           ${CMAKE_SOURCE_DIR}/tests)
add_test(NAME Fuzz.jit.corpus COMMAND xbpf_fuzz_jit_replay ${CMAKE_CURRENT_LIST_DIR}/corpus/jit
                                      ${CMAKE_CURRENT_LIST_DIR}/corpus/verifier)
add_test(NAME Fuzz.jit.mutations COMMAND xbpf_fuzz_jit_replay --mutations ${XBPF_FUZZ_REPLAY_ROUNDS} --seed 1
                                         ${CMAKE_CURRENT_LIST_DIR}/corpus/verifier)
set_tests_properties(Fuzz.jit.corpus Fuzz.jit.mutations PROPERTIES TIMEOUT 300)
