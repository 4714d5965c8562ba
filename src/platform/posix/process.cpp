// process.cpp (POSIX) — getpid, sched_getaffinity, isatty, argv, mkdtemp.
#include "platform/process.hpp"

#include <sched.h>
#include <stdlib.h>
#include <unistd.h>

#include "platform/system_error.hpp"

namespace qfp8::platform {

long process_id() { return static_cast<long>(::getpid()); }

unsigned affinity_cpu_count() {
  cpu_set_t set;
  CPU_ZERO(&set);
  // Fails only on hosts with more than CPU_SETSIZE (1024) CPUs: then the count is unknown.
  if (::sched_getaffinity(0, sizeof set, &set) != 0) return 0;
  return static_cast<unsigned>(CPU_COUNT(&set));
}

bool stderr_is_terminal() { return ::isatty(STDERR_FILENO) != 0; }

std::vector<std::string> utf8_arguments(int argc, char** argv) {
  return std::vector<std::string>(argv, argv + argc);
}

std::error_code make_temp_directory(const std::string& prefix, std::string& path) {
  const char* base = std::getenv("TMPDIR");
  path = std::string(base != nullptr && *base != '\0' ? base : "/tmp") + "/" + prefix + "XXXXXX";
  if (::mkdtemp(path.data()) == nullptr) return last_error();
  return {};
}

void remove_directory(const std::string& path) noexcept { ::rmdir(path.c_str()); }

}  // namespace qfp8::platform
