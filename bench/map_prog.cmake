# Program-side map benchmark (bench/map_prog_compare.cpp): the programs of bench/kernels/map_ops.bpf.c run in xbpf
# (vm::test_run) and in the Linux kernel (BPF_PROG_TEST_RUN with repeat) in the same run, `xbpf-compare-map-prog`.
find_program(XBPF_BPF_CLANG NAMES clang clang-16 clang-15 clang-14)
if(NOT XBPF_BPF_CLANG)
  message(STATUS "bench/map_prog: skipped (needs clang -target bpf)")
  return()
endif()
set(map_prog_obj ${CMAKE_CURRENT_BINARY_DIR}/map_ops.bpf.o)
set(map_prog_includes)
if(CMAKE_LIBRARY_ARCHITECTURE)
  list(APPEND map_prog_includes -I/usr/include/${CMAKE_LIBRARY_ARCHITECTURE})
endif()
add_custom_command(
  OUTPUT ${map_prog_obj}
  COMMAND ${XBPF_BPF_CLANG} -O2 -g -target bpf -mcpu=v3 -Wall -Werror ${map_prog_includes}
          -c ${CMAKE_CURRENT_SOURCE_DIR}/kernels/map_ops.bpf.c -o ${map_prog_obj}
  DEPENDS ${CMAKE_CURRENT_SOURCE_DIR}/kernels/map_ops.bpf.c
  COMMENT "clang -target bpf: bench/kernels/map_ops.bpf.c"
  VERBATIM)
add_custom_target(xbpf_bench_map_prog_object DEPENDS ${map_prog_obj})
add_executable(xbpf-compare-map-prog ${CMAKE_CURRENT_SOURCE_DIR}/map_prog_compare.cpp)
add_dependencies(xbpf-compare-map-prog xbpf_bench_map_prog_object)
target_link_libraries(xbpf-compare-map-prog PRIVATE xbpf_vm xbpf_kernel xbpf_object)
target_compile_definitions(xbpf-compare-map-prog PRIVATE XBPF_MAP_OPS_OBJECT="${map_prog_obj}")

# Both engines must do the same work: same return value for every program (the kernel part skips without bpf()).
if(XBPF_BUILD_TESTS)
  add_test(NAME bench.map_prog.cross_check COMMAND xbpf-compare-map-prog --check)
  set_tests_properties(bench.map_prog.cross_check PROPERTIES LABELS bench TIMEOUT 300)
endif()
