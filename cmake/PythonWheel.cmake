# The Python wheel's install rule, included from CMakeLists.txt only under
# scikit-build-core (if(SKBUILD)), which drives this project from the root
# pyproject.toml (`pip install .`, `pip wheel .`, `python -m build`).
#
# The wheel holds the Python package `nn` (bindings/python/nn, copied by
# scikit-build-core's wheel.packages) and libnn.so inside it, where the
# loader (nn/_lib.py) looks first. This rule is the only one in COMPONENT
# python, and pyproject.toml installs only that component
# (install.components = ["python"]): the header, nn.pc, the CMake package
# and the SONAME links of the `runtime`/`development` components stay out
# of the wheel.
#
# The file installed is the staged copy behind the IMPORTED target nn
# (<build>/lib/libnn.so.X.Y.Z, already stripped with --strip-unneeded, SONAME
# libnn.so.X), as a regular file named libnn.so: a wheel cannot hold
# symbolic links, and ctypes loads it by path, so the SONAME links are not
# needed. libnn.so links only libc, libm, libstdc++ and libgcc_s (the Swift
# runtime is static) and no Python, so one wheel serves every Python 3
# (wheel.py-api = "py3": py3-none-<platform>).

install(FILES "$<TARGET_FILE:nn>"
        DESTINATION nn
        RENAME "libnn.so"
        PERMISSIONS OWNER_READ OWNER_WRITE OWNER_EXECUTE
                    GROUP_READ GROUP_EXECUTE WORLD_READ WORLD_EXECUTE
        COMPONENT python)

# The optional compiled helper nn/_speedups.abi3.so (bindings/python/nn/
# _speedups.c: Sequential.predict's call into libnn without ctypes). It uses
# CPython's stable ABI of 3.11 and links neither Python nor libnn (nn/_fast.py
# hands it the loaded libnn's nn_model_predict), so the wheel keeps its
# py3-none tag: on CPython >= 3.11 the helper loads, anywhere else the
# package goes through ctypes as before. Built when the Python that builds
# the wheel is such a CPython with its headers.
# A free-threaded CPython has no stable ABI, and a helper that does not
# compile (headers, compiler) leaves the wheel without it, not unbuilt.
find_package(Python 3.11 COMPONENTS Interpreter Development.Module)
set(_nn_speedups OFF)
if(Python_FOUND AND Python_INTERPRETER_ID STREQUAL "Python")
    execute_process(COMMAND "${Python_EXECUTABLE}" -c
                            "import sysconfig; print(int(bool(sysconfig.get_config_var('Py_GIL_DISABLED'))))"
                    OUTPUT_VARIABLE _nn_gil_disabled OUTPUT_STRIP_TRAILING_WHITESPACE)
    if(NOT _nn_gil_disabled STREQUAL "1")
        include(CheckCSourceCompiles)
        set(CMAKE_REQUIRED_INCLUDES ${Python_INCLUDE_DIRS})
        check_c_source_compiles("
#define Py_LIMITED_API 0x030B0000
#include <Python.h>
int main(void) { Py_buffer view; (void)view; return PyBUF_C_CONTIGUOUS != 0 ? 0 : 1; }"
                                NN_PYTHON_STABLE_ABI_HEADERS)
        unset(CMAKE_REQUIRED_INCLUDES)
        set(_nn_speedups ${NN_PYTHON_STABLE_ABI_HEADERS})
    endif()
endif()
if(_nn_speedups)
    add_library(nn_speedups MODULE "${CMAKE_CURRENT_SOURCE_DIR}/bindings/python/nn/_speedups.c")
    target_include_directories(nn_speedups PRIVATE ${Python_INCLUDE_DIRS}
                               "${CMAKE_CURRENT_SOURCE_DIR}/include")
    set_target_properties(nn_speedups PROPERTIES
                          OUTPUT_NAME "_speedups" PREFIX "" SUFFIX ".abi3.so"
                          C_STANDARD 11 C_STANDARD_REQUIRED ON C_VISIBILITY_PRESET hidden)
    # It calls no libc function, but auditwheel (and the loader's view of
    # what it needs) expects an extension to name the libc it was built for.
    target_link_libraries(nn_speedups PRIVATE "-Wl,--no-as-needed" c)
    install(TARGETS nn_speedups LIBRARY DESTINATION nn COMPONENT python)
else()
    message(STATUS "libnn: no CPython >= 3.11 with the stable ABI and its headers; the wheel has no compiled helper "
                   "(nn/_speedups.c) and predict goes through ctypes")
endif()
