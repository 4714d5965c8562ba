// byte_sink.hpp — where the writer's bytes go: memory (tests, golden files) or a file
// written under a temporary name and renamed into place only when complete.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace qfp8 {

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
  bool overwrite = false;  // --force: replace an existing target
  bool fsync = true;
};

/// Writes `<target>.partial` (in the target's directory), fsyncs, then renames over the
/// target. The temporary file is removed if the sink is destroyed uncommitted, and by the
/// SIGINT/SIGTERM handler (install_interrupt_cleanup) if the process is interrupted. An
/// existing target is never touched unless the commit succeeds with `overwrite`.
class AtomicFileSink final : public ByteSink {
 public:
  /// Throws OutputExists (target exists, no overwrite) or OpenFailed.
  AtomicFileSink(std::string target, AtomicFileOptions options = {});
  ~AtomicFileSink() override;
  AtomicFileSink(const AtomicFileSink&) = delete;
  AtomicFileSink& operator=(const AtomicFileSink&) = delete;

  void write(const void* data, uint64_t size) override;
  void write_at(uint64_t offset, const void* data, uint64_t size) override;
  void commit() override;

  const std::string& target() const { return target_; }
  const std::string& temp_path() const { return temp_path_; }

 private:
  void write_all_at(uint64_t offset, const void* data, uint64_t size);
  void discard() noexcept;

  std::string target_;
  std::string temp_path_;
  AtomicFileOptions options_;
  int fd_ = -1;
  uint64_t size_ = 0;
  uint64_t writeback_started_ = 0;  // bytes [0, this) already handed to the disk
  bool committed_ = false;
};

/// Installs SIGINT/SIGTERM handlers that unlink every live AtomicFileSink's temporary file
/// and then let the signal terminate the process as it would have, and a SIGBUS handler
/// (a memory-mapped input truncated while being read) that unlinks them, prints a clear
/// error and exits with status 2. Idempotent.
void install_interrupt_cleanup();

}  // namespace qfp8
