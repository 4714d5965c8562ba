# Every dependency comes from a Debian package (scripts/install-deps.sh); nothing is
# fetched at build time.
#
# QFP8_SELF_CONTAINED builds a binary that needs nothing but the system's C runtime (the pip
# wheels, the Windows .exe): spdlog and fmt compiled in header-only mode, libstdc++ linked
# statically (on Linux libc, libm and libgcc_s stay shared; MinGW links everything). The
# header-only packages are then used from their headers alone, staged into the build folder
# so that a cross compiler never sees the rest of the host's /usr/include (its C library
# headers would shadow the target's).
option(QFP8_SELF_CONTAINED "Header-only spdlog/fmt and a static C++ runtime" OFF)
set(QFP8_HEADER_ROOT "/usr/include" CACHE PATH
    "Where the header-only dependencies live (QFP8_SELF_CONTAINED)")

# cxxopts without std::regex (CXXOPTS_NO_REGEX: its own parsing of option names, numbers and
# booleans): with regex each file that includes cxxopts.hpp compiled its regex objects, about
# 5 s per file and build.
set(qfp8_cxxopts_definitions CXXOPTS_NO_REGEX)

if(NOT QFP8_SELF_CONTAINED)
  find_package(nlohmann_json 3.10 REQUIRED)
  find_package(cxxopts 3 REQUIRED)
  set_property(TARGET cxxopts::cxxopts APPEND PROPERTY
               INTERFACE_COMPILE_DEFINITIONS ${qfp8_cxxopts_definitions})
  find_package(spdlog 1.10 REQUIRED)
  find_package(Threads REQUIRED)
  if(QFP8_BUILD_TESTS)
    find_package(Catch2 2 REQUIRED)
  endif()
  return()
endif()

set(qfp8_header_entries nlohmann cxxopts.hpp spdlog fmt)
if(QFP8_BUILD_TESTS)
  list(APPEND qfp8_header_entries catch2)
endif()
foreach(entry ${qfp8_header_entries})
  if(NOT EXISTS "${QFP8_HEADER_ROOT}/${entry}")
    message(FATAL_ERROR "QFP8_SELF_CONTAINED: ${QFP8_HEADER_ROOT}/${entry} is missing "
                        "(scripts/install-deps.sh installs it; docs/windows.md on Windows)")
  endif()
endforeach()
if(CMAKE_HOST_WIN32)
  # A folder made for these headers alone (docs/windows.md): used as it is (symbolic links
  # need developer mode on Windows).
  set(qfp8_staged_headers "${QFP8_HEADER_ROOT}")
else()
  set(qfp8_staged_headers "${CMAKE_BINARY_DIR}/self-contained-deps/include")
  file(MAKE_DIRECTORY "${qfp8_staged_headers}")
  foreach(entry ${qfp8_header_entries})
    file(CREATE_LINK "${QFP8_HEADER_ROOT}/${entry}" "${qfp8_staged_headers}/${entry}" SYMBOLIC)
  endforeach()
endif()

# qfp8_header_only_target(NAME [DEFINITIONS...]): an imported target over the staged headers.
function(qfp8_header_only_target name)
  add_library(${name} INTERFACE IMPORTED GLOBAL)
  set_target_properties(${name} PROPERTIES
      INTERFACE_SYSTEM_INCLUDE_DIRECTORIES "${qfp8_staged_headers}"
      INTERFACE_INCLUDE_DIRECTORIES "${qfp8_staged_headers}"
      INTERFACE_COMPILE_DEFINITIONS "${ARGN}")
endfunction()
qfp8_header_only_target(nlohmann_json::nlohmann_json)
qfp8_header_only_target(cxxopts::cxxopts ${qfp8_cxxopts_definitions})
# spdlog is header-only unless SPDLOG_COMPILED_LIB is defined; Debian's tweakme.h makes it use
# the external fmt, which FMT_HEADER_ONLY makes header-only too.
qfp8_header_only_target(spdlog::spdlog FMT_HEADER_ONLY=1)
qfp8_header_only_target(Catch2::Catch2)
if(QFP8_BUILD_TESTS AND NOT COMMAND catch_discover_tests)
  # Catch.cmake (catch_discover_tests) from the Catch2 package, without its imported target.
  find_path(qfp8_catch_cmake_dir Catch.cmake PATHS /usr/lib/cmake/Catch2 NO_DEFAULT_PATH
            NO_CMAKE_FIND_ROOT_PATH REQUIRED)
  list(APPEND CMAKE_MODULE_PATH "${qfp8_catch_cmake_dir}")
endif()

set(THREADS_PREFER_PTHREAD_FLAG ON)
find_package(Threads REQUIRED)
if(MINGW)
  # One .exe with no DLLs beside it: libstdc++, libgcc and winpthreads linked in.
  add_link_options($<$<LINK_LANGUAGE:CXX>:-static>)
elseif(MSVC)
  # The static MSVC runtime: CMAKE_MSVC_RUNTIME_LIBRARY, top-level CMakeLists.txt.
else()
  # libgcc_s stays shared: GCC 12's static unwinder (libgcc_eh) calls _dl_find_object, which
  # needs glibc 2.35, while libgcc_s.so.1 is on every glibc system (manylinux allows it).
  add_link_options($<$<LINK_LANGUAGE:CXX>:-static-libstdc++>)
endif()
