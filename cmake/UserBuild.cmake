# ctest script: builds an example the way a user would,
#   cc xor.c -I<include> -L<libdir> -lnn
# (plus an rpath so that it runs without LD_LIBRARY_PATH), runs it, and
# checks that it exits 0 and reports a final MSE below 0.01.
#   cmake -DCC=<cc> -DSOURCE=<xor.c> -DINCLUDE_DIR=<dir> -DLIBRARY_DIR=<dir>
#         -DWORK_DIR=<scratch dir> -P UserBuild.cmake

cmake_minimum_required(VERSION 3.25)

include("${CMAKE_CURRENT_LIST_DIR}/ScriptHelpers.cmake")
nn_require(CC SOURCE INCLUDE_DIR LIBRARY_DIR WORK_DIR)

file(REMOVE_RECURSE "${WORK_DIR}")
file(MAKE_DIRECTORY "${WORK_DIR}")
get_filename_component(_name "${SOURCE}" NAME_WE)
set(_exe "${WORK_DIR}/${_name}")

set(_compile "${CC}" "${SOURCE}" "-I${INCLUDE_DIR}" "-L${LIBRARY_DIR}" -lnn
             "-Wl,-rpath,${LIBRARY_DIR}" -o "${_exe}")
string(REPLACE ";" " " _shown "${_compile}")
message(STATUS "${_shown}")
execute_process(COMMAND ${_compile}
                RESULT_VARIABLE _rc OUTPUT_VARIABLE _out ERROR_VARIABLE _err)
if(NOT _rc EQUAL 0)
    message(FATAL_ERROR "compiling ${SOURCE} failed (${_rc}):\n${_out}${_err}")
endif()

execute_process(COMMAND "${_exe}"
                RESULT_VARIABLE _rc OUTPUT_VARIABLE _out ERROR_VARIABLE _err)
message(STATUS "${_name} printed:\n${_out}${_err}")
if(NOT _rc EQUAL 0)
    message(FATAL_ERROR "${_exe} exited with ${_rc}")
endif()
if(NOT _out MATCHES "final MSE: ([0-9.eE+-]+)")
    message(FATAL_ERROR "${_exe} did not print \"final MSE: <value>\"")
endif()
if(NOT CMAKE_MATCH_1 LESS 0.01)
    message(FATAL_ERROR "${_exe} printed final MSE ${CMAKE_MATCH_1}, not below 0.01")
endif()
