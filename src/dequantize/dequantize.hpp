// dequantize.hpp — `qfp8-cuda dequantize`: a quantized checkpoint (either ComfyUI layout,
// docs/format.md#layer, #legacy; any format of docs/format.md#formats) back to BF16. Each
// quantized layer's weight becomes BF16 of its decoded value, computed in float32 and
// rounded to nearest even (decode rules below, docs/usage.md#dequantize), in the model's
// shape [rows, cols]; the layout's companions (weight_scale / weight_scale_2 / input_scale /
// comfy_quant, or scaled_fp8 / scale_weight / scale_input) and `_quantization_metadata` are
// dropped; every other tensor and metadata entry is copied byte for byte. Deterministic: both
// layouts of one conversion give the same bytes.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "core/progress_meter.hpp"
#include "core/quant_format.hpp"
#include "fp8_layout/fp8_layout.hpp"
#include "safetensors/byte_sink.hpp"
#include "safetensors/layout.hpp"
#include "safetensors/reader.hpp"

namespace qfp8 {

/// One output tensor: the input tensor of the same name, copied or dequantized.
struct DequantizeOutput {
  std::string name;
  bool dequantize = false;  // a quantized layer's weight -> BF16 [rows, cols]
  QuantFormat format = QuantFormat::Float8E4m3fn;
  float scale = 1.0f;        // weight_scale (FP8 formats), weight_scale_2 (nvfp4); mxfp8: unused
  std::string block_scales;  // mxfp8 and nvfp4: the input's blocked `L.weight_scale`
  uint64_t rows = 0;         // the weight's matrix, as the BF16 output holds it
  uint64_t cols = 0;
};

struct DequantizePlan {
  explicit DequantizePlan(SafetensorsLayout output_layout) : layout(std::move(output_layout)) {}

  bool legacy = false;                    // the input used the `scaled_fp8` layout
  std::size_t layers = 0;                 // weights dequantized
  std::size_t copied = 0;                 // tensors copied unchanged
  std::size_t dropped = 0;                // companions and marker left out
  std::vector<DequantizeOutput> outputs;  // in layout (write) order
  SafetensorsLayout layout;
};

/// Plans the output of `input`, whose FP8 layout is `layout`. The input must have passed
/// the format rules (verify::require_valid_format, which returns `layout`): a half-valid
/// file would silently lose or mis-scale weights.
DequantizePlan make_dequantize_plan(const SafetensorsFile& input,
                                    const fp8_layout::Fp8Layout& layout);

/// Streams the planned output into `sink` (bounded memory) and commits it. `progress` (may
/// be null) is told each input tensor's bytes as it is done.
void execute_dequantize(const SafetensorsFile& input, const DequantizePlan& plan, ByteSink& sink,
                        ProgressMeter* progress = nullptr);

/// execute_dequantize into `output_path` through an AtomicFileSink (`.partial`, renamed
/// when complete; nothing appears on error or interrupt).
void dequantize_to_file(const SafetensorsFile& input, const DequantizePlan& plan,
                        const std::string& output_path, bool overwrite,
                        ProgressMeter* progress = nullptr);

/// The BF16 bits of one dequantized float8_e4m3fn element: e4m3fn_to_f32(code) * scale in
/// float32, rounded to nearest even. The other formats: dequantize_rows.hpp.
uint16_t dequantized_bf16(uint8_t code, float scale);

}  // namespace qfp8
