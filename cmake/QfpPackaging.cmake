# What `cmake --install` puts where (GNUInstallDirs), and how `cpack` packages it: a .deb
# and a .tar.gz (docs/install.md). The version is project()'s, the only place it is written.
#
#   bin/qfp8-cuda
#   share/man/man1/qfp8-cuda.1                 (docs/qfp8-cuda.1)
#   share/doc/qfp8-cuda/README.md, docs/*.md   (same layout as the repository: links work)
#   share/doc/qfp8-cuda/LICENSE                (when the repository has one)
include(GNUInstallDirs)
# cpack and `make install` install what was built and build nothing: a package is made from a
# finished build (docs/install.md), and the package test does not rebuild the tree it runs in.
# `cmake --build DIR --target package` still builds first.
set(CMAKE_SKIP_INSTALL_ALL_DEPENDENCY ON)

install(TARGETS qfp8-cuda RUNTIME DESTINATION "${CMAKE_INSTALL_BINDIR}")
install(FILES "${PROJECT_SOURCE_DIR}/docs/qfp8-cuda.1" DESTINATION "${CMAKE_INSTALL_MANDIR}/man1")
install(FILES "${PROJECT_SOURCE_DIR}/README.md" DESTINATION "${CMAKE_INSTALL_DOCDIR}")
install(DIRECTORY "${PROJECT_SOURCE_DIR}/docs/" DESTINATION "${CMAKE_INSTALL_DOCDIR}/docs"
        FILES_MATCHING PATTERN "*.md")
set(qfp8_license "")
foreach(name LICENSE LICENSE.txt LICENSE.md COPYING)
  if(NOT qfp8_license AND EXISTS "${PROJECT_SOURCE_DIR}/${name}")
    set(qfp8_license "${PROJECT_SOURCE_DIR}/${name}")
  endif()
endforeach()
if(qfp8_license)
  install(FILES "${qfp8_license}" DESTINATION "${CMAKE_INSTALL_DOCDIR}")
  set(CPACK_RESOURCE_FILE_LICENSE "${qfp8_license}")
else()
  message(STATUS "qfp8: the repository has no LICENSE file: packages carry no license text")
endif()

# Packages. The release packages are the CUDA build's (the package preset): the CUDA
# runtime is linked statically (CUDA::cudart_static), so the same binary runs without a GPU
# or driver (CPU backend) and uses a GPU when the NVIDIA driver is there. A CPU-only build
# packages too, marked "~cpu" (its Debian version sorts below the CUDA build's).
set(qfp8_variant "")
set(qfp8_backends_text "This build has only the CPU backend (built without CUDA).")
if(QFP8_HAVE_CUDA)
  set(qfp8_cuda "CUDA ${CUDAToolkit_VERSION_MAJOR}.${CUDAToolkit_VERSION_MINOR}")
  set(qfp8_backends_text "This build has a CPU and a CUDA backend, with the ${qfp8_cuda} runtime
linked statically: it needs no CUDA toolkit, runs on the CPU without a GPU,
and uses an NVIDIA GPU when a driver that supports ${qfp8_cuda} is installed.")
else()
  set(qfp8_variant "cpu")
endif()

set(CPACK_PACKAGE_NAME "qfp8-cuda")
set(CPACK_PACKAGE_VENDOR "qfp8-cuda")
set(CPACK_PACKAGE_CONTACT "qfp8-cuda maintainers" CACHE STRING
    "Maintainer field of the .deb (Name <email>)")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY
    "convert safetensors checkpoints to ComfyUI FP8 E4M3FN scaled")
set(CPACK_PACKAGE_CHECKSUM SHA256)
set(CPACK_STRIP_FILES ON)
set(CPACK_GENERATOR "DEB;TGZ")
if(WIN32)
  set(CPACK_GENERATOR "ZIP")  # a cross-compiled Windows build: qfp8-cuda.exe in a .zip
endif()
string(TOLOWER "${CMAKE_SYSTEM_NAME}-${CMAKE_SYSTEM_PROCESSOR}" qfp8_platform)
set(CPACK_PACKAGE_FILE_NAME "qfp8-cuda-${PROJECT_VERSION}-${qfp8_platform}")
if(qfp8_variant)
  string(APPEND CPACK_PACKAGE_FILE_NAME "-${qfp8_variant}")
  set(CPACK_DEBIAN_PACKAGE_VERSION "${PROJECT_VERSION}~${qfp8_variant}")
endif()

# .deb: qfp8-cuda_VERSION_ARCH.deb; Depends computed by dpkg-shlibdeps (dpkg-dev) from the
# libraries the binary links dynamically (spdlog, fmt, libstdc++, libc).
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
set(CPACK_DEBIAN_PACKAGE_SECTION "utils")
set(CPACK_DEBIAN_PACKAGE_PRIORITY "optional")
# CPack puts CPACK_PACKAGE_DESCRIPTION_SUMMARY first, as the synopsis line.
set(CPACK_DEBIAN_PACKAGE_DESCRIPTION "qfp8-cuda converts BF16, F16 and F32 safetensors checkpoints (diffusion
models and text encoders) to the FP8 E4M3FN scaled format that ComfyUI loads,
checks such files against their source, and inspects any safetensors file.
${qfp8_backends_text}")

# The source tarball (`make package_source`): the tracked tree, without builds or git.
set(CPACK_SOURCE_GENERATOR "TGZ")
set(CPACK_SOURCE_IGNORE_FILES "/\\\\.git" "/build/" "/build-[^/]*/" "__pycache__" "\\\\.pyc$")

include(CPack)
