// progress_meter.hpp — what a long job reports as it goes: bytes and tensors done. The
// display (a terminal bar, periodic lines, nothing) belongs to the caller; the jobs that
// report (convert, verify --against, dequantize, synth) only count.
#pragma once

#include <cstdint>

namespace qfp8 {

class ProgressMeter {
 public:
  virtual ~ProgressMeter() = default;
  virtual void add_bytes(uint64_t bytes) = 0;
  virtual void tensor_done() = 0;
};

}  // namespace qfp8
