// output_lock.cpp — the writer lock of an output path: a lock on `.<name>.lock`
// (platform/file_lock.hpp: fcntl() on POSIX, LockFileEx on Windows), and a table of the
// locks this process holds.
#include "safetensors/output_lock.hpp"

#include <mutex>
#include <set>

#include "core/error.hpp"
#include "platform/file_lock.hpp"
#include "platform/file_status.hpp"
#include "platform/path.hpp"
#include "platform/process.hpp"
#include "safetensors/interrupt_cleanup.hpp"
#include "safetensors/output_target.hpp"

namespace qfp8 {
namespace {

// POSIX record locks belong to the process: a second lock by this process on the same file
// succeeds, and closing any descriptor of the file drops the first one's lock. So the
// process keeps its own table of held lock files, consulted before the file is opened.
std::mutex g_held_mutex;
std::set<std::string> g_held;

// The lock file's identity for that table: its directory's device and inode and its name,
// the same for every spelling of the path ("out", "./out", "/abs/out").
std::string process_key(const std::string& lock_path) {
  const std::string directory = platform::directory_identity(directory_of(lock_path), "");
  if (directory.empty()) return lock_path;
  const auto slash = platform::last_separator(lock_path);
  const std::string name = slash == std::string::npos ? lock_path : lock_path.substr(slash + 1);
  return directory + "/" + name;
}

Error being_written(const std::string& target, long holder) {
  // 0 when the holder is unknown (on Linux: it lives in another PID namespace).
  const std::string who =
      holder > 0 ? "process " + std::to_string(holder) : "another process";
  return Error(ErrorCode::OutputExists, target, "",
               "output '" + target + "' is being written by " + who +
                   " (wait for it to finish, or write elsewhere)");
}

}  // namespace

OutputLock::OutputLock(const std::string& target)
    : path_(sibling_path(target, ".", ".lock")), key_(process_key(path_)) {
  {
    std::lock_guard<std::mutex> guard(g_held_mutex);
    if (!g_held.insert(key_).second) throw being_written(target, platform::process_id());
  }
  try {
    // Each retry means the file we locked had just been unlinked by a finishing writer;
    // 100 in a row would take 100 writers finishing within microseconds.
    for (int attempt = 0; attempt < 100; ++attempt) {
      if (try_acquire(target)) return;
    }
    throw Error(ErrorCode::OpenFailed, target, "",
                "cannot lock '" + path_ + "': it keeps being replaced");
  } catch (...) {
    std::lock_guard<std::mutex> guard(g_held_mutex);
    g_held.erase(key_);
    throw;
  }
}

bool OutputLock::try_acquire(const std::string& target) {
  const platform::LockAttempt attempt = platform::try_lock_file(path_);
  switch (attempt.outcome) {
    case platform::LockAttempt::Outcome::failed:
      throw Error(ErrorCode::OpenFailed, target, "",
                  with_error("cannot create the lock file '" + path_ + "'", attempt.error));
    case platform::LockAttempt::Outcome::held:
      throw being_written(target, attempt.holder);
    case platform::LockAttempt::Outcome::retry:
      return false;  // released in between, or replaced: try again
    case platform::LockAttempt::Outcome::locked:
      break;
  }
  fd_ = attempt.file;
  // Only now is the file ours to remove, on a signal too.
  detail::register_temp_path(path_);
  return true;
}

void OutputLock::release() noexcept {
  if (fd_ == platform::kNoFile) return;
  detail::unregister_temp_path(path_);
  platform::unlock_and_remove(path_, fd_);
  fd_ = platform::kNoFile;
  std::lock_guard<std::mutex> guard(g_held_mutex);
  g_held.erase(key_);
}

}  // namespace qfp8
