# End-to-end tests of the xbpf command line: every tests/cli/*_test.sh is one ctest test, Cli.<name>, run as
# `bash <script> <xbpf binary> <source dir> <build dir>`.
file(GLOB cli_scripts CONFIGURE_DEPENDS ${CMAKE_CURRENT_LIST_DIR}/*_test.sh)
foreach(script ${cli_scripts})
  get_filename_component(name ${script} NAME_WE)
  string(REGEX REPLACE "_test$" "" name ${name})
  if(name STREQUAL "cli")
    set(name xbpf)
  endif()
  add_test(NAME Cli.${name} COMMAND bash ${script} $<TARGET_FILE:xbpf> ${CMAKE_SOURCE_DIR} ${CMAKE_BINARY_DIR})
endforeach()
