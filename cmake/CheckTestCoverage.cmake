# ctest script: every function declared in nn.h is called by at least one
# cmocka suite (Tests/c/test_*.c), so a new declaration cannot ship
# without a test of the C ABI.
#   cmake -DNN_HEADER=<nn.h> -DTEST_DIR=<Tests/c> -P CheckTestCoverage.cmake

cmake_minimum_required(VERSION 3.25)

foreach(_var NN_HEADER TEST_DIR)
    if(NOT ${_var})
        message(FATAL_ERROR "CheckTestCoverage.cmake: ${_var} is not set")
    endif()
endforeach()

include("${CMAKE_CURRENT_LIST_DIR}/NNHeaderFunctions.cmake")
nn_header_functions("${NN_HEADER}" _declared)

file(GLOB _suites "${TEST_DIR}/test_*.c")
if(NOT _suites)
    message(FATAL_ERROR "no test_*.c in ${TEST_DIR}")
endif()
set(_calls "")
foreach(_suite IN LISTS _suites)
    file(READ "${_suite}" _text)
    # Comments do not count as calls.
    string(REGEX REPLACE "/\\*([^*]|\\*+[^*/])*\\*+/" " " _text "${_text}")
    string(REGEX MATCHALL "nn_[a-z0-9_]+[ \t]*\\(" _found "${_text}")
    list(APPEND _calls ${_found})
endforeach()
set(_called "")
foreach(_call IN LISTS _calls)
    string(REGEX REPLACE "[ \t]*\\($" "" _name "${_call}")
    list(APPEND _called "${_name}")
endforeach()
list(REMOVE_DUPLICATES _called)

set(_missing "")
foreach(_name IN LISTS _declared)
    if(NOT _name IN_LIST _called)
        list(APPEND _missing "${_name}")
    endif()
endforeach()
list(LENGTH _declared _n)
list(LENGTH _suites _n_suites)
message(STATUS "${_n} functions in nn.h; ${_n_suites} cmocka suites")
if(_missing)
    string(REPLACE ";" "\n  " _text "${_missing}")
    message(FATAL_ERROR "declared in nn.h but called by no cmocka suite in ${TEST_DIR}:\n  ${_text}")
endif()
