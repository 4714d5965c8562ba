// progress_meter.hpp — what a long job reports as it goes: bytes and tensors done. The
// display (a terminal bar, periodic lines, nothing) belongs to the caller; the jobs that
// report (convert, verify --against, dequantize, synth) only count.
#pragma once

#include <cstddef>
#include <cstdint>

namespace qfp8 {

class ProgressMeter {
 public:
  virtual ~ProgressMeter() = default;
  /// For jobs that learn their size only once they run (verify opens its files first).
  virtual void set_totals(std::size_t tensors, uint64_t bytes) = 0;
  virtual void add_bytes(uint64_t bytes) = 0;
  virtual void tensor_done() = 0;
  /// The job is over: a display may draw its final state.
  virtual void finish() {}
};

}  // namespace qfp8
