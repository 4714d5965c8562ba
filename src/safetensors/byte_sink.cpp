// byte_sink.cpp — MemorySink, and AtomicFileSink: `<target>.partial`, fsync, a rename that
// never replaces what it must not, a directory fsync, and cleanup on error or signal.
#include "safetensors/byte_sink.hpp"

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>

#include "core/error.hpp"
#include "safetensors/interrupt_cleanup.hpp"

namespace qfp8 {

// --- MemorySink -----------------------------------------------------------------------

void MemorySink::write(const void* data, uint64_t size) {
  if (committed_) throw Error(ErrorCode::InvalidPlan, "cannot write to a committed sink");
  const auto* bytes = static_cast<const uint8_t*>(data);
  bytes_.insert(bytes_.end(), bytes, bytes + size);
}

void MemorySink::write_at(uint64_t offset, const void* data, uint64_t size) {
  if (committed_) throw Error(ErrorCode::InvalidPlan, "cannot write to a committed sink");
  if (offset > bytes_.size() || size > bytes_.size() - offset) {
    throw Error(ErrorCode::InvalidPlan, "cannot overwrite bytes that were never written");
  }
  if (size > 0) std::memcpy(bytes_.data() + offset, data, size);
}

// --- AtomicFileSink -------------------------------------------------------------------
namespace {

std::string directory_of(const std::string& path) {
  const auto slash = path.rfind('/');
  if (slash == std::string::npos) return ".";
  if (slash == 0) return "/";
  return path.substr(0, slash);
}

bool path_exists(const std::string& path) {
  struct stat info {};
  return ::lstat(path.c_str(), &info) == 0;
}

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

// Makes the rename itself durable. Some file systems refuse fsync on a directory (EINVAL):
// nothing more can be done there, and the data itself is already synced.
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

}  // namespace

AtomicFileSink::AtomicFileSink(std::string target, AtomicFileOptions options)
    : target_(std::move(target)), temp_path_(target_ + ".partial"), options_(options) {
  if (!options_.overwrite && path_exists(target_)) throw output_exists(target_);
  check_directory(target_);
  // A `.partial` left by a crashed or killed run is ours to replace.
  if (::unlink(temp_path_.c_str()) != 0 && errno != ENOENT) {
    throw Error(ErrorCode::OpenFailed, target_, "",
                with_errno("cannot remove stale '" + temp_path_ + "'", errno));
  }
  // Registered before the file exists, so a signal arriving between open() and the
  // registration cannot leave an empty `.partial` behind.
  detail::register_temp_path(temp_path_);
  fd_ = ::open(temp_path_.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
  if (fd_ < 0) {
    const int saved = errno;
    detail::unregister_temp_path(temp_path_);
    throw Error(ErrorCode::OpenFailed, target_, "",
                with_errno("cannot create '" + temp_path_ + "'", saved));
  }
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
    throw Error(ErrorCode::InvalidPlan, target_, "", "cannot overwrite bytes that were never written");
  }
  write_all_at(offset, data, size);
}

void AtomicFileSink::write_all_at(uint64_t offset, const void* data, uint64_t size) {
  if (committed_ || fd_ < 0) {
    throw Error(ErrorCode::InvalidPlan, target_, "", "cannot write to a committed sink");
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
    throw Error(ErrorCode::InvalidPlan, target_, "", "cannot commit a sink twice");
  }
  if (options_.fsync && ::fsync(fd_) != 0) {
    throw Error(ErrorCode::WriteFailed, target_, "", with_errno("cannot sync '" + target_ + "'", errno));
  }
  // close() reports deferred write errors on some file systems (NFS): check it.
  const int closed = ::close(fd_);
  fd_ = -1;
  if (closed != 0) {
    throw Error(ErrorCode::WriteFailed, target_, "", with_errno("cannot write '" + target_ + "'", errno));
  }
  if (options_.overwrite) {
    if (::rename(temp_path_.c_str(), target_.c_str()) != 0) {
      throw Error(ErrorCode::WriteFailed, target_, "",
                  with_errno("cannot rename '" + temp_path_ + "'", errno));
    }
  } else {
    rename_no_replace(temp_path_, target_);
  }
  committed_ = true;
  detail::unregister_temp_path(temp_path_);
  if (options_.fsync) fsync_directory(target_);
}

void AtomicFileSink::discard() noexcept {
  if (fd_ >= 0) {
    ::close(fd_);
    fd_ = -1;
  }
  if (!committed_) {
    ::unlink(temp_path_.c_str());
    detail::unregister_temp_path(temp_path_);
  }
}

}  // namespace qfp8
