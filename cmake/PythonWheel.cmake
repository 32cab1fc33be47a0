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
