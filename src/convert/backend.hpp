// backend.hpp — the one interface both compute backends (CPU threads, CUDA) implement.
// A backend turns a run of float tensors into FP8 E4M3FN bytes plus a scale each, using the
// numerics of core/fp8_e4m3fn.hpp, and hands the results to the consumer strictly in job
// order. Same jobs in, same bytes out, whichever backend runs them.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "core/dtype.hpp"

namespace qfp8 {

struct QuantizeJob {
  std::string name;          // tensor name, for error messages
  Dtype dtype = Dtype::BF16; // F16, BF16 or F32
  const uint8_t* source = nullptr;  // little-endian elements, any alignment
  uint64_t numel = 0;
};

/// Receives results in job order. For each job: begin_tensor once (the scale is known
/// before any byte), tensor_bytes one or more times covering exactly `numel` FP8 bytes in
/// order, end_tensor once (the source is no longer read: its pages may be released).
class QuantizedConsumer {
 public:
  virtual ~QuantizedConsumer() = default;
  virtual void begin_tensor(std::size_t job_index, float scale) = 0;
  virtual void tensor_bytes(std::size_t job_index, const uint8_t* fp8, uint64_t count) = 0;
  virtual void end_tensor(std::size_t job_index) = 0;
};

class QuantizeBackend {
 public:
  virtual ~QuantizeBackend() = default;
  /// Human name for logs: "cpu (8 threads)", "cuda:0 NVIDIA H100 ...".
  virtual std::string description() const = 0;
  /// Quantizes every job. Throws NonFiniteWeight (naming the tensor) for Inf/NaN, and
  /// CudaFailure for device errors; nothing is passed to the consumer for a failing job.
  virtual void run(const std::vector<QuantizeJob>& jobs, QuantizedConsumer& consumer) = 0;
};

}  // namespace qfp8
