// progress.hpp — conversion progress on stderr: a one-line bar on a terminal, a plain line
// every few seconds (or 10 %) otherwise, nothing when quiet or logging JSON.
#pragma once

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <string>

#include "core/progress_meter.hpp"

namespace qfp8 {

enum class ProgressStyle { Off, Bar, Lines };

/// Off with --quiet or --log-format json; Bar when stderr is a terminal; Lines otherwise.
ProgressStyle progress_style_for(bool quiet, bool json_logs, bool stderr_is_tty);

/// Counts tensors and input bytes processed. Cheap to call per chunk: it redraws at most
/// ~10 times a second (Bar) or prints every 5 s / 10 % (Lines).
class Progress final : public ProgressMeter {
 public:
  Progress(ProgressStyle style, std::size_t total_tensors, uint64_t total_bytes,
           std::FILE* out = stderr);
  ~Progress();
  Progress(const Progress&) = delete;
  Progress& operator=(const Progress&) = delete;

  void set_totals(std::size_t tensors, uint64_t bytes) override;
  void add_bytes(uint64_t bytes) override;
  void tensor_done() override;
  /// Clears the bar (a terminal line) so later log lines start clean. Idempotent.
  void finish() override;

  std::size_t tensors_done() const { return tensors_done_; }
  uint64_t bytes_done() const { return bytes_done_; }

 private:
  using Clock = std::chrono::steady_clock;
  void maybe_report();
  std::string status_text(double seconds) const;

  ProgressStyle style_;
  std::size_t total_tensors_;
  uint64_t total_bytes_;
  std::FILE* out_;
  std::size_t tensors_done_ = 0;
  uint64_t bytes_done_ = 0;
  Clock::time_point start_ = Clock::now();
  Clock::time_point last_report_ = start_;
  int last_decile_ = 0;
  bool bar_drawn_ = false;
  bool finished_ = false;
};

}  // namespace qfp8
