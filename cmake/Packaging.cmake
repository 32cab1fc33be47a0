# Debian packages of libnn, made by CPack from the install components of
# CMakeLists.txt:
#   libnn0      runtime      libnn.so.X.Y.Z, libnn.so.X
#   libnn-dev   development  nn.h, libnn.so, nn.pc, the CMake package
#
#   make package          (or: cmake --build <build> --target package)
#   -> build/dist/packages/libnn0_X.Y.Z_amd64.deb, libnn-dev_X.Y.Z_amd64.deb
#
# Versions, names and dependencies come from the project (nn.h's version);
# the runtime's dependencies (libc6, libstdc++6, libgcc-s1, with minimum
# versions) are computed by dpkg-shlibdeps from the library itself.
# Tests/packaging's deb_packages test checks all of it.

set(CPACK_GENERATOR "DEB")
set(CPACK_PACKAGE_NAME "libnn")
set(CPACK_PACKAGE_VENDOR "libnn")
set(CPACK_PACKAGE_CONTACT "libnn maintainers <libnn@localhost>")
set(CPACK_PACKAGE_VERSION "${PROJECT_VERSION}")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "${PROJECT_DESCRIPTION}")
set(CPACK_PACKAGE_DIRECTORY "${PROJECT_BINARY_DIR}/packages")
set(CPACK_PACKAGING_INSTALL_PREFIX "/usr")
set(CPACK_STRIP_FILES OFF)  # the staged library is stripped already

set(CPACK_DEB_COMPONENT_INSTALL ON)
set(CPACK_COMPONENTS_ALL runtime development)
set(CPACK_COMPONENTS_GROUPING IGNORE)

set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_PRIORITY "optional")
set(CPACK_DEBIAN_PACKAGE_HOMEPAGE "https://example.invalid/libnn")

# libnn0: the shared library. Its package name carries the SONAME's major
# version (Debian's rule for library packages), so 1.x can be installed
# beside it one day.
set(CPACK_DEBIAN_RUNTIME_PACKAGE_NAME "libnn${PROJECT_VERSION_MAJOR}")
set(CPACK_DEBIAN_RUNTIME_PACKAGE_SECTION "libs")
set(CPACK_COMPONENT_RUNTIME_DESCRIPTION
    "small neural-network library (shared library)
libnn trains and runs multilayer networks through a plain C ABI: one
self-contained shared library with the Swift runtime linked in.")
# dpkg-shlibdeps (dpkg-dev) computes them; without it, `make package` still
# works with what it computes on Debian 12, but the deb_packages test
# requires dpkg-shlibdeps so that it checks computed dependencies.
find_program(NN_DPKG_SHLIBDEPS dpkg-shlibdeps)
if(NN_DPKG_SHLIBDEPS)
    set(CPACK_DEBIAN_RUNTIME_PACKAGE_SHLIBDEPS ON)
else()
    set(CPACK_DEBIAN_RUNTIME_PACKAGE_DEPENDS
        "libc6 (>= 2.35), libgcc-s1 (>= 3.3), libstdc++6 (>= 11)")
endif()
# shlibs file and ldconfig calls in postinst/postrm
set(CPACK_DEBIAN_PACKAGE_GENERATE_SHLIBS ON)
# ">=": a package built against libnn0 X.Y.Z accepts any later 0.x (nn.h's
# ABI policy: minor versions only add).
set(CPACK_DEBIAN_PACKAGE_GENERATE_SHLIBS_POLICY ">=")

# libnn-dev: what compiling and linking against libnn needs.
set(CPACK_DEBIAN_DEVELOPMENT_PACKAGE_NAME "libnn-dev")
set(CPACK_DEBIAN_DEVELOPMENT_PACKAGE_SECTION "libdevel")
set(CPACK_DEBIAN_DEVELOPMENT_PACKAGE_DEPENDS
    "libnn${PROJECT_VERSION_MAJOR} (= ${PROJECT_VERSION})")
set(CPACK_COMPONENT_DEVELOPMENT_DESCRIPTION
    "small neural-network library (development files)
The header nn.h (the C ABI and its reference documentation), the
libnn.so link, nn.pc for pkg-config and the CMake package
(find_package(nn CONFIG) -> nn::nn).")

include(CPack)
