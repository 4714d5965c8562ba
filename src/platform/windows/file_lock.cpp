// file_lock.cpp (Windows) — LockFileEx on one byte far past the end of the lock file (so
// that the holder's process id, written at offset 0, stays readable to the next writer),
// and FILE_FLAG_DELETE_ON_CLOSE: the file goes away with its last handle, even when the
// holder is killed.
#include "platform/file_lock.hpp"

#include <cstdlib>
#include <string>

#include "platform/file_status.hpp"
#include "platform/system_error.hpp"
#include "platform/windows/wide_path.hpp"

namespace qfp8::platform {
namespace {

constexpr DWORD kLockOffsetHigh = 0x40000000;  // byte 2^62: no file reaches it

OVERLAPPED lock_position() {
  OVERLAPPED at{};
  at.OffsetHigh = kLockOffsetHigh;
  return at;
}

long read_holder(HANDLE handle) {
  char text[32] = {};
  OVERLAPPED at{};
  DWORD read = 0;
  if (!ReadFile(handle, text, sizeof text - 1, &read, &at)) return 0;
  return std::strtol(text, nullptr, 10);
}

void write_holder(HANDLE handle) {
  const std::string text = std::to_string(GetCurrentProcessId()) + "\n";
  OVERLAPPED at{};
  DWORD written = 0;
  WriteFile(handle, text.data(), static_cast<DWORD>(text.size()), &written, &at);
}

}  // namespace

LockAttempt try_lock_file(const std::string& path) {
  LockAttempt attempt;
  // FILE_FLAG_OPEN_REPARSE_POINT: a symbolic link planted at the lock's name is opened
  // itself, never followed to lock or delete a file elsewhere.
  const HANDLE handle = CreateFileW(
      windows::api_path(path).c_str(), GENERIC_READ | GENERIC_WRITE | DELETE,
      FILE_SHARE_READ | FILE_SHARE_WRITE | FILE_SHARE_DELETE, nullptr, OPEN_ALWAYS,
      FILE_ATTRIBUTE_NORMAL | FILE_FLAG_DELETE_ON_CLOSE | FILE_FLAG_OPEN_REPARSE_POINT, nullptr);
  if (handle == INVALID_HANDLE_VALUE) {
    attempt.error = last_error();
    return attempt;
  }
  OVERLAPPED at = lock_position();
  if (!LockFileEx(handle, LOCKFILE_EXCLUSIVE_LOCK | LOCKFILE_FAIL_IMMEDIATELY, 0, 1, 0, &at)) {
    if (GetLastError() == ERROR_LOCK_VIOLATION || GetLastError() == ERROR_IO_PENDING) {
      attempt.outcome = LockAttempt::Outcome::held;
      attempt.holder = read_holder(handle);
      CloseHandle(handle);
      return attempt;
    }
    // Any other failure leaves the output unguarded, as on a POSIX file system without
    // record locks, rather than refusing to write at all.
  }
  if (!same_file(windows::native_of(handle), path)) {
    CloseHandle(handle);  // its previous holder has deleted it meanwhile
    attempt.outcome = LockAttempt::Outcome::retry;
    return attempt;
  }
  write_holder(handle);
  attempt.outcome = LockAttempt::Outcome::locked;
  attempt.file = windows::native_of(handle);
  return attempt;
}

// FILE_FLAG_DELETE_ON_CLOSE removes the file with the handle; closing drops the lock.
void unlock_and_remove(const std::string&, NativeFile file) noexcept {
  CloseHandle(windows::handle_of(file));
}

}  // namespace qfp8::platform
