# End-to-end tests of the xbpf command line (tests/cli/cli_test.sh).
add_test(NAME Cli.xbpf COMMAND bash ${CMAKE_CURRENT_LIST_DIR}/cli_test.sh $<TARGET_FILE:xbpf> ${CMAKE_SOURCE_DIR})
