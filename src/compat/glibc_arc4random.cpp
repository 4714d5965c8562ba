// glibc_arc4random.cpp — arc4random() for the self-contained Linux binary (QFP8_SELF_CONTAINED:
// the pip wheel), so that it runs on glibc 2.34 (Ubuntu 22.04 has 2.35, RHEL 9 2.34) and not only
// on 2.36+. The static libstdc++ of GCC 12 carries std::random_device's arc4random source
// (random.o, pulled in by cow-string-inst.o even though qfp8-cuda never makes a
// random_device), which would import arc4random@GLIBC_2.36; this definition satisfies it at
// link time. Built only into that binary (src/CMakeLists.txt), never into a shared runtime.
#include <sys/random.h>

#include <cerrno>
#include <cstdint>
#include <cstdlib>

extern "C" uint32_t arc4random(void) noexcept {
  uint32_t value = 0;
  // getrandom (glibc 2.25, Linux 3.17) fills 4 bytes at once or fails; only EINTR is retried.
  while (::getrandom(&value, sizeof value, 0) != static_cast<ssize_t>(sizeof value)) {
    if (errno != EINTR) std::abort();
  }
  return value;
}
