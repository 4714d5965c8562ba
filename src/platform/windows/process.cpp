// process.cpp (Windows) — GetCurrentProcessId, the processors of every processor group
// (GetActiveProcessorCount) or the process's affinity mask, a console on stderr, the
// UTF-16 command line as UTF-8, GetTempPathW + CreateDirectoryW.
#include "platform/process.hpp"

#include <bitset>
#include <cstdio>

#include "platform/system_error.hpp"
#include "platform/windows/wide_path.hpp"

#include <shellapi.h>  // after <windows.h> (wide_path.hpp)

namespace qfp8::platform {

using windows::narrow;
using windows::widen;

long process_id() { return static_cast<long>(GetCurrentProcessId()); }

unsigned affinity_cpu_count() {
  // Since Windows 11 a process runs on every processor group, unless it was given an
  // affinity mask: then it is confined to that mask's (single) group.
  DWORD_PTR process_mask = 0;
  DWORD_PTR system_mask = 0;
  if (GetProcessAffinityMask(GetCurrentProcess(), &process_mask, &system_mask) &&
      process_mask != system_mask && process_mask != 0) {
    return static_cast<unsigned>(std::bitset<sizeof(DWORD_PTR) * 8>(process_mask).count());
  }
  return static_cast<unsigned>(GetActiveProcessorCount(ALL_PROCESSOR_GROUPS));
}

// A console, not a file, pipe or NUL (_isatty() also says yes for NUL).
bool stderr_is_terminal() {
  DWORD mode = 0;
  return GetConsoleMode(GetStdHandle(STD_ERROR_HANDLE), &mode) != 0;
}

std::vector<std::string> utf8_arguments(int argc, char** argv) {
  // The console shows the UTF-8 we print (paths, names) instead of code page 437/1252.
  SetConsoleOutputCP(CP_UTF8);
  int count = 0;
  wchar_t** wide = CommandLineToArgvW(GetCommandLineW(), &count);
  if (wide == nullptr) return std::vector<std::string>(argv, argv + argc);
  std::vector<std::string> arguments;
  arguments.reserve(static_cast<std::size_t>(count));
  for (int i = 0; i < count; ++i) arguments.push_back(narrow(wide[i], wcslen(wide[i])));
  LocalFree(wide);
  return arguments;
}

std::error_code make_temp_directory(const std::string& prefix, std::string& path) {
  wchar_t base[MAX_PATH + 1];
  const DWORD length = GetTempPathW(MAX_PATH + 1, base);  // ends with '\'
  if (length == 0) return last_error();
  const std::string directory = narrow(base, length);
  // GetTickCount64 and the process id make a name that another run is unlikely to hold;
  // a taken one is skipped.
  unsigned long long seed = GetTickCount64() ^ (static_cast<unsigned long long>(GetCurrentProcessId()) << 32);
  for (int attempt = 0; attempt < 100; ++attempt) {
    char suffix[17];
    std::snprintf(suffix, sizeof suffix, "%06llx", (seed + static_cast<unsigned long long>(attempt) * 7919) & 0xffffffull);
    path = directory + prefix + suffix;
    if (CreateDirectoryW(windows::api_path(path).c_str(), nullptr)) return {};
    if (GetLastError() != ERROR_ALREADY_EXISTS) return last_error();
  }
  return std::make_error_code(std::errc::file_exists);
}

void remove_directory(const std::string& path) noexcept {
  RemoveDirectoryW(windows::api_path(path).c_str());
}

}  // namespace qfp8::platform
