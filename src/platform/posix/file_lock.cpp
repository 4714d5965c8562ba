// file_lock.cpp (POSIX) — an fcntl() write lock on the whole file, re-checked by inode
// (the file may be unlinked by its previous holder while we wait for it).
#include "platform/file_lock.hpp"

#include <cerrno>
#include <fcntl.h>
#include <unistd.h>

#include "platform/file_status.hpp"
#include "platform/system_error.hpp"

namespace qfp8::platform {
namespace {

struct flock whole_file(short type) {
  struct flock lock {};
  lock.l_type = type;
  lock.l_whence = SEEK_SET;
  lock.l_start = 0;
  lock.l_len = 0;  // to the end, however the file grows
  return lock;
}

}  // namespace

LockAttempt try_lock_file(const std::string& path) {
  LockAttempt attempt;
  // O_NOFOLLOW: a symbolic link planted at the lock's name must not make us create or
  // lock a file elsewhere.
  const int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0644);
  if (fd < 0) {
    attempt.error = last_error();
    return attempt;
  }
  struct flock lock = whole_file(F_WRLCK);
  if (::fcntl(fd, F_SETLK, &lock) != 0 && (errno == EACCES || errno == EAGAIN)) {
    struct flock holder = whole_file(F_WRLCK);
    const bool held = ::fcntl(fd, F_GETLK, &holder) == 0 && holder.l_type != F_UNLCK;
    ::close(fd);
    // l_pid is 0 when the holder lives in another PID namespace (another container).
    attempt.outcome = held ? LockAttempt::Outcome::held : LockAttempt::Outcome::retry;
    attempt.holder = held ? static_cast<long>(holder.l_pid) : 0;
    return attempt;
  }
  // Any other failure (ENOLCK: a file system without record locks) leaves the output
  // unguarded, as it was before locks existed, rather than refusing to write at all.
  if (!same_file(fd, path)) {
    ::close(fd);  // we locked a file its previous holder had already unlinked
    attempt.outcome = LockAttempt::Outcome::retry;
    return attempt;
  }
  attempt.outcome = LockAttempt::Outcome::locked;
  attempt.file = fd;
  return attempt;
}

void unlock_and_remove(const std::string& path, NativeFile file) noexcept {
  // Unlinked while still locked: a process that opened it meanwhile finds, once it gets
  // the lock, that the name no longer leads to its file, and starts over.
  if (same_file(file, path)) ::unlink(path.c_str());
  ::close(static_cast<int>(file));
}

}  // namespace qfp8::platform
