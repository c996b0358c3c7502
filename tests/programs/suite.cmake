# BPF test programs (tests/programs/*.bpf.c), compiled at build time with clang -O2 -g -target bpf, as users do.
# The objects land in ${CMAKE_BINARY_DIR}/tests/programs/<name>.bpf.o; tests find them through XBPF_BINARY_DIR.
# Headers: libbpf-dev's <bpf/bpf_helpers.h> and the kernel's <linux/bpf.h> (whose <asm/types.h> lives in the
# multiarch include directory, which clang does not search for -target bpf).

find_program(XBPF_BPF_CLANG NAMES clang clang-16 clang-14)
if(NOT XBPF_BPF_CLANG)
  message(STATUS "tests/programs skipped: clang not found (tests that need the objects skip themselves)")
else()
  set(bpf_include_flags)
  if(CMAKE_LIBRARY_ARCHITECTURE)
    list(APPEND bpf_include_flags -I/usr/include/${CMAKE_LIBRARY_ARCHITECTURE})
  endif()
  file(GLOB bpf_program_sources CONFIGURE_DEPENDS ${CMAKE_CURRENT_LIST_DIR}/*.bpf.c)
  file(GLOB bpf_program_headers CONFIGURE_DEPENDS ${CMAKE_CURRENT_LIST_DIR}/*.h)
  set(bpf_program_dir ${CMAKE_BINARY_DIR}/tests/programs)
  file(MAKE_DIRECTORY ${bpf_program_dir})
  set(bpf_program_objects)
  foreach(src ${bpf_program_sources})
    get_filename_component(name ${src} NAME_WE)
    set(obj ${bpf_program_dir}/${name}.bpf.o)
    add_custom_command(
      OUTPUT ${obj}
      COMMAND ${XBPF_BPF_CLANG} -O2 -g -target bpf -mcpu=v3 ${bpf_include_flags} -c ${src} -o ${obj}
      DEPENDS ${src} ${bpf_program_headers}
      COMMENT "clang -target bpf ${name}.bpf.c"
      VERBATIM)
    list(APPEND bpf_program_objects ${obj})
  endforeach()
  add_custom_target(xbpf_bpf_programs ALL DEPENDS ${bpf_program_objects})
  add_dependencies(xbpf_unit_tests xbpf_bpf_programs)
endif()
