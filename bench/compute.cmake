# Compute benchmark suite (bench/README.md): BPF kernels built with clang, their native twins, the side-by-side
# comparison `xbpf-compare-compute` and the Google Benchmark binary `xbpf-bench-compute`.
find_program(XBPF_BPF_CLANG NAMES clang clang-16 clang-15 clang-14)
find_program(XBPF_LLVM_OBJCOPY NAMES llvm-objcopy llvm-objcopy-16 llvm-objcopy-15 llvm-objcopy-14)
find_program(XBPF_LLVM_READELF NAMES llvm-readelf llvm-readelf-16 llvm-readelf-15 llvm-readelf-14)
if(NOT XBPF_BPF_CLANG OR NOT XBPF_LLVM_OBJCOPY OR NOT XBPF_LLVM_READELF)
  message(STATUS "bench/compute: skipped (needs clang, llvm-objcopy and llvm-readelf; see scripts/install-deps)")
  return()
endif()

set(compute_dir ${CMAKE_CURRENT_SOURCE_DIR}/kernels)
set(compute_gen ${CMAKE_CURRENT_BINARY_DIR}/compute)
set(compute_obj ${compute_gen}/compute.bpf.o)
set(compute_inc ${compute_gen}/compute_bytecode.inc)

# One object, two sections per kernel; -mcpu=v3 for JMP32 and 32-bit ALU, as current kernels and clang default to.
add_custom_command(
  OUTPUT ${compute_obj}
  COMMAND ${CMAKE_COMMAND} -E make_directory ${compute_gen}
  COMMAND ${XBPF_BPF_CLANG} -O2 -target bpf -mcpu=v3 -Wall -Werror -c ${compute_dir}/compute.bpf.c -o ${compute_obj}
  DEPENDS ${compute_dir}/compute.bpf.c ${compute_dir}/compute_kernels.h
  COMMENT "clang -target bpf: bench/kernels/compute.bpf.c"
  VERBATIM)
add_custom_command(
  OUTPUT ${compute_inc}
  COMMAND ${CMAKE_COMMAND} -DOBJ=${compute_obj} -DOBJCOPY=${XBPF_LLVM_OBJCOPY} -DREADELF=${XBPF_LLVM_READELF}
          -DWORK=${compute_gen}/bin -DOUT=${compute_inc} -P ${compute_dir}/extract.cmake
  DEPENDS ${compute_obj} ${compute_dir}/extract.cmake
  COMMENT "Extracting compute kernel sections (checking: no relocations, no data)"
  VERBATIM)

# Kernel table, native twins and engine runners, shared by both executables.
add_library(xbpf_bench_compute_common STATIC ${CMAKE_CURRENT_SOURCE_DIR}/compute_common.cpp
                                             ${CMAKE_CURRENT_SOURCE_DIR}/switch_baseline.cpp
                                             ${compute_dir}/native.c ${compute_inc})
# The native reference is built at -O2 whatever the build type (the last -O flag wins).
set_source_files_properties(${compute_dir}/native.c PROPERTIES COMPILE_OPTIONS "-O2")
target_include_directories(xbpf_bench_compute_common PUBLIC ${CMAKE_CURRENT_SOURCE_DIR} PRIVATE ${compute_gen})
target_link_libraries(xbpf_bench_compute_common PUBLIC xbpf_vm xbpf_jit xbpf_kernel)

add_executable(xbpf-compare-compute ${CMAKE_CURRENT_SOURCE_DIR}/compare.cpp)
target_link_libraries(xbpf-compare-compute PRIVATE xbpf_bench_compute_common nlohmann_json::nlohmann_json)

# Cross-engine differential check (interpreter in both modes, native, and the Linux kernel when bpf() works).
if(XBPF_BUILD_TESTS)
  add_test(NAME bench.compute.cross_check COMMAND xbpf-compare-compute --check)
  set_tests_properties(bench.compute.cross_check PROPERTIES LABELS bench TIMEOUT 300)
endif()

if(benchmark_FOUND)
  add_executable(xbpf-bench-compute ${CMAKE_CURRENT_SOURCE_DIR}/compute_bench.cpp)
  target_link_libraries(xbpf-bench-compute PRIVATE xbpf_bench_compute_common benchmark::benchmark)
else()
  message(STATUS "bench/compute: xbpf-bench-compute skipped (Google Benchmark not found: libbenchmark-dev)")
endif()

# JIT compile throughput (bench/jit_compile_compare.cpp): generated programs of 100 to 100,000 instructions and the
# compute kernels, jit::compile next to vm::Program::load in the same run.
add_executable(xbpf-compare-jit-compile ${CMAKE_CURRENT_SOURCE_DIR}/jit_compile_compare.cpp
                                        ${CMAKE_SOURCE_DIR}/tests/support/program_gen.cpp)
target_include_directories(xbpf-compare-jit-compile PRIVATE ${CMAKE_SOURCE_DIR}/tests)
target_link_libraries(xbpf-compare-jit-compile PRIVATE xbpf_bench_compute_common nlohmann_json::nlohmann_json)
target_compile_definitions(xbpf-compare-jit-compile PRIVATE XBPF_TEST_PROGRAMS_DIR="${CMAKE_BINARY_DIR}/tests/programs")
