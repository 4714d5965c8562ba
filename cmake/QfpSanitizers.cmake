# ASan + UBSan for host code. The sanitizer preset builds CPU-only: nvcc-compiled host
# code and the CUDA runtime do not mix with ASan's shadow memory.
if(QFP8_SANITIZE)
  set(qfp8_sanitize_flags -fsanitize=address,undefined -fno-sanitize-recover=all
      -fno-omit-frame-pointer)
  add_compile_options("$<$<COMPILE_LANGUAGE:CXX>:${qfp8_sanitize_flags}>")
  # GCC 12 reports -Wmaybe-uninitialized false positives inside libstdc++'s std::regex
  # (instantiated through cxxopts) once ASan instrumentation changes inlining; the normal
  # builds keep the warning, and as errors in CI.
  if(CMAKE_CXX_COMPILER_ID STREQUAL "GNU")
    add_compile_options("$<$<COMPILE_LANGUAGE:CXX>:-Wno-maybe-uninitialized>")
  endif()
  add_link_options(-fsanitize=address,undefined)
endif()
