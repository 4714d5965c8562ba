// output_lock.hpp — one writer per output path: a record lock (POSIX fcntl, Windows
// LockFileEx) on a small lock file beside the target, so a second run writing the same
// output fails fast, naming the first.
#pragma once

#include <cstdint>
#include <string>

namespace qfp8 {

/// Holds the write lock of `target` from construction until release() or destruction.
/// The lock file is `.<name>.lock` in the target's directory (sibling_path: it fits
/// NAME_MAX). The kernel drops the lock when its holder dies, even of SIGKILL: a lock file
/// left by a killed run blocks nobody, and the next writer reuses and removes it.
class OutputLock {
 public:
  /// Throws OutputExists ("output 'X' is being written by process N") when a live process
  /// (this one included) holds the lock, or OpenFailed when the lock file cannot be made.
  explicit OutputLock(const std::string& target);
  ~OutputLock() { release(); }
  OutputLock(const OutputLock&) = delete;
  OutputLock& operator=(const OutputLock&) = delete;

  /// Removes the lock file, then drops the lock. Idempotent.
  void release() noexcept;
  const std::string& path() const { return path_; }

 private:
  bool try_acquire(const std::string& target);

  std::string path_;
  std::string key_;  // identifies the lock file within this process (see output_lock.cpp)
  intptr_t fd_ = -1;  // platform::NativeFile: a descriptor or a HANDLE
};

}  // namespace qfp8
