// file_lock.hpp — an exclusive lock on a small lock file that the system drops when its
// holder dies (fcntl() record lock / LockFileEx), naming the holder's process when it can.
#pragma once

#include <string>
#include <system_error>

#include "platform/output_file.hpp"

namespace qfp8::platform {

struct LockAttempt {
  enum class Outcome { locked, held, retry, failed };
  Outcome outcome = Outcome::failed;
  NativeFile file = kNoFile;  // locked: the lock file, open
  long holder = 0;            // held: the holder's process id, 0 when unknown
  std::error_code error;      // failed: why the lock file could not be made
};

/// Creates or opens `path` (never through a symbolic link) and tries to lock it without
/// waiting. `retry`: the file locked was removed by its previous holder meanwhile.
LockAttempt try_lock_file(const std::string& path);
/// Removes the lock file (if it is still the one `file` has open), then drops the lock.
void unlock_and_remove(const std::string& path, NativeFile file) noexcept;

}  // namespace qfp8::platform
