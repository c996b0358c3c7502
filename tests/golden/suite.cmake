# Golden tests of the disassembler against llvm-objdump (tests/golden/objdump_golden.cpp).
# Each tests/golden/objdump/*.bpf.c is compiled at build time for -mcpu=v1, v2 and v3; the checker compares, line by
# line, llvm-objdump -d's listing of every object with xbpf's. A second test does the same for a synthetic object
# holding encodings of every Op. Skipped (with a message) when clang, llvm-objdump or llvm-mc is missing.

find_program(XBPF_GOLDEN_CLANG NAMES clang clang-14)
find_program(XBPF_GOLDEN_LLVM_OBJDUMP NAMES llvm-objdump llvm-objdump-14)
find_program(XBPF_GOLDEN_LLVM_MC NAMES llvm-mc llvm-mc-14)

if(NOT XBPF_GOLDEN_CLANG OR NOT XBPF_GOLDEN_LLVM_OBJDUMP OR NOT XBPF_GOLDEN_LLVM_MC)
  message(STATUS "objdump golden tests skipped: clang, llvm-objdump or llvm-mc not found")
else()
  file(GLOB objdump_golden_sources CONFIGURE_DEPENDS ${CMAKE_CURRENT_LIST_DIR}/objdump/*.bpf.c)
  set(objdump_golden_dir ${CMAKE_CURRENT_BINARY_DIR}/golden/objdump)
  file(MAKE_DIRECTORY ${objdump_golden_dir})
  set(objdump_golden_objects)
  foreach(src ${objdump_golden_sources})
    get_filename_component(name ${src} NAME_WE)
    foreach(cpu 1 2 3)
      set(obj ${objdump_golden_dir}/${name}.v${cpu}.o)
      add_custom_command(
        OUTPUT ${obj}
        COMMAND ${XBPF_GOLDEN_CLANG} -O2 -g -target bpf -mcpu=v${cpu} -DGOLDEN_CPU=${cpu} -c ${src} -o ${obj}
        DEPENDS ${src} ${CMAKE_CURRENT_LIST_DIR}/objdump/golden_common.h
        COMMENT "clang -target bpf -mcpu=v${cpu} ${name}.bpf.c"
        VERBATIM)
      list(APPEND objdump_golden_objects ${obj})
    endforeach()
  endforeach()
  add_custom_target(xbpf_objdump_golden_objects ALL DEPENDS ${objdump_golden_objects})

  add_executable(xbpf_objdump_golden ${CMAKE_CURRENT_LIST_DIR}/objdump_golden.cpp)
  target_link_libraries(xbpf_objdump_golden PRIVATE xbpf_isa)
  add_dependencies(xbpf_objdump_golden xbpf_objdump_golden_objects)

  add_test(NAME ObjdumpGolden.clang_objects
           COMMAND xbpf_objdump_golden --llvm-objdump ${XBPF_GOLDEN_LLVM_OBJDUMP} ${objdump_golden_objects})
  add_test(NAME ObjdumpGolden.every_op_encoding
           COMMAND xbpf_objdump_golden --llvm-objdump ${XBPF_GOLDEN_LLVM_OBJDUMP} --llvm-mc ${XBPF_GOLDEN_LLVM_MC}
                   --work-dir ${objdump_golden_dir} --raw)
  set_tests_properties(ObjdumpGolden.clang_objects ObjdumpGolden.every_op_encoding PROPERTIES TIMEOUT 300)
endif()
