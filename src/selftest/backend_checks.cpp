// backend_checks.cpp — selftest parts (c) and (d) through any backend: synthetic tensors
// (odd sizes, odd source alignment, larger than a staging buffer, every value class, Inf
// and NaN) compared byte for byte with the reference twins (core/quantize_reference.hpp),
// every BF16/F16 bit pattern in each of the other formats (float8_e5m2, mxfp8, nvfp4), then
// the whole pipeline (pipeline_check.hpp).
#include "selftest/backend_checks.hpp"

#include <cstdio>
#include <random>
#include <string>
#include <vector>

#include "core/element_traits.hpp"
#include "core/error.hpp"
#include "core/fp8_e4m3fn.hpp"
#include "core/quant_format.hpp"
#include "core/quantize_reference.hpp"
#include "selftest/pipeline_check.hpp"
#include "selftest/recording_consumer.hpp"

namespace qfp8::selftest {
namespace {

struct Tensor {
  std::string name;
  Dtype dtype = Dtype::BF16;
  uint64_t numel = 0;
  std::size_t offset = 0;  // bytes before element 0: exercises unaligned sources
  std::vector<uint8_t> storage;
  QuantFormat format = QuantFormat::Float8E4m3fn;
  uint64_t rows = 0;  // block formats: the [rows, cols] the elements are read as
  uint64_t cols = 0;
  const uint8_t* data() const { return storage.data() + offset; }
  QuantizeJob job() const {
    QuantizeJob job(name, dtype, data(), numel);
    job.format = format;
    job.rows = rows;
    job.cols = cols;
    return job;
  }
};

enum class Fill { AnyFinite, Weights, Subnormal, Zeros };

/// One element's bits for the fill; always finite.
uint32_t element_bits(Dtype dtype, Fill fill, std::mt19937& random) {
  const auto r = static_cast<uint32_t>(random());
  const bool wide = dtype == Dtype::F32;
  const uint32_t sign = wide ? (r & 0x80000000u) : (r & 0x8000u);
  // mantissa bits, exponent bias, exponent field position per dtype
  const uint32_t mantissa_bits = dtype == Dtype::F32 ? 23 : dtype == Dtype::F16 ? 10 : 7;
  const uint32_t bias = dtype == Dtype::F16 ? 15 : 127;
  const uint32_t mantissa = (r >> 1) & ((1u << mantissa_bits) - 1u);
  switch (fill) {
    case Fill::AnyFinite: {
      // Clearing the exponent's top bit keeps it below the all-ones (Inf/NaN) exponent.
      const uint32_t bits = wide ? r : (r & 0xFFFFu);
      return bits & ~(wide ? 0x40000000u : 0x4000u);
    }
    case Fill::Weights:  // 2^-12 .. 2^2: spans all of E4M3's normal range after scaling
      return sign | ((bias - 12 + static_cast<uint32_t>(random() % 15)) << mantissa_bits) |
             mantissa;
    case Fill::Subnormal: return sign | mantissa;
    case Fill::Zeros: return sign;  // +0 and -0
  }
  return 0;
}

Tensor make_tensor(const std::string& name, Dtype dtype, uint64_t numel, Fill fill,
                   std::size_t offset, std::mt19937& random) {
  Tensor tensor{name, dtype, numel, offset, {}};
  const std::size_t size = dtype_size(dtype);
  tensor.storage.resize(offset + numel * size);
  for (uint64_t i = 0; i < numel; ++i) {
    const uint32_t bits = element_bits(dtype, fill, random);
    for (std::size_t b = 0; b < size; ++b) {
      tensor.storage[offset + i * size + b] = static_cast<uint8_t>(bits >> (8 * b));
    }
  }
  return tensor;
}

/// (c) Tensors for every dtype: empty, tiny, odd sizes, larger than `big_bytes`.
std::vector<Tensor> synthetic_tensors(uint64_t big_bytes) {
  std::mt19937 random(1234);
  std::vector<Tensor> tensors;
  for (Dtype dtype : {Dtype::BF16, Dtype::F16, Dtype::F32}) {
    const std::string prefix = std::string(dtype_name(dtype)) + ".";
    const uint64_t big = big_bytes * 5 / 2 / dtype_size(dtype) + 3;
    tensors.push_back(make_tensor(prefix + "empty", dtype, 0, Fill::Weights, 0, random));
    tensors.push_back(make_tensor(prefix + "one", dtype, 1, Fill::Weights, 1, random));
    tensors.push_back(make_tensor(prefix + "seven", dtype, 7, Fill::AnyFinite, 0, random));
    tensors.push_back(make_tensor(prefix + "zeros", dtype, 33, Fill::Zeros, 3, random));
    tensors.push_back(make_tensor(prefix + "subnormal", dtype, 1000, Fill::Subnormal, 0, random));
    tensors.push_back(make_tensor(prefix + "odd", dtype, 65537, Fill::AnyFinite, 1, random));
    tensors.push_back(make_tensor(prefix + "weights", dtype, 4097, Fill::Weights, 0, random));
    tensors.push_back(make_tensor(prefix + "big", dtype, big, Fill::Weights, 2, random));
  }
  return tensors;
}

/// (b) through a backend: for 130 amax magnitudes m, a tensor of every BF16 and F16 bit
/// pattern of magnitude <= m (so the backend derives 130 scales itself).
std::vector<Tensor> value_sweep_tensors() {
  std::vector<Tensor> tensors;
  for (Dtype dtype : {Dtype::BF16, Dtype::F16}) {
    const uint32_t finite_end = nonfinite_magnitude(dtype);
    for (uint32_t m = 0; m < finite_end; m += finite_end / 129) {
      Tensor tensor{
          std::string(dtype_name(dtype)) + ".sweep." + std::to_string(m), dtype, 0, 0, {}};
      for (uint32_t bits = 0; bits < 65536; ++bits) {
        if ((bits & 0x7FFFu) > m) continue;
        tensor.storage.push_back(static_cast<uint8_t>(bits & 0xFFu));
        tensor.storage.push_back(static_cast<uint8_t>(bits >> 8));
      }
      tensor.numel = tensor.storage.size() / 2;
      tensors.push_back(std::move(tensor));
    }
  }
  return tensors;
}

/// The sweep tensors in another format: block formats read each as rows of 64 elements
/// (whole rows of 32, the tail dropped), so every block holds consecutive bit patterns.
std::vector<Tensor> in_format(std::vector<Tensor> tensors, QuantFormat format) {
  constexpr uint64_t kCols = 64;
  for (auto& tensor : tensors) {
    tensor.format = format;
    tensor.name += std::string(".") + quant_format_name(format);
    if (!has_block_scales(format)) continue;
    tensor.cols = kCols;
    tensor.rows = tensor.numel / kCols / 32 * 32;
    tensor.numel = tensor.rows * kCols;
  }
  return tensors;
}

/// Empty when the backend's result for `tensor` equals the reference twins', else why not.
std::string difference(const Tensor& tensor, const RecordingConsumer::Result& got) {
  const uint32_t amax = absmax_magnitude_reference(tensor.dtype, tensor.data(), tensor.numel);
  const float reference_scale = tensor_scale_reference(tensor.format, tensor.dtype, amax);
  // What the consumer hears: mxfp8 has no per-tensor scale.
  const float scale = tensor.format == QuantFormat::Mxfp8 ? 0.0f : reference_scale;
  std::vector<uint8_t> expected;
  std::vector<uint8_t> expected_scales;
  if (has_block_scales(tensor.format)) {
    BlockQuantized blocks = quantize_blocks_reference(tensor.format, tensor.dtype, tensor.data(),
                                                      tensor.rows, tensor.cols, reference_scale);
    expected = std::move(blocks.data);
    expected_scales = std::move(blocks.scales);
  } else {
    expected.resize(tensor.numel);
    quantize_per_tensor_reference(tensor.format, tensor.dtype, tensor.data(), tensor.numel,
                                  reference_scale, expected.data());
  }
  if (!got.begun || !got.ended) return "not delivered";
  if (float_bits(got.scale) != float_bits(scale)) {
    return "scale " + std::to_string(got.scale) + ", reference " + std::to_string(scale);
  }
  if (got.block_scales != expected_scales) return "block scales differ from the reference";
  if (got.bytes.size() != expected.size()) {
    return std::to_string(got.bytes.size()) + " bytes, expected " + std::to_string(expected.size());
  }
  for (std::size_t i = 0; i < expected.size(); ++i) {
    if (got.bytes[i] != expected[i]) {
      return "byte " + std::to_string(i) + " is " + std::to_string(got.bytes[i]) +
             ", reference " + std::to_string(expected[i]);
    }
  }
  return {};
}

/// Runs `tensors` through the backend and compares scales and bytes with the reference.
SelftestCheck compare_backend(QuantizeBackend& backend, const std::string& what,
                              const std::vector<Tensor>& tensors) {
  SelftestCheck check;
  check.name = "backend " + what;
  std::vector<QuantizeJob> jobs;
  for (const auto& tensor : tensors) jobs.push_back(tensor.job());
  RecordingConsumer consumer(jobs.size());
  backend.run(jobs, consumer);
  check.details = consumer.protocol_errors;
  check.passed = consumer.protocol_errors.empty();
  uint64_t elements = 0;
  for (std::size_t k = 0; k < tensors.size(); ++k) {
    elements += tensors[k].numel;
    const std::string problem = difference(tensors[k], consumer.results[k]);
    if (problem.empty()) continue;
    check.passed = false;
    if (check.details.size() < 8) check.details.push_back(tensors[k].name + ": " + problem);
  }
  check.summary = backend.description() + ": " + std::to_string(tensors.size()) + " tensors, " +
                  std::to_string(elements) +
                  " elements: " + (check.passed ? "identical" : "DIFFERENT");
  return check;
}

/// A tensor with Inf or NaN must fail with NonFiniteWeight naming it, with nothing
/// delivered for it; the backend must then still work.
SelftestCheck check_non_finite(QuantizeBackend& backend, const std::string& label,
                               uint64_t big_bytes) {
  SelftestCheck check;
  check.name = "backend Inf/NaN" + label;
  std::mt19937 random(99);
  for (const auto& [dtype, bad_bits] :
       {std::pair{Dtype::BF16, 0x7FC0u}, std::pair{Dtype::F32, 0xFF800000u}}) {
    std::vector<Tensor> tensors{
        make_tensor("good.before", dtype, 100, Fill::Weights, 0, random),
        make_tensor("bad", dtype, big_bytes / dtype_size(dtype) + 5, Fill::Weights, 0, random),
        make_tensor("good.after", dtype, 100, Fill::Weights, 0, random)};
    // The non-finite element is the last one: it sits in the last chunk uploaded.
    const std::size_t size = dtype_size(dtype);
    uint8_t* last = tensors[1].storage.data() + tensors[1].storage.size() - size;
    for (std::size_t b = 0; b < size; ++b) last[b] = static_cast<uint8_t>(bad_bits >> (8 * b));
    std::vector<QuantizeJob> jobs;
    for (const auto& tensor : tensors) jobs.push_back(tensor.job());
    RecordingConsumer consumer(jobs.size());
    std::string outcome = "no error";
    try {
      backend.run(jobs, consumer);
    } catch (const Error& error) {
      outcome =
          error.code() == ErrorCode::NonFiniteWeight && error.tensor() == "bad" ? "" : error.what();
    }
    if (consumer.results[1].begun) outcome += " (the bad tensor reached the consumer)";
    if (!outcome.empty()) {
      check.passed = false;
      check.details.push_back(std::string(dtype_name(dtype)) + ": " + outcome);
    }
  }
  check.summary = backend.description() +
                  (check.passed ? ": NonFiniteWeight, nothing delivered" : ": wrong handling");
  return check;
}

}  // namespace

void Tally::print(const SelftestCheck& check) {
  const char* status = check.informational ? "INFO" : check.passed ? "PASS" : "FAIL";
  std::printf("[%s] %s: %s\n", status, check.name.c_str(), check.summary.c_str());
  for (const auto& line : check.details) std::printf("         %s\n", line.c_str());
  std::fflush(stdout);
  if (!check.informational && !check.passed) ++failed;
}

void Tally::run(const std::string& name, const std::function<SelftestCheck()>& body) {
  try {
    print(body());
  } catch (const Error& error) {
    if (error.code() == ErrorCode::CudaFailure) throw;  // the device is broken: exit 3
    print(SelftestCheck{name, false, false, std::string("unexpected error: ") + error.what(), {}});
  }
}

/// `label` tells apart two configurations of the same backend in the output.
void run_backend_checks(Tally& tally, QuantizeBackend& backend, const std::string& label,
                        uint64_t big_bytes) {
  const std::vector<Tensor> sweep = value_sweep_tensors();
  const std::vector<Tensor> synthetic = synthetic_tensors(big_bytes);
  const std::string value_sweep = "value sweep" + label;
  const std::string random_tensors = "synthetic tensors" + label;
  const std::string after_errors = "after errors" + label;
  tally.run("backend " + value_sweep, [&] { return compare_backend(backend, value_sweep, sweep); });
  tally.run("backend " + random_tensors,
            [&] { return compare_backend(backend, random_tensors, synthetic); });
  tally.run("backend Inf/NaN" + label, [&] { return check_non_finite(backend, label, big_bytes); });
  // After the failed runs above, the backend must still give the reference's bytes.
  tally.run("backend " + after_errors,
            [&] { return compare_backend(backend, after_errors, synthetic); });
  for (const QuantFormat format : {QuantFormat::Float8E5m2, QuantFormat::Mxfp8, QuantFormat::Nvfp4}) {
    const std::string what = std::string(quant_format_name(format)) + label;
    tally.run("backend " + what,
              [&] { return compare_backend(backend, what, in_format(sweep, format)); });
  }
  tally.run("pipeline" + label, [&] { return compare_pipeline(backend, label); });
}

}  // namespace qfp8::selftest
