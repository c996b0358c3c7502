# Verifier comparison (bench/verifier_compare.cpp): xbpf's verifier::verify next to the Linux kernel's BPF_PROG_LOAD on
# every program of tests/programs (built by tests/programs/suite.cmake) and of Debian's libbpf-tools, in one run:
# `xbpf-compare-verifier`.
add_executable(xbpf-compare-verifier ${CMAKE_CURRENT_SOURCE_DIR}/verifier_compare.cpp)
target_link_libraries(xbpf-compare-verifier PRIVATE xbpf_verifier xbpf_kernel xbpf_object nlohmann_json::nlohmann_json)
target_compile_definitions(xbpf-compare-verifier PRIVATE XBPF_TEST_PROGRAMS_DIR="${CMAKE_BINARY_DIR}/tests/programs")
if(TARGET xbpf_bpf_programs)
  add_dependencies(xbpf-compare-verifier xbpf_bpf_programs)
endif()

# xbpf and the kernel must agree on a couple of tests/programs objects (exit 77, skipped, without bpf()).
if(XBPF_BUILD_TESTS AND TARGET xbpf_bpf_programs)
  add_test(NAME bench.verifier.cross_check COMMAND xbpf-compare-verifier --check)
  set_tests_properties(bench.verifier.cross_check PROPERTIES LABELS bench TIMEOUT 300 SKIP_RETURN_CODE 77)
endif()
