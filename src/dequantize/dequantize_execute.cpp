// dequantize_execute.cpp — streams a DequantizePlan into a sink: copies in 64 MiB pieces,
// quantized weights decoded a piece of rows at a time (at most 64 MiB of BF16,
// dequantize_rows.hpp), so resident memory stays bounded whatever the model's size.
#include <algorithm>
#include <vector>

#include "core/bf16.hpp"
#include "core/error.hpp"
#include "core/fp8_e4m3fn.hpp"
#include "dequantize/dequantize.hpp"
#include "dequantize/dequantize_rows.hpp"
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

void dequantize_tensor(const SafetensorsFile& input, const TensorInfo& tensor,
                       const DequantizeOutput& output, SafetensorsWriter& writer) {
  const uint64_t row_bytes = output.cols * 2;  // BF16 out
  if (output.rows == 0 || row_bytes == 0) {
    writer.write_tensor(tensor.name, input.bytes(tensor).data, 0);
    return;
  }
  const uint8_t* block_scales = nullptr;
  const TensorInfo* scales = nullptr;
  if (!output.block_scales.empty()) {
    // 1/32 (mxfp8) or 1/16 (nvfp4) of the weight's elements: read where they are mapped.
    scales = input.find(output.block_scales);
    if (scales == nullptr) {
      throw Error(ErrorCode::Internal, input.path(), output.block_scales,
                  "cannot find the planned block scales in the input");
    }
    input.prefetch(*scales);
    block_scales = input.bytes(*scales).data;
  }
  const RowDecoder decoder(output, input.bytes(tensor).data, block_scales);
  const uint64_t rows_per_piece = std::max<uint64_t>(1, kPieceBytes / row_bytes);
  std::vector<uint8_t> out;
  for (uint64_t first = 0; first < output.rows; first += rows_per_piece) {
    const uint64_t count = std::min(rows_per_piece, output.rows - first);
    out.resize(count * row_bytes);
    decoder.decode_rows(first, count, out.data());
    writer.append(out.data(), out.size());
  }
  if (scales != nullptr) input.release(*scales);
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
      dequantize_tensor(input, *tensor, output, writer);
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
