// byte_sink.hpp — where the writer's bytes go: memory (tests, golden files) or a file
// written without a name (or under a temporary one) and put in place only when complete.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace qfp8 {

class OutputLock;

class ByteSink {
 public:
  virtual ~ByteSink() = default;
  /// Appends at the current end.
  virtual void write(const void* data, uint64_t size) = 0;
  /// Overwrites bytes already written (used for scales, known only after their weight).
  virtual void write_at(uint64_t offset, const void* data, uint64_t size) = 0;
  /// Makes the output durable and visible. After commit the sink accepts nothing more.
  virtual void commit() = 0;
};

class MemorySink final : public ByteSink {
 public:
  void write(const void* data, uint64_t size) override;
  void write_at(uint64_t offset, const void* data, uint64_t size) override;
  void commit() override { committed_ = true; }
  const std::vector<uint8_t>& bytes() const { return bytes_; }
  bool committed() const { return committed_; }

 private:
  std::vector<uint8_t> bytes_;
  bool committed_ = false;
};

struct AtomicFileOptions {
  bool overwrite = false;  // --force: replace an existing regular file or symbolic link
  bool fsync = true;
  bool unnamed = true;     // false: always use the named `.partial` (tests of that path)
};

/// Writes the output as a file with no name (O_TMPFILE in the target's directory) and links
/// it into place only after an fsync; where the file system refuses O_TMPFILE, writes
/// `<target>.partial` and renames it. Without `overwrite` the publishing link (or
/// RENAME_NOREPLACE) fails if the target appeared meanwhile: nothing is ever replaced by
/// accident. A lock on `.<name>.lock` (OutputLock) keeps a second writer of the same target
/// out. The temporary file and the lock file are removed if the sink is destroyed
/// uncommitted, and by the signal handlers (install_interrupt_cleanup); an unnamed file
/// vanishes with the process, even on SIGKILL. Windows has no unnamed files: there the
/// named `.partial` is always used (platform/output_file.hpp; docs/windows.md).
class AtomicFileSink final : public ByteSink {
 public:
  /// Throws OutputExists (target exists without overwrite, is a device, FIFO, socket or
  /// directory, or another live process is writing it) or OpenFailed.
  AtomicFileSink(std::string target, AtomicFileOptions options = {});
  ~AtomicFileSink() override;
  AtomicFileSink(const AtomicFileSink&) = delete;
  AtomicFileSink& operator=(const AtomicFileSink&) = delete;

  void write(const void* data, uint64_t size) override;
  void write_at(uint64_t offset, const void* data, uint64_t size) override;
  void commit() override;

  const std::string& target() const { return target_; }
  /// A path that opens the temporary file until commit: `/proc/self/fd/N` for an unnamed
  /// one, else `<target>.partial`.
  const std::string& temp_path() const { return temp_path_; }

 private:
  void open_unnamed();
  void open_named();
  void publish_unnamed();
  void publish_named();
  void write_all_at(uint64_t offset, const void* data, uint64_t size);
  void discard() noexcept;

  std::string target_;
  std::string temp_path_;
  std::string partial_path_;  // the named temporary file (NAME_MAX-safe, see sibling_path)
  AtomicFileOptions options_;
  std::unique_ptr<OutputLock> lock_;
  intptr_t fd_ = -1;  // platform::NativeFile: a descriptor or a HANDLE
  bool unnamed_ = false;
  bool partial_named_ = false;  // partial_path_ exists and is ours to remove
  uint64_t size_ = 0;
  uint64_t writeback_started_ = 0;  // bytes [0, this) already handed to the disk
  bool committed_ = false;
};

/// Installs, for every signal whose default action ends the process (SIGINT, SIGTERM,
/// SIGHUP, SIGQUIT, SIGUSR1/2, SIGALRM, SIGXCPU, SIGVTALRM, SIGPROF, the real-time signals,
/// SIGABRT and the other crash signals), a handler that unlinks every live AtomicFileSink's
/// named temporary file and lock file and then lets the signal terminate the process as it
/// would have; and a SIGBUS handler (a memory-mapped input truncated while being read) that
/// unlinks them, prints a clear error and exits with status 2. A signal the process
/// inherited as ignored (nohup) stays ignored. SIGPIPE and SIGXFSZ are left to the caller
/// (main ignores both, so that they surface as EPIPE/EFBIG errors). Idempotent.
void install_interrupt_cleanup();

}  // namespace qfp8
