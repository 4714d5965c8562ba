// output_lock.cpp — the writer lock of an output path: an fcntl() write lock on
// `.<name>.lock`, re-checked by inode (the file may be unlinked by its previous holder
// while we wait for it), and a table of the locks this process holds.
#include "safetensors/output_lock.hpp"

#include <cerrno>
#include <fcntl.h>
#include <mutex>
#include <set>
#include <sys/stat.h>
#include <unistd.h>

#include "core/error.hpp"
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
  struct stat directory {};
  if (::stat(directory_of(lock_path).c_str(), &directory) != 0) return lock_path;
  const auto slash = lock_path.rfind('/');
  const std::string name = slash == std::string::npos ? lock_path : lock_path.substr(slash + 1);
  return std::to_string(directory.st_dev) + ":" + std::to_string(directory.st_ino) + "/" + name;
}

Error being_written(const std::string& target, pid_t holder) {
  // l_pid is 0 when the holder lives in another PID namespace (another container).
  const std::string who =
      holder > 0 ? "process " + std::to_string(holder) : "another process";
  return Error(ErrorCode::OutputExists, target, "",
               "output '" + target + "' is being written by " + who +
                   " (wait for it to finish, or write elsewhere)");
}

struct flock whole_file(short type) {
  struct flock lock {};
  lock.l_type = type;
  lock.l_whence = SEEK_SET;
  lock.l_start = 0;
  lock.l_len = 0;  // to the end, however the file grows
  return lock;
}

bool same_file(const struct stat& a, const struct stat& b) {
  return a.st_dev == b.st_dev && a.st_ino == b.st_ino;
}

}  // namespace

OutputLock::OutputLock(const std::string& target)
    : path_(sibling_path(target, ".", ".lock")), key_(process_key(path_)) {
  {
    std::lock_guard<std::mutex> guard(g_held_mutex);
    if (!g_held.insert(key_).second) throw being_written(target, ::getpid());
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
  // O_NOFOLLOW: a symbolic link planted at the lock's name must not make us create or
  // lock a file elsewhere.
  const int fd = ::open(path_.c_str(), O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0644);
  if (fd < 0) {
    throw Error(ErrorCode::OpenFailed, target, "",
                with_errno("cannot create the lock file '" + path_ + "'", errno));
  }
  struct flock lock = whole_file(F_WRLCK);
  if (::fcntl(fd, F_SETLK, &lock) != 0 && (errno == EACCES || errno == EAGAIN)) {
    struct flock holder = whole_file(F_WRLCK);
    const bool held = ::fcntl(fd, F_GETLK, &holder) == 0 && holder.l_type != F_UNLCK;
    ::close(fd);
    if (held) throw being_written(target, holder.l_pid);
    return false;  // released in between: try again
  }
  // Any other failure (ENOLCK: a file system without record locks) leaves the output
  // unguarded, as it was before locks existed, rather than refusing to write at all.
  struct stat opened {};
  struct stat named {};
  if (::fstat(fd, &opened) != 0 || ::lstat(path_.c_str(), &named) != 0 ||
      !same_file(opened, named)) {
    ::close(fd);  // we locked a file its previous holder had already unlinked
    return false;
  }
  fd_ = fd;
  // Only now is the file ours to remove, on a signal too.
  detail::register_temp_path(path_);
  return true;
}

void OutputLock::release() noexcept {
  if (fd_ < 0) return;
  detail::unregister_temp_path(path_);
  // Unlinked while still locked: a process that opened it meanwhile finds, once it gets
  // the lock, that the name no longer leads to its file, and starts over.
  struct stat opened {};
  struct stat named {};
  if (::fstat(fd_, &opened) == 0 && ::lstat(path_.c_str(), &named) == 0 &&
      same_file(opened, named)) {
    ::unlink(path_.c_str());
  }
  ::close(fd_);
  fd_ = -1;
  std::lock_guard<std::mutex> guard(g_held_mutex);
  g_held.erase(key_);
}

}  // namespace qfp8
