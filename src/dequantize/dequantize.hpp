// dequantize.hpp — `qfp8-cuda dequantize`: an FP8 scaled checkpoint (either ComfyUI layout,
// docs/format.md#layer, #legacy) back to BF16. Each quantized layer's weight becomes
// bf16_rne(e4m3fn_to_f32(code) * scale), the product computed in float32; the layout's
// companions (weight_scale / input_scale / comfy_quant, or scaled_fp8 / scale_weight /
// scale_input) and `_quantization_metadata` are dropped; every other tensor and metadata
// entry is copied byte for byte. Deterministic: both layouts of one conversion give the
// same bytes.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "core/progress_meter.hpp"
#include "fp8_layout/fp8_layout.hpp"
#include "safetensors/byte_sink.hpp"
#include "safetensors/layout.hpp"
#include "safetensors/reader.hpp"

namespace qfp8 {

/// One output tensor: the input tensor of the same name, copied or dequantized.
struct DequantizeOutput {
  std::string name;
  bool dequantize = false;  // FP8 weight -> BF16 with `scale`
  float scale = 1.0f;
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

/// The BF16 bits of one dequantized element: e4m3fn_to_f32(code) * scale in float32,
/// rounded to nearest even.
uint16_t dequantized_bf16(uint8_t code, float scale);

}  // namespace qfp8
