// counting_progress.hpp — a ProgressMeter that only adds up what a job reports, so a test
// can compare the totals with what the job really processed.
#pragma once

#include <cstddef>
#include <cstdint>

#include "core/progress_meter.hpp"

namespace qfp8::test {

struct CountingProgress final : ProgressMeter {
  void add_bytes(uint64_t count) override { bytes += count; }
  void tensor_done() override { ++tensors; }
  uint64_t bytes = 0;
  std::size_t tensors = 0;
};

}  // namespace qfp8::test
