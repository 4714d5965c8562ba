// backend.hpp — the one interface both compute backends (CPU threads, CUDA) implement.
// A backend turns a run of float tensors into quantized bytes of each job's format plus its
// scales, using the numerics of core/ (fp8_e4m3fn.hpp, fp8_e5m2.hpp, block_formats.hpp), and
// hands the results to the consumer strictly in job order. Same jobs in, same bytes out,
// whichever backend runs them.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "core/dtype.hpp"
#include "core/quant_format.hpp"

namespace qfp8 {

struct QuantizeJob {
  QuantizeJob() = default;
  /// A float8_e4m3fn job (the shape is not needed by the per-tensor formats).
  QuantizeJob(std::string tensor_name, Dtype source_dtype, const uint8_t* source_bytes,
              uint64_t elements)
      : name(std::move(tensor_name)), dtype(source_dtype), source(source_bytes), numel(elements) {}

  std::string name;          // tensor name, for error messages
  Dtype dtype = Dtype::BF16; // F16, BF16 or F32
  const uint8_t* source = nullptr;  // little-endian elements, any alignment
  uint64_t numel = 0;
  QuantFormat format = QuantFormat::Float8E4m3fn;
  // The weight's [rows, cols]; block formats cut each row into blocks (both multiples of the
  // block size: the plan keeps other weights). Per-tensor formats ignore them.
  uint64_t rows = 0;
  uint64_t cols = 0;
};



/// How much of a job's source a backend reads before it reports the part as read
/// (QuantizedConsumer::source_read): what keeps the mapped input resident at any moment
/// small on a model whose largest tensor is over 100 MB.
inline constexpr uint64_t kSourceSliceBytes = uint64_t{16} << 20;

/// Receives results in job order. For each job: begin_tensor once (the per-tensor scale is
/// known before any byte: `weight_scale` of the FP8 formats, nvfp4's `weight_scale_2`, 0 for
/// mxfp8, which has none), tensor_bytes one or more times covering exactly the data bytes of
/// the format in order (numel bytes; numel / 2 for nvfp4), for block formats block_scales
/// once (the whole blocked scale tensor, docs/format.md#blocked-scales), end_tensor once
/// (the source is no longer read: its pages may be released).
class QuantizedConsumer {
 public:
  virtual ~QuantizedConsumer() = default;
  virtual void begin_tensor(std::size_t job_index, float scale) = 0;
  virtual void tensor_bytes(std::size_t job_index, const uint8_t* data, uint64_t count) = 0;
  virtual void block_scales(std::size_t job_index, const uint8_t* codes, uint64_t count) {
    (void)job_index, (void)codes, (void)count;
  }
  virtual void end_tensor(std::size_t job_index) = 0;
  /// The backend has finished a pass over source bytes [offset, offset + length) of the
  /// job (absmax, cast or upload): their pages may leave memory. A later pass may read
  /// them again (they come back from the page cache), so this is a hint, at any time and
  /// for any job of the run (the CUDA backend uploads job i+1 while job i is delivered);
  /// always on the thread that called run().
  virtual void source_read(std::size_t job_index, uint64_t offset, uint64_t length) {
    (void)job_index, (void)offset, (void)length;
  }
};

class QuantizeBackend {
 public:
  virtual ~QuantizeBackend() = default;
  /// Human name for logs: "cpu (8 threads)", "cuda:0 NVIDIA H100 ...".
  virtual std::string description() const = 0;
  /// True when run() accepts jobs of `format`.
  virtual bool supports(QuantFormat format) const { return format == QuantFormat::Float8E4m3fn; }
  /// Quantizes every job. Throws NonFiniteWeight (naming the tensor) for Inf/NaN, and
  /// CudaFailure for device errors; nothing is passed to the consumer for a failing job.
  virtual void run(const std::vector<QuantizeJob>& jobs, QuantizedConsumer& consumer) = 0;
};

}  // namespace qfp8
