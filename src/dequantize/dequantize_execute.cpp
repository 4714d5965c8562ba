// dequantize_execute.cpp — streams a DequantizePlan into a sink: copies in 64 MiB pieces,
// FP8 weights through a 256-entry table per layer (every code's BF16 result), so resident
// memory stays bounded whatever the model's size.
#include <algorithm>
#include <array>
#include <vector>

#include "core/bf16.hpp"
#include "core/error.hpp"
#include "core/fp8_e4m3fn.hpp"
#include "dequantize/dequantize.hpp"
#include "safetensors/writer.hpp"

namespace qfp8 {
namespace {

// Large enough for full-speed writes, small enough to keep memory flat.
constexpr uint64_t kPieceBytes = 64ull << 20;

void copy_tensor(const SafetensorsFile& input, const TensorInfo& tensor,
                 SafetensorsWriter& writer) {
  const ByteView view = input.bytes(tensor);
  for (uint64_t offset = 0; offset < view.size; offset += kPieceBytes) {
    writer.append(view.data + offset, std::min(kPieceBytes, view.size - offset));
  }
  if (view.size == 0) writer.write_tensor(tensor.name, view.data, 0);
}

void dequantize_tensor(const SafetensorsFile& input, const TensorInfo& tensor, float scale,
                       SafetensorsWriter& writer) {
  // The result depends on the code alone: 256 products instead of one per element.
  std::array<uint16_t, 256> table{};
  for (unsigned code = 0; code < 256; ++code) {
    table[code] = dequantized_bf16(static_cast<uint8_t>(code), scale);
  }
  const ByteView view = input.bytes(tensor);
  const uint64_t piece = kPieceBytes / 2;  // codes per piece: 64 MiB of BF16 out
  std::vector<uint8_t> out;
  for (uint64_t first = 0; first < view.size; first += piece) {
    const uint64_t count = std::min(piece, view.size - first);
    out.resize(count * 2);
    for (uint64_t i = 0; i < count; ++i) {
      const uint16_t bits = table[view.data[first + i]];
      out[2 * i] = static_cast<uint8_t>(bits & 0xFFu);
      out[2 * i + 1] = static_cast<uint8_t>(bits >> 8);
    }
    writer.append(out.data(), out.size());
  }
  if (view.size == 0) writer.write_tensor(tensor.name, view.data, 0);
}

}  // namespace

uint16_t dequantized_bf16(uint8_t code, float scale) {
  return f32_to_bf16_rne(e4m3fn_to_f32(code) * scale);
}

void execute_dequantize(const SafetensorsFile& input, const DequantizePlan& plan, ByteSink& sink,
                        ProgressMeter* progress) {
  SafetensorsWriter writer(plan.layout, sink);
  for (const auto& output : plan.outputs) {
    const TensorInfo* tensor = input.find(output.name);
    if (tensor == nullptr) {
      throw Error(ErrorCode::Internal, input.path(), output.name,
                  "cannot find the planned source tensor in the input");
    }
    input.prefetch(*tensor);
    if (output.dequantize) {
      dequantize_tensor(input, *tensor, output.scale, writer);
    } else {
      copy_tensor(input, *tensor, writer);
    }
    input.release(*tensor);
    if (progress != nullptr) {
      progress->add_bytes(tensor->byte_size());
      progress->tensor_done();
    }
  }
  writer.finish();
}

void dequantize_to_file(const SafetensorsFile& input, const DequantizePlan& plan,
                        const std::string& output_path, bool overwrite,
                        ProgressMeter* progress) {
  AtomicFileOptions options;
  options.overwrite = overwrite;
  AtomicFileSink sink(output_path, options);
  execute_dequantize(input, plan, sink, progress);
}

}  // namespace qfp8
