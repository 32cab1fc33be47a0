# ctest script: libnn.so has the SONAME libnn.so.<major> (SONAME given as
# -DSONAME) and needs only the C and C++ system libraries (the Swift runtime
# is linked in statically).
#   cmake -DNN_LIBRARY=<libnn.so> -DOBJDUMP=<objdump> -DSONAME=<libnn.so.N> -P CheckLinkage.cmake

cmake_minimum_required(VERSION 3.25)

foreach(_var NN_LIBRARY OBJDUMP SONAME)
    if(NOT ${_var})
        message(FATAL_ERROR "CheckLinkage.cmake: ${_var} is not set")
    endif()
endforeach()

execute_process(
    COMMAND "${OBJDUMP}" -p "${NN_LIBRARY}"
    OUTPUT_VARIABLE _out
    ERROR_VARIABLE _err
    RESULT_VARIABLE _rc)
if(NOT _rc EQUAL 0)
    message(FATAL_ERROR "${OBJDUMP} -p failed on ${NN_LIBRARY}: ${_err}")
endif()

string(REGEX MATCHALL "NEEDED +[^\n]+" _needed_lines "${_out}")
set(_needed "")
foreach(_line IN LISTS _needed_lines)
    string(REGEX REPLACE "NEEDED +" "" _lib "${_line}")
    string(STRIP "${_lib}" _lib)
    list(APPEND _needed "${_lib}")
endforeach()
message(STATUS "NEEDED: ${_needed}")

set(_failed FALSE)
if(NOT _needed)
    message(SEND_ERROR "no NEEDED entries found in ${NN_LIBRARY}: is it a shared library?")
    set(_failed TRUE)
endif()
# The C library (with the parts glibc used to ship separately), libm,
# the C++ runtime, libgcc_s and the dynamic loader.
set(_allowed "^(libc|libm|libdl|libpthread|librt|libstdc\\+\\+|libgcc_s|ld-linux-x86-64|ld-linux-aarch64)\\.so\\.[0-9]+$")
foreach(_lib IN LISTS _needed)
    if(NOT _lib MATCHES "${_allowed}")
        message(SEND_ERROR "libnn.so needs ${_lib}; only the C/C++ system libraries are allowed (is -static-stdlib missing?)")
        set(_failed TRUE)
    endif()
endforeach()

if(_out MATCHES "SONAME +([^\n]+)")
    string(STRIP "${CMAKE_MATCH_1}" _soname)
    message(STATUS "SONAME: ${_soname}")
    if(NOT _soname STREQUAL SONAME)
        message(SEND_ERROR "SONAME is ${_soname}, expected ${SONAME}")
        set(_failed TRUE)
    endif()
else()
    message(SEND_ERROR "${NN_LIBRARY} has no SONAME (expected ${SONAME})")
    set(_failed TRUE)
endif()

if(_failed)
    message(FATAL_ERROR "linkage check of libnn.so failed")
endif()
