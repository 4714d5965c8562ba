// printf_format.hpp — QFP8_PRINTF_LIKE(FORMAT_INDEX, FIRST_ARGUMENT): lets GCC and Clang
// check the arguments of a printf-like function. MinGW's headers name the format of their
// C99 printf (gnu_printf, with __USE_MINGW_ANSI_STDIO); plain `printf` there would mean
// msvcrt's, which has no %zu. MSVC has no such attribute.
#pragma once

#if defined(__MINGW_PRINTF_FORMAT)
#define QFP8_PRINTF_LIKE(format_index, first_argument) \
  __attribute__((format(__MINGW_PRINTF_FORMAT, format_index, first_argument)))
#elif defined(__GNUC__)
#define QFP8_PRINTF_LIKE(format_index, first_argument) \
  __attribute__((format(printf, format_index, first_argument)))
#else
#define QFP8_PRINTF_LIKE(format_index, first_argument)
#endif
