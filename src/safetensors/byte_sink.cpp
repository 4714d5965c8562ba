// byte_sink.cpp — MemorySink, and AtomicFileSink: an unnamed (O_TMPFILE) or `.partial`
// file, fsync, a link or rename that never replaces what it must not, a directory fsync,
// and cleanup on error or signal.
#include "safetensors/byte_sink.hpp"

#include <cerrno>
#include <cstring>

#include "core/error.hpp"
#include "platform/file_status.hpp"
#include "platform/output_file.hpp"
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
  if (const std::error_code error = platform::check_writable_directory(directory)) {
    throw Error(ErrorCode::OpenFailed, target, "",
                with_error("cannot write into '" + directory + "'", error));
  }
}

Error output_exists(const std::string& target) {
  return Error(ErrorCode::OutputExists, target, "",
               "output '" + target + "' already exists (use --force to replace it)");
}

// A `.partial` replaced behind our back (by a writer that ignores the lock) is not ours to
// publish: a run renames into place only the file it wrote.
Error not_ours(const std::string& target, const std::string& partial) {
  return Error(ErrorCode::WriteFailed, target, "",
               "cannot rename '" + partial + "': it is no longer the file written here");
}

// Makes the link or rename itself durable.
void fsync_directory(const std::string& target) {
  if (const std::error_code error = platform::sync_directory(directory_of(target))) {
    throw Error(ErrorCode::WriteFailed, target, "", with_error("cannot sync the directory of '" + target + "'", error));
  }
}

// Renames without ever replacing an existing target.
void rename_no_replace(const std::string& from, const std::string& to) {
  const char* step = "rename";
  const std::error_code error = platform::rename_no_replace(from, to, step);
  if (!error) return;
  if (error == std::errc::file_exists) throw output_exists(to);
  throw Error(ErrorCode::WriteFailed, to, "", with_error("cannot " + std::string(step) + " '" + from + "'", error));
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
  if (const std::error_code error = platform::remove_file(partial_path_);
      error && error != std::errc::no_such_file_or_directory) {
    throw Error(ErrorCode::OpenFailed, target_, "",
                with_error("cannot remove stale '" + partial_path_ + "'", error));
  }
  if (options_.unnamed) open_unnamed();
  if (fd_ == platform::kNoFile) open_named();
}

void AtomicFileSink::open_unnamed() {
  platform::NativeFile file = platform::kNoFile;
  std::string reach_path;
  if (!platform::open_unnamed(directory_of(target_), file, reach_path)) return;
  fd_ = file;
  unnamed_ = true;
  temp_path_ = reach_path;
}

void AtomicFileSink::open_named() {
  // Registered before the file exists, so a signal arriving between open() and the
  // registration cannot leave an empty `.partial` behind.
  detail::register_temp_path(partial_path_);
  if (const std::error_code error = platform::create_exclusive(partial_path_, fd_)) {
    fd_ = platform::kNoFile;
    detail::unregister_temp_path(partial_path_);
    throw Error(ErrorCode::OpenFailed, target_, "",
                with_error("cannot create '" + partial_path_ + "'", error));
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
    platform::start_writeback(fd_, writeback_started_, end - writeback_started_);
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
  if (committed_ || fd_ == platform::kNoFile) {
    throw Error(ErrorCode::Internal, target_, "", "cannot write to a committed sink");
  }
  const std::error_code error = platform::write_all_at(fd_, offset, data, size);
  if (!error) return;
  // EFAULT: the source bytes are a memory map of an input that was truncated after it
  // was validated (the kernel's copy faults instead of raising SIGBUS).
  if (error == std::errc::bad_address) {
    throw Error(ErrorCode::InputChanged, "", "",
                "cannot read the input: it was truncated or became unreadable while "
                "being read");
  }
  throw Error(ErrorCode::WriteFailed, target_, "", with_error("cannot write '" + target_ + "'", error));
}

void AtomicFileSink::commit() {
  if (committed_ || fd_ == platform::kNoFile) {
    throw Error(ErrorCode::Internal, target_, "", "cannot commit a sink twice");
  }
  // The data reaches the disk before any name leads to it: after a crash the target is
  // the old file or the complete new one, never a torn one.
  if (options_.fsync) {
    if (const std::error_code error = platform::sync_file(fd_)) {
      throw Error(ErrorCode::WriteFailed, target_, "", with_error("cannot sync '" + target_ + "'", error));
    }
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
    if (const std::error_code error = platform::link_unnamed(temp_path_, target_)) {
      if (error == std::errc::file_exists) throw output_exists(target_);
      throw Error(ErrorCode::WriteFailed, target_, "", with_error("cannot link '" + target_ + "'", error));
    }
  } else {
    // Only rename() replaces a file atomically, and it needs a name to move: `.partial`.
    check_output_target(target_, true);  // nothing special put there since we started
    detail::register_temp_path(partial_path_);
    partial_named_ = true;
    if (const std::error_code error = platform::link_unnamed(temp_path_, partial_path_)) {
      throw Error(ErrorCode::WriteFailed, target_, "",
                  with_error("cannot link '" + partial_path_ + "'", error));
    }
    if (!platform::same_file(fd_, partial_path_)) {
      partial_named_ = false;  // whatever is there now belongs to someone else
      throw not_ours(target_, partial_path_);
    }
    if (const std::error_code error = platform::rename_replace(partial_path_, target_)) {
      throw Error(ErrorCode::WriteFailed, target_, "",
                  with_error("cannot rename '" + partial_path_ + "'", error));
    }
    partial_named_ = false;
    detail::unregister_temp_path(partial_path_);
  }
  // O_TMPFILE exists only on local file systems, where close() reports nothing the fsync
  // has not (deferred write errors at close are an NFS habit; NFS takes the named path).
  platform::close_file(fd_);
  fd_ = platform::kNoFile;
}

void AtomicFileSink::publish_named() {
  // Checked while the file is still open (its identity is that of the open file).
  const bool ours = platform::same_file(fd_, partial_path_);
  // close() reports deferred write errors on some file systems (NFS): check it.
  const std::error_code closed = platform::close_file(fd_);
  fd_ = platform::kNoFile;
  if (closed) {
    throw Error(ErrorCode::WriteFailed, target_, "", with_error("cannot write '" + target_ + "'", closed));
  }
  if (!ours) {
    partial_named_ = false;  // whatever is there now belongs to someone else
    throw not_ours(target_, partial_path_);
  }
  if (options_.overwrite) {
    check_output_target(target_, true);
    if (const std::error_code error = platform::rename_replace(partial_path_, target_)) {
      throw Error(ErrorCode::WriteFailed, target_, "",
                  with_error("cannot rename '" + partial_path_ + "'", error));
    }
  } else {
    rename_no_replace(partial_path_, target_);
  }
  partial_named_ = false;
  detail::unregister_temp_path(partial_path_);
}

void AtomicFileSink::discard() noexcept {
  if (fd_ != platform::kNoFile) {
    platform::close_file(fd_);  // an unnamed file is freed here
    fd_ = platform::kNoFile;
  }
  if (!committed_ && partial_named_) platform::remove_file(partial_path_);
  partial_named_ = false;
  detail::unregister_temp_path(partial_path_);
  // Last: while the lock is held, nobody else can have made a `.partial` of this name.
  if (lock_) lock_->release();
}

}  // namespace qfp8
