# ctest script: one version, nn.h's NN_VERSION_STRING, in every channel.
# Fails if any of these disagrees with it:
#   nn.h's MAJOR/MINOR/PATCH macros, CMake's project version, nn_version()
#   of the built library, its SONAME (libnn.so.<major>) and Package.swift's
#   -soname flag, the version written into model files (ModelFile.swift),
#   the Python mirror (_lib.py), the Python distribution's version source
#   (pyproject.toml reads nn.h), nn.pc, nnConfigVersion.cmake and the .deb
#   version (CPackConfig.cmake). The wheel test checks the installed
#   distribution, and the SwiftPM test resolves the tag named after nn.h.
#   cmake -DSOURCE_DIR= -DBUILD_DIR= -DNN_LIBRARY= -DCC= -DVERSION= -P VersionTest.cmake

cmake_minimum_required(VERSION 3.25)
include("${CMAKE_CURRENT_LIST_DIR}/ScriptHelpers.cmake")
nn_require(SOURCE_DIR BUILD_DIR NN_LIBRARY CC VERSION)

set(_failures "")
macro(expect what got)
    if("${got}" STREQUAL "${_want}")
        message(STATUS "${what}: ${got}")
    else()
        list(APPEND _failures "${what}: '${got}', expected '${_want}'")
    endif()
endmacro()

# A regex's first group in a file.
function(grep file regex out)
    file(STRINGS "${file}" _lines REGEX "${regex}")
    list(LENGTH _lines _n)
    if(_n EQUAL 0)
        set(${out} "<not found in ${file}>" PARENT_SCOPE)
        return()
    endif()
    list(GET _lines 0 _line)
    string(REGEX MATCH "${regex}" _ "${_line}")
    set(${out} "${CMAKE_MATCH_1}" PARENT_SCOPE)
endfunction()

set(_h "${SOURCE_DIR}/include/nn.h")
grep("${_h}" "^#define NN_VERSION_STRING \"([^\"]+)\"" _want)
message(STATUS "nn.h says ${_want}")
grep("${_h}" "^#define NN_VERSION_MAJOR ([0-9]+)" _ma)
grep("${_h}" "^#define NN_VERSION_MINOR ([0-9]+)" _mi)
grep("${_h}" "^#define NN_VERSION_PATCH ([0-9]+)" _pa)
expect("nn.h NN_VERSION_MAJOR.MINOR.PATCH" "${_ma}.${_mi}.${_pa}")
expect("CMake project version" "${VERSION}")

# The library.
file(WRITE "${BUILD_DIR}/version_test.c"
     "#include <stdio.h>\n#include <nn.h>\nint main(void) { puts(nn_version()); return 0; }\n")
get_filename_component(_libdir "${NN_LIBRARY}" DIRECTORY)
execute_process(COMMAND "${CC}" "${BUILD_DIR}/version_test.c" "-I${SOURCE_DIR}/include" "-L${_libdir}" -lnn
                        "-Wl,-rpath,${_libdir}" -o "${BUILD_DIR}/version_test" RESULT_VARIABLE _rc ERROR_VARIABLE _err)
if(NOT _rc EQUAL 0)
    message(FATAL_ERROR "cannot build the version probe: ${_err}")
endif()
execute_process(COMMAND "${BUILD_DIR}/version_test" OUTPUT_VARIABLE _run OUTPUT_STRIP_TRAILING_WHITESPACE)
expect("nn_version() of ${NN_LIBRARY}" "${_run}")
execute_process(COMMAND objdump -p "${NN_LIBRARY}" OUTPUT_VARIABLE _dump)
string(REGEX MATCH "SONAME +libnn\\.so\\.([0-9]+)" _ "${_dump}")
set(_want_full "${_want}")
set(_want "${_ma}")
expect("major version in the library's SONAME" "${CMAKE_MATCH_1}")
grep("${SOURCE_DIR}/Package.swift" "-soname=libnn\\.so\\.([0-9]+)" _v)
expect("major version in Package.swift's -soname" "${_v}")
set(_want "${_want_full}")

# The sources that repeat it (the Swift core cannot import the C header).
grep("${SOURCE_DIR}/Sources/NNCore/Serialization/ModelFile.swift" "libraryVersion = \"([^\"]+)\"" _v)
expect("ModelFile.libraryVersion (written into model files)" "${_v}")
grep("${SOURCE_DIR}/bindings/python/nn/_lib.py" "^NN_VERSION_STRING = \"([^\"]+)\"" _v)
expect("_lib.py NN_VERSION_STRING" "${_v}")

# The Python distribution takes its version from nn.h, not from a literal.
file(READ "${SOURCE_DIR}/pyproject.toml" _toml)
if(_toml MATCHES "\nversion *= *\"")
    list(APPEND _failures "pyproject.toml has a literal version; it must read include/nn.h")
elseif(NOT _toml MATCHES "include/nn\\.h" OR NOT _toml MATCHES "NN_VERSION_STRING")
    list(APPEND _failures "pyproject.toml does not read the version from include/nn.h's NN_VERSION_STRING")
else()
    message(STATUS "pyproject.toml: version read from include/nn.h")
endif()
if(EXISTS "${SOURCE_DIR}/bindings/python/pyproject.toml")
    file(READ "${SOURCE_DIR}/bindings/python/pyproject.toml" _toml)
    if(_toml MATCHES "\nversion *= *\"([^\"]+)\"" AND NOT CMAKE_MATCH_1 STREQUAL _want)
        list(APPEND _failures "bindings/python/pyproject.toml says ${CMAKE_MATCH_1}")
    endif()
endif()

# What the build generates for the other channels.
grep("${BUILD_DIR}/nn.pc" "^Version: (.+)$" _v)
expect("nn.pc" "${_v}")
grep("${BUILD_DIR}/nnConfigVersion.cmake" "set\\(PACKAGE_VERSION \"([^\"]+)\"\\)" _v)
expect("nnConfigVersion.cmake" "${_v}")
grep("${BUILD_DIR}/CPackConfig.cmake" "set\\(CPACK_PACKAGE_VERSION \"([^\"]+)\"\\)" _v)
expect(".deb version (CPackConfig.cmake)" "${_v}")

if(_failures)
    string(REPLACE ";" "\n  " _text "${_failures}")
    message(FATAL_ERROR "versions disagree with nn.h (${_want}):\n  ${_text}")
endif()
message(STATUS "PASS: every channel says ${_want}")
