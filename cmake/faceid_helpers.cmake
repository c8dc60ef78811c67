# Small helpers for the repeated target shapes.

# faceid_warnings(<target>): the warning set every faceid target compiles with.
function(faceid_warnings target)
  target_compile_options(${target} PRIVATE -Wall -Wextra $<$<BOOL:${FACEID_WERROR}>:-Werror>)
endfunction()

# faceid_app(<name> SOURCES ...): a command-line tool in build/bin linked to the app glue.
function(faceid_app name)
  cmake_parse_arguments(ARG "" "" "SOURCES" ${ARGN})
  add_executable(${name} ${ARG_SOURCES})
  target_link_libraries(${name} PRIVATE faceid_cli)
  faceid_warnings(${name})
endfunction()

# faceid_test(<name> SOURCES ... LIBS ...): one GoogleTest executable registered with CTest.
function(faceid_test name)
  cmake_parse_arguments(ARG "" "" "SOURCES;LIBS" ${ARGN})
  add_executable(${name} ${ARG_SOURCES})
  target_link_libraries(${name} PRIVATE ${ARG_LIBS} GTest::gtest GTest::gtest_main)
  faceid_warnings(${name})
  gtest_discover_tests(${name} DISCOVERY_TIMEOUT 60
    PROPERTIES ENVIRONMENT "FACEID_DATA=${FACEID_TEST_DATA};FACEID_BIN=${PROJECT_BINARY_DIR}/bin")
endfunction()
