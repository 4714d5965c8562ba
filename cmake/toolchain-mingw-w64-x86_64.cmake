# toolchain-mingw-w64-x86_64.cmake — cross-compiles the Windows x64 build on Debian with
# MinGW-w64 (g++-mingw-w64-x86-64-posix: the posix thread model, which std::thread needs;
# the win32 model has none in GCC 12). docs/windows.md.
set(CMAKE_SYSTEM_NAME Windows)
set(CMAKE_SYSTEM_PROCESSOR x86_64)

set(qfp8_mingw_prefix x86_64-w64-mingw32)
set(CMAKE_C_COMPILER ${qfp8_mingw_prefix}-gcc-posix)
set(CMAKE_CXX_COMPILER ${qfp8_mingw_prefix}-g++-posix)
set(CMAKE_RC_COMPILER ${qfp8_mingw_prefix}-windres)

# Libraries and headers come from the MinGW sysroot only: the host's /usr/include and
# /usr/lib would mix Linux glibc into a Windows program. Programs (python3, wine64) from
# the host.
set(CMAKE_FIND_ROOT_PATH /usr/${qfp8_mingw_prefix})
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_PACKAGE ONLY)

# Test programs (Catch's test listing, ctest) run through Wine when it is installed.
# Debian's wine64 package puts it in /usr/lib/wine (the `wine` wrapper is another package).
find_program(QFP8_WINE64 NAMES wine64 wine PATHS /usr/lib/wine)
if(QFP8_WINE64)
  set(CMAKE_CROSSCOMPILING_EMULATOR "${QFP8_WINE64}")
endif()
