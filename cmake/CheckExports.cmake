# ctest script: libnn.so exports exactly the functions declared in nn.h.
#   cmake -DNN_LIBRARY=<libnn.so> -DNN_HEADER=<nn.h> -DNM=<nm> -P CheckExports.cmake
# Fails if a declared function is missing from the dynamic symbol table, or
# if the library exports any other symbol (the header promises that
# "nothing else is exported from libnn.so").

cmake_minimum_required(VERSION 3.25)

foreach(_var NN_LIBRARY NN_HEADER NM)
    if(NOT ${_var})
        message(FATAL_ERROR "CheckExports.cmake: ${_var} is not set")
    endif()
endforeach()

# The function names declared in the header.
include("${CMAKE_CURRENT_LIST_DIR}/NNHeaderFunctions.cmake")
nn_header_functions("${NN_HEADER}" _declared)
list(LENGTH _declared _n_declared)
if(_n_declared LESS 20)
    message(FATAL_ERROR "found only ${_n_declared} declarations in ${NN_HEADER}: ${_declared}")
endif()

# The defined dynamic symbols of the library: "name type [value size]".
execute_process(
    COMMAND "${NM}" -D --defined-only --format=posix "${NN_LIBRARY}"
    OUTPUT_VARIABLE _nm_out
    ERROR_VARIABLE _nm_err
    RESULT_VARIABLE _nm_rc)
if(NOT _nm_rc EQUAL 0)
    message(FATAL_ERROR "${NM} failed on ${NN_LIBRARY}: ${_nm_err}")
endif()
string(REPLACE "\n" ";" _nm_lines "${_nm_out}")
set(_functions "")
set(_foreign "")
foreach(_line IN LISTS _nm_lines)
    if(NOT _line MATCHES "^([^ ]+) ([A-Za-z])")
        continue()
    endif()
    set(_sym "${CMAKE_MATCH_1}")
    set(_type "${CMAKE_MATCH_2}")
    # Lower-case types are local bindings: present in .dynsym (the version
    # script demoted them) but not visible to other objects. 'u' (unique
    # global) and 'i' (indirect function) are the lower-case exceptions.
    if(_type MATCHES "^[a-hj-tv-z]$")
        continue()
    endif()
    # Symbols every ELF shared object defines; not part of any API.
    if(_sym MATCHES "^(_init|_fini|_edata|_end|__bss_start)$")
        continue()
    endif()
    if(_sym IN_LIST _declared AND _type MATCHES "^[Ti]$")
        list(APPEND _functions "${_sym}")
    else()
        list(APPEND _foreign "${_sym} (${_type})")
    endif()
endforeach()

set(_missing "")
foreach(_name IN LISTS _declared)
    if(NOT _name IN_LIST _functions)
        list(APPEND _missing "${_name}")
    endif()
endforeach()

list(LENGTH _functions _n_functions)
list(LENGTH _foreign _n_foreign)
message(STATUS "nn.h declares ${_n_declared} functions; libnn.so exports ${_n_functions} of them and ${_n_foreign} other symbols")
set(_failed FALSE)
if(_missing)
    string(REPLACE ";" "\n  " _text "${_missing}")
    message(SEND_ERROR "declared in nn.h but not exported as functions by ${NN_LIBRARY}:\n  ${_text}")
    set(_failed TRUE)
endif()
if(_foreign)
    list(SUBLIST _foreign 0 40 _shown)
    string(REPLACE ";" "\n  " _text "${_shown}")
    message(SEND_ERROR "exported by ${NN_LIBRARY} but not declared in nn.h (first 40 of ${_n_foreign}):\n  ${_text}")
    set(_failed TRUE)
endif()
if(_failed)
    message(FATAL_ERROR "the exports of libnn.so do not match nn.h")
endif()
