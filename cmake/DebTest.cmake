# ctest script: the Debian packages of libnn (cmake/Packaging.cmake).
#   1. cpack -G DEB builds libnn<major>_<version>_<arch>.deb and
#      libnn-dev_<version>_<arch>.deb from the build tree;
#   2. their control fields: names, version (nn.h's), Depends (libc6,
#      libstdc++6, libgcc-s1 for the runtime; the exact runtime version for
#      -dev), shlibs and the ldconfig call of the runtime;
#   3. their contents: runtime = the library and its SONAME link only;
#      -dev = nn.h, the libnn.so link, nn.pc, the CMake package;
#   4. both unpacked with dpkg -x into a scratch root, and the README's C
#      example built against that tree with the CMake package and with
#      pkg-config (ConsumerTest.cmake with PREFIX_FROM_DEB).
#   cmake -DBUILD_DIR= -DSOURCE_DIR= -DWORK_DIR= -DCC= -DPKG_CONFIG= -DVERSION= -P DebTest.cmake

cmake_minimum_required(VERSION 3.25)
include("${CMAKE_CURRENT_LIST_DIR}/ScriptHelpers.cmake")
nn_require(BUILD_DIR SOURCE_DIR WORK_DIR CC PKG_CONFIG VERSION)
# The runtime's Depends must be computed from the library, not written down.
find_program(_shlibdeps dpkg-shlibdeps)
if(NOT _shlibdeps)
    message(FATAL_ERROR "dpkg-shlibdeps (Debian's dpkg-dev) is needed to compute libnn0's dependencies")
endif()


find_program(_dpkg_deb dpkg-deb REQUIRED)
find_program(_cpack cpack HINTS "${CMAKE_COMMAND}/.." REQUIRED)
string(REGEX MATCH "^[0-9]+" _major "${VERSION}")
file(REMOVE_RECURSE "${WORK_DIR}")
file(MAKE_DIRECTORY "${WORK_DIR}/packages")

# ---- 1. build them
run_checked("${_cpack}" -G DEB --config "${BUILD_DIR}/CPackConfig.cmake" -B "${WORK_DIR}/packages")
file(GLOB _debs "${WORK_DIR}/packages/*.deb")
run_checked(dpkg --print-architecture)
set(_arch "${RUN_OUTPUT}")
set(_runtime "${WORK_DIR}/packages/libnn${_major}_${VERSION}_${_arch}.deb")
set(_dev "${WORK_DIR}/packages/libnn-dev_${VERSION}_${_arch}.deb")
foreach(_deb "${_runtime}" "${_dev}")
    if(NOT EXISTS "${_deb}")
        message(FATAL_ERROR "cpack did not make ${_deb}; it made: ${_debs}")
    endif()
endforeach()
list(LENGTH _debs _n)
if(NOT _n EQUAL 2)
    message(FATAL_ERROR "expected exactly two packages, got: ${_debs}")
endif()

# ---- 2. control fields
function(field deb name out)
    run_checked("${_dpkg_deb}" -f "${deb}" "${name}")
    set(${out} "${RUN_OUTPUT}" PARENT_SCOPE)
endfunction()
field("${_runtime}" Package _p)
field("${_runtime}" Version _v)
field("${_runtime}" Depends _d)
message(STATUS "${_p} ${_v}: Depends: ${_d}")
if(NOT _p STREQUAL "libnn${_major}" OR NOT _v STREQUAL VERSION)
    message(FATAL_ERROR "runtime package is ${_p} ${_v}, expected libnn${_major} ${VERSION}")
endif()
foreach(_dep libc6 libstdc\\+\\+6 libgcc-s1)
    if(NOT _d MATCHES "(^|, )${_dep}( |,|$)")
        message(FATAL_ERROR "libnn${_major} does not depend on ${_dep}: Depends: ${_d}")
    endif()
endforeach()
field("${_dev}" Package _p)
field("${_dev}" Version _v)
field("${_dev}" Depends _d)
message(STATUS "${_p} ${_v}: Depends: ${_d}")
if(NOT _p STREQUAL "libnn-dev" OR NOT _v STREQUAL VERSION OR NOT _d STREQUAL "libnn${_major} (= ${VERSION})")
    message(FATAL_ERROR "dev package is ${_p} ${_v} depending on '${_d}', expected libnn-dev ${VERSION} depending on libnn${_major} (= ${VERSION})")
endif()
file(MAKE_DIRECTORY "${WORK_DIR}/control")
run_checked("${_dpkg_deb}" -e "${_runtime}" "${WORK_DIR}/control")
file(READ "${WORK_DIR}/control/shlibs" _shlibs)
if(NOT _shlibs MATCHES "^libnn ${_major} libnn${_major} \\(>= ${VERSION}\\)")
    message(FATAL_ERROR "unexpected shlibs: ${_shlibs}")
endif()
set(_ldconfig FALSE)
foreach(_script postinst triggers)
    if(EXISTS "${WORK_DIR}/control/${_script}")
        file(READ "${WORK_DIR}/control/${_script}" _text)
        if(_text MATCHES "ldconfig")
            set(_ldconfig TRUE)
        endif()
    endif()
endforeach()
if(NOT _ldconfig)
    message(FATAL_ERROR "libnn${_major} does not run ldconfig on installation (no postinst or trigger names it)")
endif()

# ---- 3. contents
function(contents deb out)
    run_checked("${_dpkg_deb}" -c "${deb}")
    string(REGEX MATCHALL "\\./usr/[^ \n]+" _paths "${RUN_OUTPUT}")
    set(_files "")
    foreach(_path IN LISTS _paths)
        if(NOT _path MATCHES "/$")
            list(APPEND _files "${_path}")
        endif()
    endforeach()
    list(SORT _files)
    set(${out} "${_files}" PARENT_SCOPE)
endfunction()
contents("${_runtime}" _rt_files)
contents("${_dev}" _dev_files)
message(STATUS "libnn${_major}: ${_rt_files}")
message(STATUS "libnn-dev: ${_dev_files}")
foreach(_want "libnn\\.so\\.${VERSION}(;|$)" "libnn\\.so\\.${_major}(;|$)")
    if(NOT _rt_files MATCHES "${_want}")
        message(FATAL_ERROR "libnn${_major} lacks ${_want}")
    endif()
endforeach()
list(LENGTH _rt_files _n)
if(NOT _n EQUAL 2)
    message(FATAL_ERROR "libnn${_major} should hold the library and its SONAME link only: ${_rt_files}")
endif()
foreach(_want "/include/nn\\.h" "/libnn\\.so(;|$)" "/pkgconfig/nn\\.pc" "/cmake/nn/nnConfig\\.cmake" "/cmake/nn/nnConfigVersion\\.cmake")
    if(NOT _dev_files MATCHES "${_want}")
        message(FATAL_ERROR "libnn-dev lacks ${_want}")
    endif()
endforeach()
if(_dev_files MATCHES "libnn\\.so\\.[0-9]")
    message(FATAL_ERROR "libnn-dev must not hold the library itself")
endif()

# ---- 4. unpack and build the README example against the tree
set(_root "${WORK_DIR}/root")
run_checked(dpkg -x "${_runtime}" "${_root}")
run_checked(dpkg -x "${_dev}" "${_root}")
execute_process(
    COMMAND "${CMAKE_COMMAND}" -DPREFIX_FROM_DEB=${_root} -DSOURCE_DIR=${SOURCE_DIR}
            -DWORK_DIR=${WORK_DIR}/consumer -DCC=${CC} -DPKG_CONFIG=${PKG_CONFIG} -DVERSION=${VERSION}
            -P "${CMAKE_CURRENT_LIST_DIR}/ConsumerTest.cmake"
    RESULT_VARIABLE _rc OUTPUT_VARIABLE _out ERROR_VARIABLE _err)
message(STATUS "consumer against the unpacked packages:\n${_out}${_err}")
if(NOT _rc EQUAL 0)
    message(FATAL_ERROR "the README example did not build or run against the unpacked .deb tree")
endif()
message(STATUS "PASS")
