# One place sets warnings for C++ and CUDA targets. No approximate-math flag is ever added
# here or anywhere: it would turn the IEEE division of docs/format.md#numerics-cast into a
# reciprocal multiply and flush subnormals (docs/numerics.md names the flags).
function(qfp8_set_warnings target)
  if(MSVC)
    # Visual Studio (the Windows CUDA build, docs/windows.md): /utf-8 reads the sources as
    # the UTF-8 they are (strings with "—" and "°"); /permissive- for standard C++.
    set(cxx_warnings /W3 /utf-8 /permissive- /Zc:__cplusplus)
    if(QFP8_WERROR)
      list(APPEND cxx_warnings /WX)
    endif()
  else()
    set(cxx_warnings -Wall -Wextra -Wpedantic -Wshadow -Wconversion -Wno-sign-conversion)
    if(QFP8_WERROR)
      list(APPEND cxx_warnings -Werror)
    endif()
  endif()
  target_compile_options(${target} PRIVATE "$<$<COMPILE_LANGUAGE:CXX>:${cxx_warnings}>")
  if(MSVC)
    set(host_warnings "/W3,/utf-8")
  else()
    string(REPLACE ";" "," host_warnings "-Wall,-Wextra")
  endif()
  set(cuda_warnings -Xcompiler=${host_warnings})
  if(QFP8_WERROR)
    list(APPEND cuda_warnings -Werror=all-warnings)
  endif()
  target_compile_options(${target} PRIVATE "$<$<COMPILE_LANGUAGE:CUDA>:${cuda_warnings}>")
endfunction()
