// progress.cpp — rate-limited progress text: a redrawn bar for terminals, plain periodic
// lines for logs and CI.
#include "cli/progress.hpp"

#include <algorithm>

namespace qfp8 {
namespace {

// 100 ms between redraws: smooth to the eye, and ten redraws a second cost nothing next to
// the conversion, however fast it runs.
constexpr double kBarInterval = 0.1;
// Plain lines: one every 5 s or every 10 %, whichever comes first.
constexpr double kLineInterval = 5.0;
constexpr int kBarWidth = 24;
// Nothing for the first second: a job that short needs no progress report.
constexpr double kQuietStart = 1.0;

double gigabytes(uint64_t bytes) { return static_cast<double>(bytes) / 1e9; }

}  // namespace

ProgressStyle progress_style_for(bool quiet, bool json_logs, bool stderr_is_tty) {
  if (quiet || json_logs) return ProgressStyle::Off;
  return stderr_is_tty ? ProgressStyle::Bar : ProgressStyle::Lines;
}

Progress::Progress(ProgressStyle style, std::size_t total_tensors, uint64_t total_bytes,
                   std::FILE* out)
    : style_(style), total_tensors_(total_tensors), total_bytes_(total_bytes), out_(out) {}

Progress::~Progress() { finish(); }

void Progress::set_totals(std::size_t tensors, uint64_t bytes) {
  total_tensors_ = tensors;
  total_bytes_ = bytes;
}

void Progress::add_bytes(uint64_t bytes) {
  bytes_done_ += bytes;
  maybe_report();
}

void Progress::tensor_done() {
  ++tensors_done_;
  maybe_report();
}

void Progress::finish() {
  if (finished_) return;
  finished_ = true;
  if (bar_drawn_) {
    std::fprintf(out_, "\r\033[K");
    std::fflush(out_);
  }
}

std::string Progress::status_text(double seconds) const {
  const double rate = seconds > 0 ? gigabytes(bytes_done_) / seconds : 0.0;
  const uint64_t left = total_bytes_ > bytes_done_ ? total_bytes_ - bytes_done_ : 0;
  const double eta = rate > 0 ? gigabytes(left) / rate : 0.0;
  // Small checkpoints read better in MB than as "0.0/0.2 GB".
  const bool in_mb = total_bytes_ < 10'000'000'000ull;
  const double unit = in_mb ? 1e3 : 1.0;
  char text[160];
  std::snprintf(text, sizeof text, "%zu/%zu tensors, %.1f/%.1f %s, %.2f GB/s, ETA %.0f s",
                tensors_done_, total_tensors_, gigabytes(bytes_done_) * unit,
                gigabytes(total_bytes_) * unit, in_mb ? "MB" : "GB", rate, eta);
  return text;
}

void Progress::maybe_report() {
  if (style_ == ProgressStyle::Off || finished_) return;
  const auto now = Clock::now();
  const double since_last = std::chrono::duration<double>(now - last_report_).count();
  const double elapsed = std::chrono::duration<double>(now - start_).count();
  if (elapsed < kQuietStart) return;
  const double fraction =
      total_bytes_ > 0 ? static_cast<double>(bytes_done_) / static_cast<double>(total_bytes_) : 1.0;
  if (style_ == ProgressStyle::Bar) {
    if (since_last < kBarInterval) return;
    const int filled = std::clamp(static_cast<int>(fraction * kBarWidth), 0, kBarWidth);
    const std::string bar = std::string(static_cast<std::size_t>(filled), '#') +
                            std::string(static_cast<std::size_t>(kBarWidth - filled), '.');
    std::fprintf(out_, "\r\033[K[%s] %3.0f%% %s", bar.c_str(), fraction * 100.0,
                 status_text(elapsed).c_str());
    bar_drawn_ = true;
  } else {
    const int decile = static_cast<int>(fraction * 10.0);
    if (since_last < kLineInterval && decile <= last_decile_) return;
    last_decile_ = decile;
    std::fprintf(out_, "progress: %3.0f%% %s\n", fraction * 100.0, status_text(elapsed).c_str());
  }
  std::fflush(out_);
  last_report_ = now;
}

}  // namespace qfp8
