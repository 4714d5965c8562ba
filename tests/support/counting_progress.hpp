// counting_progress.hpp — a ProgressMeter that only adds up what a job reports, so a test
// can compare the totals with what the job really processed.
#pragma once

#include <cstddef>
#include <cstdint>

#include "core/progress_meter.hpp"

namespace qfp8::test {

struct CountingProgress final : ProgressMeter {
  void set_totals(std::size_t tensor_total, uint64_t byte_total) override {
    total_tensors = tensor_total;
    total_bytes = byte_total;
  }
  void add_bytes(uint64_t count) override { bytes += count; }
  void tensor_done() override { ++tensors; }
  uint64_t bytes = 0;
  std::size_t tensors = 0;
  std::size_t total_tensors = 0;  // as last set by set_totals
  uint64_t total_bytes = 0;
};

}  // namespace qfp8::test
