// system_error.cpp (Windows) — GetLastError() as a std::error_code whose message is the
// system's text and which compares equal to the std::errc conditions the callers test.
#include "platform/system_error.hpp"

#include <string>

#include "platform/windows/wide_path.hpp"

namespace qfp8::platform {
namespace {

class WindowsCategory final : public std::error_category {
 public:
  const char* name() const noexcept override { return "windows"; }

  // An error with a POSIX counterpart reads as on Linux ("No such file or directory"), so
  // that messages and scripts that match them are the same on both systems; the others
  // in the system's words.
  std::string message(int code) const override {
    const std::error_condition condition = default_error_condition(code);
    if (condition.category() == std::generic_category()) return condition.message();
    wchar_t* buffer = nullptr;
    const DWORD length = FormatMessageW(
        FORMAT_MESSAGE_ALLOCATE_BUFFER | FORMAT_MESSAGE_FROM_SYSTEM | FORMAT_MESSAGE_IGNORE_INSERTS,
        nullptr, static_cast<DWORD>(code), 0, reinterpret_cast<wchar_t*>(&buffer), 0, nullptr);
    std::string text = windows::narrow(buffer, length);
    if (buffer != nullptr) LocalFree(buffer);
    // "The system cannot find the file specified.\r\n" -> without the line end and period.
    while (!text.empty() && (text.back() == '\n' || text.back() == '\r' || text.back() == ' ' ||
                             text.back() == '.')) {
      text.pop_back();
    }
    if (text.empty()) text = "Windows error " + std::to_string(code);
    return text;
  }

  std::error_condition default_error_condition(int code) const noexcept override {
    switch (code) {
      case ERROR_FILE_NOT_FOUND:
      case ERROR_PATH_NOT_FOUND:
      case ERROR_INVALID_DRIVE:
        return std::errc::no_such_file_or_directory;
      case ERROR_FILE_EXISTS:
      case ERROR_ALREADY_EXISTS:
        return std::errc::file_exists;
      case ERROR_ACCESS_DENIED:
        return std::errc::permission_denied;
      case ERROR_SHARING_VIOLATION:
      case ERROR_LOCK_VIOLATION:
        return std::errc::resource_unavailable_try_again;
      case ERROR_DIRECTORY:
        return std::errc::not_a_directory;
      case ERROR_NOACCESS:
        return std::errc::bad_address;
      case ERROR_DISK_FULL:
      case ERROR_HANDLE_DISK_FULL:
        return std::errc::no_space_on_device;
      case ERROR_NOT_ENOUGH_MEMORY:
      case ERROR_OUTOFMEMORY:
        return std::errc::not_enough_memory;
      default:
        return {code, *this};
    }
  }
};

}  // namespace

std::error_code last_error() {
  static const WindowsCategory category;
  return {static_cast<int>(GetLastError()), category};
}

}  // namespace qfp8::platform
