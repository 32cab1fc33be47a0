# ctest script: installs the build tree into a scratch prefix, moves the
# installed tree elsewhere (nn.pc must not depend on the prefix it was
# configured for), and builds and runs an example with pkg-config only:
#   cc xor.c $(pkg-config --cflags --libs nn)
#   cmake -DBUILD_DIR=<build tree> -DPREFIX=<scratch> -DCC=<cc>
#         -DPKG_CONFIG=<pkg-config> -DSOURCE=<xor.c> -DHEADER=<nn.h>
#         -DEXPECTED_VERSION=<x.y.z> -P InstallTest.cmake

cmake_minimum_required(VERSION 3.25)

include("${CMAKE_CURRENT_LIST_DIR}/ScriptHelpers.cmake")
nn_require(BUILD_DIR PREFIX CC PKG_CONFIG SOURCE HEADER EXPECTED_VERSION)


set(_staged "${PREFIX}/staged")
set(_moved "${PREFIX}/moved")
file(REMOVE_RECURSE "${PREFIX}")
run_checked("${CMAKE_COMMAND}" --install "${BUILD_DIR}" --prefix "${_staged}")
file(RENAME "${_staged}" "${_moved}")

# The three installed files.
if(NOT EXISTS "${_moved}/include/nn.h")
    message(FATAL_ERROR "include/nn.h was not installed")
endif()
file(SHA256 "${HEADER}" _want)
file(SHA256 "${_moved}/include/nn.h" _got)
if(NOT _want STREQUAL _got)
    message(FATAL_ERROR "the installed nn.h differs from ${HEADER}")
endif()
file(GLOB_RECURSE _pc_files "${_moved}/*/nn.pc")
file(GLOB_RECURSE _libs "${_moved}/*/libnn.so")
list(LENGTH _pc_files _n_pc)
list(LENGTH _libs _n_libs)
if(NOT _n_pc EQUAL 1 OR NOT _n_libs EQUAL 1)
    message(FATAL_ERROR "expected one nn.pc and one libnn.so under ${_moved}, found: ${_pc_files} ${_libs}")
endif()
get_filename_component(_pc_dir "${_pc_files}" DIRECTORY)
get_filename_component(_pc_parent "${_pc_dir}" DIRECTORY)
get_filename_component(_lib_dir "${_libs}" DIRECTORY)
if(NOT _pc_parent STREQUAL _lib_dir OR NOT _pc_dir MATCHES "/pkgconfig$")
    message(FATAL_ERROR "nn.pc is in ${_pc_dir}, expected <libdir>/pkgconfig beside ${_libs}")
endif()

# pkg-config sees only the moved tree.
set(ENV{PKG_CONFIG_PATH} "${_pc_dir}")
set(ENV{PKG_CONFIG_LIBDIR} "${_pc_dir}")
run_checked("${PKG_CONFIG}" --modversion nn)
if(NOT RUN_OUTPUT STREQUAL EXPECTED_VERSION)
    message(FATAL_ERROR "pkg-config --modversion nn gave '${RUN_OUTPUT}', expected '${EXPECTED_VERSION}'")
endif()
run_checked("${PKG_CONFIG}" --variable=libdir nn)
file(REAL_PATH "${RUN_OUTPUT}" _pc_libdir)
file(REAL_PATH "${_lib_dir}" _real_lib_dir)
if(NOT _pc_libdir STREQUAL _real_lib_dir)
    message(FATAL_ERROR "nn.pc's libdir is ${_pc_libdir}, but libnn.so is in ${_real_lib_dir}")
endif()
run_checked("${PKG_CONFIG}" --cflags --libs nn)
separate_arguments(_flags UNIX_COMMAND "${RUN_OUTPUT}")
message(STATUS "pkg-config --cflags --libs nn: ${RUN_OUTPUT}")

set(_exe "${PREFIX}/xor_pkgconfig")
run_checked("${CC}" "${SOURCE}" ${_flags} "-Wl,-rpath,${_pc_libdir}" -o "${_exe}")
run_checked("${_exe}")
message(STATUS "xor built against the installed tree printed:\n${RUN_OUTPUT}")
if(NOT RUN_OUTPUT MATCHES "final MSE")
    message(FATAL_ERROR "xor did not print its final MSE")
endif()
