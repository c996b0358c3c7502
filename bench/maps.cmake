# Map benchmark suite (method in the header of map_bench.cpp): host-side lookup/update/delete on xbpf maps next to the same
# operations on Linux kernel maps through bpf(), in one Google Benchmark binary `xbpf-bench-maps`.
if(NOT benchmark_FOUND)
  message(STATUS "bench/maps: xbpf-bench-maps skipped (Google Benchmark not found: libbenchmark-dev)")
  return()
endif()
add_executable(xbpf-bench-maps ${CMAKE_CURRENT_SOURCE_DIR}/map_bench.cpp)
target_link_libraries(xbpf-bench-maps PRIVATE xbpf_kernel xbpf_maps benchmark::benchmark)
