// byte_sink.cpp — MemorySink, and AtomicFileSink: an unnamed (O_TMPFILE) or `.partial`
// file, fsync, a link or rename that never replaces what it must not, a directory fsync,
// and cleanup on error or signal.
#include "safetensors/byte_sink.hpp"

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>

#include "core/error.hpp"
#include "safetensors/interrupt_cleanup.hpp"
#include "safetensors/output_lock.hpp"
#include "safetensors/output_target.hpp"

namespace qfp8 {

// --- MemorySink -----------------------------------------------------------------------

void MemorySink::write(const void* data, uint64_t size) {
  if (committed_) throw Error(ErrorCode::Internal, "cannot write to a committed sink");
  const auto* bytes = static_cast<const uint8_t*>(data);
  bytes_.insert(bytes_.end(), bytes, bytes + size);
}

void MemorySink::write_at(uint64_t offset, const void* data, uint64_t size) {
  if (committed_) throw Error(ErrorCode::Internal, "cannot write to a committed sink");
  if (offset > bytes_.size() || size > bytes_.size() - offset) {
    throw Error(ErrorCode::Internal, "cannot overwrite bytes that were never written");
  }
  if (size > 0) std::memcpy(bytes_.data() + offset, data, size);
}

// --- AtomicFileSink -------------------------------------------------------------------
namespace {

// The directory must exist, be a directory, and take new files: checked before anything
// is created, so an unwritable output fails before the (long) conversion starts.
void check_directory(const std::string& target) {
  const std::string directory = directory_of(target);
  struct stat info {};
  if (::stat(directory.c_str(), &info) != 0) {
    throw Error(ErrorCode::OpenFailed, target, "",
                with_errno("cannot write into '" + directory + "'", errno));
  }
  if (!S_ISDIR(info.st_mode)) {
    throw Error(ErrorCode::OpenFailed, target, "",
                with_errno("cannot write into '" + directory + "'", ENOTDIR));
  }
  if (::access(directory.c_str(), W_OK | X_OK) != 0) {
    throw Error(ErrorCode::OpenFailed, target, "",
                with_errno("cannot write into '" + directory + "'", errno));
  }
}

Error output_exists(const std::string& target) {
  return Error(ErrorCode::OutputExists, target, "",
               "output '" + target + "' already exists (use --force to replace it)");
}

bool same_file(const struct stat& a, const struct stat& b) {
  return a.st_dev == b.st_dev && a.st_ino == b.st_ino;
}

// A `.partial` replaced behind our back (by a writer that ignores the lock) is not ours to
// publish: a run renames into place only the file it wrote.
Error not_ours(const std::string& target, const std::string& partial) {
  return Error(ErrorCode::WriteFailed, target, "",
               "cannot rename '" + partial + "': it is no longer the file written here");
}

// Makes the link or rename itself durable. Some file systems refuse fsync on a directory
// (EINVAL): nothing more can be done there, and the data itself is already synced.
void fsync_directory(const std::string& target) {
  const int fd = ::open(directory_of(target).c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return;
  const int result = ::fsync(fd);
  const int saved = errno;
  ::close(fd);
  if (result != 0 && saved != EINVAL) {
    throw Error(ErrorCode::WriteFailed, target, "", with_errno("cannot sync the directory of '" + target + "'", saved));
  }
}

// Renames without ever replacing an existing target. renameat2 is atomic; where the file
// system lacks RENAME_NOREPLACE (EINVAL) or the kernel lacks renameat2 (ENOSYS), link() +
// unlink() gives the same guarantee (link fails with EEXIST).
void rename_no_replace(const std::string& from, const std::string& to) {
  if (::renameat2(AT_FDCWD, from.c_str(), AT_FDCWD, to.c_str(), RENAME_NOREPLACE) == 0) return;
  if (errno == EEXIST) throw output_exists(to);
  if (errno != EINVAL && errno != ENOSYS) {
    throw Error(ErrorCode::WriteFailed, to, "", with_errno("cannot rename '" + from + "'", errno));
  }
  if (::link(from.c_str(), to.c_str()) != 0) {
    if (errno == EEXIST) throw output_exists(to);
    throw Error(ErrorCode::WriteFailed, to, "", with_errno("cannot link '" + from + "'", errno));
  }
  ::unlink(from.c_str());
}

// Gives the unnamed file open as /proc/self/fd/N the name `to`; fails with EEXIST rather
// than replace anything. Through /proc with AT_SYMLINK_FOLLOW, linkat needs no capability
// (AT_EMPTY_PATH on the descriptor itself needs CAP_DAC_READ_SEARCH on older kernels).
int link_unnamed(const std::string& proc_path, const std::string& to) {
  return ::linkat(AT_FDCWD, proc_path.c_str(), AT_FDCWD, to.c_str(), AT_SYMLINK_FOLLOW);
}

}  // namespace

AtomicFileSink::AtomicFileSink(std::string target, AtomicFileOptions options)
    : target_(std::move(target)),
      partial_path_(sibling_path(target_, "", ".partial")),
      options_(options) {
  check_output_target(target_, options_.overwrite);
  check_directory(target_);
  lock_ = std::make_unique<OutputLock>(target_);
  // With the lock held no live writer owns a `.partial`: one left by a killed run (or by a
  // file system without O_TMPFILE) is ours to remove.
  if (::unlink(partial_path_.c_str()) != 0 && errno != ENOENT) {
    throw Error(ErrorCode::OpenFailed, target_, "",
                with_errno("cannot remove stale '" + partial_path_ + "'", errno));
  }
  if (options_.unnamed) open_unnamed();
  if (fd_ < 0) open_named();
}

void AtomicFileSink::open_unnamed() {
  // Refused where the file system lacks it (EOPNOTSUPP: NFS, older overlayfs; EISDIR or
  // EINVAL: kernels before 3.11): then the named file is used, and reports real errors.
  const int fd = ::open(directory_of(target_).c_str(), O_TMPFILE | O_WRONLY | O_CLOEXEC, 0644);
  if (fd < 0) return;
  const std::string proc_path = "/proc/self/fd/" + std::to_string(fd);
  // Without /proc the file could never be linked into place.
  if (::access(proc_path.c_str(), F_OK) != 0) {
    ::close(fd);
    return;
  }
  fd_ = fd;
  unnamed_ = true;
  temp_path_ = proc_path;
}

void AtomicFileSink::open_named() {
  // Registered before the file exists, so a signal arriving between open() and the
  // registration cannot leave an empty `.partial` behind.
  detail::register_temp_path(partial_path_);
  fd_ = ::open(partial_path_.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
  if (fd_ < 0) {
    const int saved = errno;
    detail::unregister_temp_path(partial_path_);
    throw Error(ErrorCode::OpenFailed, target_, "",
                with_errno("cannot create '" + partial_path_ + "'", saved));
  }
  partial_named_ = true;
  temp_path_ = partial_path_;
}

AtomicFileSink::~AtomicFileSink() { discard(); }

void AtomicFileSink::write(const void* data, uint64_t size) {
  write_all_at(size_, data, size);
  size_ += size;
  // Start writeback of every full 64 MiB written so far, without waiting for it: the disk
  // works while we compute, the final fsync has little left to do, and a multi-GB output
  // never piles up enough dirty pages for the kernel to throttle us. Advisory only: the
  // fsync in commit() is what makes the file durable.
  constexpr uint64_t kWritebackStep = 64ull << 20;
  if (size_ - writeback_started_ >= kWritebackStep) {
    const uint64_t end = size_ / kWritebackStep * kWritebackStep;
    ::sync_file_range(fd_, static_cast<off_t>(writeback_started_),
                      static_cast<off_t>(end - writeback_started_), SYNC_FILE_RANGE_WRITE);
    writeback_started_ = end;
  }
}

void AtomicFileSink::write_at(uint64_t offset, const void* data, uint64_t size) {
  if (offset > size_ || size > size_ - offset) {
    throw Error(ErrorCode::Internal, target_, "", "cannot overwrite bytes that were never written");
  }
  write_all_at(offset, data, size);
}

void AtomicFileSink::write_all_at(uint64_t offset, const void* data, uint64_t size) {
  if (committed_ || fd_ < 0) {
    throw Error(ErrorCode::Internal, target_, "", "cannot write to a committed sink");
  }
  const auto* bytes = static_cast<const uint8_t*>(data);
  while (size > 0) {
    // pwrite moves at most ~2 GiB per call on Linux; loop on short writes and EINTR.
    const ssize_t written = ::pwrite(fd_, bytes, size, static_cast<off_t>(offset));
    if (written < 0) {
      if (errno == EINTR) continue;
      // EFAULT: the source bytes are a memory map of an input that was truncated after it
      // was validated (the kernel's copy faults instead of raising SIGBUS).
      if (errno == EFAULT) {
        throw Error(ErrorCode::InputChanged, "", "",
                    "cannot read the input: it was truncated or became unreadable while "
                    "being read");
      }
      throw Error(ErrorCode::WriteFailed, target_, "",
                  with_errno("cannot write '" + target_ + "'", errno));
    }
    if (written == 0) {
      throw Error(ErrorCode::WriteFailed, target_, "",
                  with_errno("cannot write '" + target_ + "'", EIO));
    }
    bytes += written;
    offset += static_cast<uint64_t>(written);
    size -= static_cast<uint64_t>(written);
  }
}

void AtomicFileSink::commit() {
  if (committed_ || fd_ < 0) {
    throw Error(ErrorCode::Internal, target_, "", "cannot commit a sink twice");
  }
  // The data reaches the disk before any name leads to it: after a crash the target is
  // the old file or the complete new one, never a torn one.
  if (options_.fsync && ::fsync(fd_) != 0) {
    throw Error(ErrorCode::WriteFailed, target_, "", with_errno("cannot sync '" + target_ + "'", errno));
  }
  if (unnamed_) {
    publish_unnamed();
  } else {
    publish_named();
  }
  committed_ = true;
  if (options_.fsync) fsync_directory(target_);
  lock_->release();
}

void AtomicFileSink::publish_unnamed() {
  if (!options_.overwrite) {
    if (link_unnamed(temp_path_, target_) != 0) {
      if (errno == EEXIST) throw output_exists(target_);
      throw Error(ErrorCode::WriteFailed, target_, "", with_errno("cannot link '" + target_ + "'", errno));
    }
  } else {
    // Only rename() replaces a file atomically, and it needs a name to move: `.partial`.
    check_output_target(target_, true);  // nothing special put there since we started
    detail::register_temp_path(partial_path_);
    partial_named_ = true;
    if (link_unnamed(temp_path_, partial_path_) != 0) {
      throw Error(ErrorCode::WriteFailed, target_, "",
                  with_errno("cannot link '" + partial_path_ + "'", errno));
    }
    struct stat written {};
    struct stat named {};
    if (::fstat(fd_, &written) != 0 || ::lstat(partial_path_.c_str(), &named) != 0 ||
        !same_file(written, named)) {
      partial_named_ = false;  // whatever is there now belongs to someone else
      throw not_ours(target_, partial_path_);
    }
    if (::rename(partial_path_.c_str(), target_.c_str()) != 0) {
      throw Error(ErrorCode::WriteFailed, target_, "",
                  with_errno("cannot rename '" + partial_path_ + "'", errno));
    }
    partial_named_ = false;
    detail::unregister_temp_path(partial_path_);
  }
  // O_TMPFILE exists only on local file systems, where close() reports nothing the fsync
  // has not (deferred write errors at close are an NFS habit; NFS takes the named path).
  ::close(fd_);
  fd_ = -1;
}

void AtomicFileSink::publish_named() {
  struct stat written {};
  const bool known = ::fstat(fd_, &written) == 0;
  // close() reports deferred write errors on some file systems (NFS): check it.
  const int closed = ::close(fd_);
  fd_ = -1;
  if (closed != 0) {
    throw Error(ErrorCode::WriteFailed, target_, "", with_errno("cannot write '" + target_ + "'", errno));
  }
  struct stat named {};
  if (!known || ::lstat(partial_path_.c_str(), &named) != 0 || !same_file(written, named)) {
    partial_named_ = false;  // whatever is there now belongs to someone else
    throw not_ours(target_, partial_path_);
  }
  if (options_.overwrite) {
    check_output_target(target_, true);
    if (::rename(partial_path_.c_str(), target_.c_str()) != 0) {
      throw Error(ErrorCode::WriteFailed, target_, "",
                  with_errno("cannot rename '" + partial_path_ + "'", errno));
    }
  } else {
    rename_no_replace(partial_path_, target_);
  }
  partial_named_ = false;
  detail::unregister_temp_path(partial_path_);
}

void AtomicFileSink::discard() noexcept {
  if (fd_ >= 0) {
    ::close(fd_);  // an unnamed file is freed here
    fd_ = -1;
  }
  if (!committed_ && partial_named_) ::unlink(partial_path_.c_str());
  partial_named_ = false;
  detail::unregister_temp_path(partial_path_);
  // Last: while the lock is held, nobody else can have made a `.partial` of this name.
  if (lock_) lock_->release();
}

}  // namespace qfp8
