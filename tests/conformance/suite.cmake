# The bpf_conformance-format suite (tests/conformance/*.data), run through the plugin protocol by
# run_conformance.py: `xbpf asm` assembles each test, `xbpf conformance-plugin --engine <engine>` runs it.
# Conformance.<engine> is registered for every engine in XBPF_CONFORMANCE_ENGINES. Included by tests/CMakeLists.txt.

find_package(Python3 COMPONENTS Interpreter)

set(XBPF_CONFORMANCE_ENGINES "interp;jit" CACHE STRING "xbpf engines the conformance suite runs on (a ;-list)")

if(NOT Python3_Interpreter_FOUND)
  message(STATUS "conformance suite skipped: python3 not found")
else()
  foreach(engine IN LISTS XBPF_CONFORMANCE_ENGINES)
    add_test(NAME Conformance.${engine}
             COMMAND ${Python3_EXECUTABLE} ${CMAKE_CURRENT_LIST_DIR}/run_conformance.py
                     --xbpf $<TARGET_FILE:xbpf> --engine ${engine} --quiet ${CMAKE_CURRENT_LIST_DIR})
    set_tests_properties(Conformance.${engine} PROPERTIES TIMEOUT 120 LABELS conformance)
  endforeach()
endif()
