# One place sets warnings for C++ and CUDA targets. No approximate-math flag is ever added
# here or anywhere: it would turn the IEEE division of docs/format.md#numerics-cast into a
# reciprocal multiply and flush subnormals (docs/numerics.md names the flags).
function(qfp8_set_warnings target)
  set(cxx_warnings -Wall -Wextra -Wpedantic -Wshadow -Wconversion -Wno-sign-conversion)
  if(QFP8_WERROR)
    list(APPEND cxx_warnings -Werror)
  endif()
  target_compile_options(${target} PRIVATE "$<$<COMPILE_LANGUAGE:CXX>:${cxx_warnings}>")
  string(REPLACE ";" "," host_warnings "-Wall,-Wextra")
  set(cuda_warnings -Xcompiler=${host_warnings})
  if(QFP8_WERROR)
    list(APPEND cuda_warnings -Werror=all-warnings)
  endif()
  target_compile_options(${target} PRIVATE "$<$<COMPILE_LANGUAGE:CUDA>:${cuda_warnings}>")
endfunction()
