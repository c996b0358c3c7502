# Test support shared by the unit tests: instruction builders and the random program generator used by the
# kernel differential tests. Included by tests/CMakeLists.txt.
target_sources(xbpf_unit_tests PRIVATE ${CMAKE_CURRENT_LIST_DIR}/program_gen.cpp)
target_include_directories(xbpf_unit_tests PRIVATE ${CMAKE_SOURCE_DIR}/tests)
# The verifier's soundness generator and oracle (tests/unit/verifier/soundness_test.cpp, tests/fuzz/fuzz_verifier.cpp).
target_sources(xbpf_unit_tests PRIVATE ${CMAKE_CURRENT_LIST_DIR}/verifier_gen.cpp ${CMAKE_CURRENT_LIST_DIR}/verifier_gen_memory.cpp
                                       ${CMAKE_CURRENT_LIST_DIR}/verifier_oracle.cpp)
# Interpreter vs JIT on one program (tests/unit/jit/engine_differential_test.cpp, tests/fuzz/fuzz_jit.cpp).
target_sources(xbpf_unit_tests PRIVATE ${CMAKE_CURRENT_LIST_DIR}/engine_diff.cpp)
