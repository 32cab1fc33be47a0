# ctest script: libnn as a user installs and consumes it.
#   1. cmake --install <build tree> into a scratch prefix, then moved
#      elsewhere (nn.pc and nnConfig.cmake must not depend on the prefix
#      they were configured for);
#   2. the installed layout: libnn.so.X.Y.Z (stripped, SONAME libnn.so.X),
#      the links libnn.so.X and libnn.so, nn.h (the source's, unchanged),
#      nn.pc (in <libdir>/pkgconfig, its libdir the library's), lib/cmake/nn/*;
#   3. a separate CMake project (Tests/packaging/consumer) with
#      find_package(nn CONFIG REQUIRED) + nn::nn builds the README's C
#      example, which runs without LD_LIBRARY_PATH and learns XOR;
#   4. the same example with cc $(pkg-config --cflags --libs nn) and the
#      rpath the README tells users to add outside standard prefixes;
#   5. nnConfigVersion.cmake: SameMajorVersion (0.1 and X.Y found, X.(Y+1)
#      and (X+1).0 refused).
# With -DPREFIX_FROM_DEB=<root>, steps 3–5 run against an unpacked .deb tree
# (<root>/usr) instead (used by DebTest.cmake).
#   cmake -DBUILD_DIR= -DSOURCE_DIR= -DWORK_DIR= -DCC= -DPKG_CONFIG= -DVERSION= -P ConsumerTest.cmake

cmake_minimum_required(VERSION 3.25)
include("${CMAKE_CURRENT_LIST_DIR}/ScriptHelpers.cmake")
nn_require(SOURCE_DIR WORK_DIR CC PKG_CONFIG VERSION)
include("${CMAKE_CURRENT_LIST_DIR}/ReadmeExample.cmake")


# The README example prints the four XOR predictions.
function(check_xor_output text what)
    if(NOT text MATCHES "^([0-9.]+) ([0-9.]+) ([0-9.]+) ([0-9.]+)$")
        message(FATAL_ERROR "${what} printed '${text}', not four predictions")
    endif()
    if(CMAKE_MATCH_1 GREATER_EQUAL 0.5 OR CMAKE_MATCH_2 LESS_EQUAL 0.5 OR
       CMAKE_MATCH_3 LESS_EQUAL 0.5 OR CMAKE_MATCH_4 GREATER_EQUAL 0.5)
        message(FATAL_ERROR "${what} did not learn XOR: ${text}")
    endif()
    message(STATUS "${what}: ${text}")
endfunction()

string(REGEX MATCH "^[0-9]+" _major "${VERSION}")
string(REGEX REPLACE "^[0-9]+\\.([0-9]+).*" "\\1" _minor "${VERSION}")
file(REMOVE_RECURSE "${WORK_DIR}")
file(MAKE_DIRECTORY "${WORK_DIR}")
set(_example "${WORK_DIR}/readme_example.c")
nn_readme_example("${SOURCE_DIR}/README.md" "readme.c" "${_example}")

if(PREFIX_FROM_DEB)
    set(_prefix "${PREFIX_FROM_DEB}/usr")
else()
    if(NOT BUILD_DIR)
        message(FATAL_ERROR "ConsumerTest.cmake: BUILD_DIR is not set")
    endif()
    set(_prefix "${WORK_DIR}/prefix")
    run_checked("${CMAKE_COMMAND}" --install "${BUILD_DIR}" --prefix "${WORK_DIR}/staged")
    file(RENAME "${WORK_DIR}/staged" "${_prefix}")
endif()

# ---- 2. the installed layout
file(GLOB_RECURSE _real "${_prefix}/*/libnn.so.${VERSION}")
list(LENGTH _real _n)
if(NOT _n EQUAL 1)
    message(FATAL_ERROR "expected one libnn.so.${VERSION} under ${_prefix}, found: ${_real}")
endif()
get_filename_component(_libdir "${_real}" DIRECTORY)
if(IS_SYMLINK "${_real}")
    message(FATAL_ERROR "${_real} should be the file, not a link")
endif()
foreach(_link "libnn.so.${_major}=libnn.so.${VERSION}" "libnn.so=libnn.so.${_major}")
    string(REPLACE "=" ";" _pair "${_link}")
    list(GET _pair 0 _name)
    list(GET _pair 1 _target)
    if(NOT IS_SYMLINK "${_libdir}/${_name}")
        message(FATAL_ERROR "${_libdir}/${_name} is not a symbolic link")
    endif()
    file(READ_SYMLINK "${_libdir}/${_name}" _points)
    if(NOT _points STREQUAL _target)
        message(FATAL_ERROR "${_name} points to ${_points}, expected ${_target}")
    endif()
endforeach()
find_program(_objdump objdump REQUIRED)
run_checked("${_objdump}" -p "${_real}")
if(NOT RUN_OUTPUT MATCHES "SONAME +libnn\\.so\\.${_major}\n")
    message(FATAL_ERROR "the SONAME of ${_real} is not libnn.so.${_major}:\n${RUN_OUTPUT}")
endif()
run_checked("${_objdump}" -h "${_real}")
if(RUN_OUTPUT MATCHES "\\.symtab|\\.debug_info")
    message(FATAL_ERROR "${_real} is not stripped (it has .symtab or .debug_info)")
endif()
file(SIZE "${_real}" _bytes)
message(STATUS "installed ${_real}: ${_bytes} bytes, SONAME libnn.so.${_major}, stripped")
file(GLOB_RECURSE _configs "${_prefix}/*/cmake/nn/nnConfig.cmake")
file(GLOB_RECURSE _pcs "${_prefix}/*/pkgconfig/nn.pc")
if(NOT EXISTS "${_prefix}/include/nn.h" OR NOT _configs OR NOT _pcs)
    message(FATAL_ERROR "nn.h, nnConfig.cmake or nn.pc is missing under ${_prefix}")
endif()
file(SHA256 "${SOURCE_DIR}/include/nn.h" _want_sha)
file(SHA256 "${_prefix}/include/nn.h" _got_sha)
if(NOT _want_sha STREQUAL _got_sha)
    message(FATAL_ERROR "the installed nn.h differs from ${SOURCE_DIR}/include/nn.h")
endif()
if(NOT _pcs STREQUAL "${_libdir}/pkgconfig/nn.pc")
    message(FATAL_ERROR "nn.pc is at ${_pcs}, expected ${_libdir}/pkgconfig/nn.pc")
endif()

# ---- 3. find_package(nn CONFIG REQUIRED) + nn::nn
function(configure_consumer dir request)
    execute_process(
        COMMAND "${CMAKE_COMMAND}" -S "${SOURCE_DIR}/Tests/packaging/consumer" -B "${dir}"
                "-DCMAKE_PREFIX_PATH=${_prefix}" "-DNN_REQUEST=${request}"
                "-DEXAMPLE_SOURCE=${_example}" "-DCMAKE_C_COMPILER=${CC}"
                -DCMAKE_FIND_USE_PACKAGE_REGISTRY=OFF -DCMAKE_FIND_USE_SYSTEM_PACKAGE_REGISTRY=OFF
        RESULT_VARIABLE _rc OUTPUT_VARIABLE _out ERROR_VARIABLE _err)
    set(CONFIGURE_RC "${_rc}" PARENT_SCOPE)
    set(CONFIGURE_LOG "${_out}${_err}" PARENT_SCOPE)
endfunction()

configure_consumer("${WORK_DIR}/consumer" "0.1")
if(NOT CONFIGURE_RC EQUAL 0)
    message(FATAL_ERROR "the consumer project did not configure:\n${CONFIGURE_LOG}")
endif()
string(FIND "${CONFIGURE_LOG}" "found nn ${VERSION} at ${_libdir}/cmake/nn" _found_at)
if(_found_at EQUAL -1)
    message(FATAL_ERROR "find_package(nn) did not find ${VERSION} under ${_libdir}/cmake/nn:\n${CONFIGURE_LOG}")
endif()
run_checked("${CMAKE_COMMAND}" --build "${WORK_DIR}/consumer")
# Run it with no LD_LIBRARY_PATH: CMake's build rpath for nn::nn finds it.
set(ENV{LD_LIBRARY_PATH} "")
run_checked("${WORK_DIR}/consumer/readme_example")
check_xor_output("${RUN_OUTPUT}" "the README example built with find_package(nn) + nn::nn")

# ---- 4. pkg-config
set(ENV{PKG_CONFIG_PATH} "")
set(ENV{PKG_CONFIG_LIBDIR} "${_libdir}/pkgconfig")
run_checked("${PKG_CONFIG}" --modversion nn)
if(NOT RUN_OUTPUT STREQUAL VERSION)
    message(FATAL_ERROR "pkg-config --modversion nn gave '${RUN_OUTPUT}', expected ${VERSION}")
endif()
run_checked("${PKG_CONFIG}" --cflags --libs nn)
separate_arguments(_flags UNIX_COMMAND "${RUN_OUTPUT}")
run_checked("${PKG_CONFIG}" --variable=libdir nn)
file(REAL_PATH "${RUN_OUTPUT}" _pc_libdir)
file(REAL_PATH "${_libdir}" _real_libdir)
if(NOT _pc_libdir STREQUAL _real_libdir)
    message(FATAL_ERROR "nn.pc's libdir is ${_pc_libdir}, but the library is in ${_real_libdir}")
endif()
run_checked("${CC}" "${_example}" ${_flags} "-Wl,-rpath,${_pc_libdir}" -o "${WORK_DIR}/readme_pkgconfig")
run_checked("${WORK_DIR}/readme_pkgconfig")
check_xor_output("${RUN_OUTPUT}" "the README example built with pkg-config")

# ---- 5. version compatibility (SameMajorVersion)
math(EXPR _next_minor "${_minor} + 1")
math(EXPR _next_major "${_major} + 1")
foreach(_request "${_major}.${_minor}" "${_major}.${_next_minor}" "${_next_major}.0")
    configure_consumer("${WORK_DIR}/request-${_request}" "${_request}")
    if(_request STREQUAL "${_major}.${_minor}")
        set(_want 0)
    else()
        set(_want 1)
    endif()
    if((_want EQUAL 0 AND NOT CONFIGURE_RC EQUAL 0) OR (_want EQUAL 1 AND CONFIGURE_RC EQUAL 0))
        message(FATAL_ERROR "find_package(nn ${_request}) against ${VERSION}: configure returned ${CONFIGURE_RC}\n${CONFIGURE_LOG}")
    endif()
    message(STATUS "find_package(nn ${_request} CONFIG) against ${VERSION}: ${CONFIGURE_RC} (as expected)")
endforeach()
message(STATUS "PASS")
