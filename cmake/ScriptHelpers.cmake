# Helpers of the ctest scripts (cmake -P) in this folder.

# nn_require(VAR ...): fails unless every named variable is set (-DVAR=...).
macro(nn_require)
    foreach(_nn_var ${ARGN})
        if(NOT ${_nn_var})
            message(FATAL_ERROR "${CMAKE_CURRENT_LIST_FILE}: ${_nn_var} is not set")
        endif()
    endforeach()
endmacro()

# run_checked(COMMAND...): runs a command, fails with its output unless it
# exits 0, and leaves its stripped standard output in RUN_OUTPUT.
function(run_checked)
    execute_process(COMMAND ${ARGV} RESULT_VARIABLE _rc OUTPUT_VARIABLE _out ERROR_VARIABLE _err)
    string(REPLACE ";" " " _shown "${ARGV}")
    if(NOT _rc EQUAL 0)
        message(FATAL_ERROR "`${_shown}` failed (${_rc}):\n${_out}${_err}")
    endif()
    string(STRIP "${_out}" _out)
    set(RUN_OUTPUT "${_out}" PARENT_SCOPE)
endfunction()
