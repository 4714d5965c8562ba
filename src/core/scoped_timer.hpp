// scoped_timer.hpp — wall time added up per stage: `ScopedTimer timer(total);` adds the
// seconds until the end of the scope to `total`. For the breakdowns that say where a
// pipeline waits (the CUDA backend's per-run log line), not for benchmarks.
#pragma once

#include <chrono>

namespace qfp8 {

class ScopedTimer {
 public:
  using Clock = std::chrono::steady_clock;
  explicit ScopedTimer(double& total) : total_(total), start_(Clock::now()) {}
  ~ScopedTimer() { total_ += std::chrono::duration<double>(Clock::now() - start_).count(); }
  ScopedTimer(const ScopedTimer&) = delete;
  ScopedTimer& operator=(const ScopedTimer&) = delete;

 private:
  double& total_;
  Clock::time_point start_;
};

}  // namespace qfp8
