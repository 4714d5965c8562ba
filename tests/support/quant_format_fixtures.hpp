// quant_format_fixtures.hpp — small checkpoints in the formats of docs/format.md#formats
// (float8_e4m3fn, float8_e5m2, mxfp8, nvfp4) for the verify, dequantize and inspect tests: a
// source whose weights fit every format's blocks, and its conversion into any mix of
// formats. As in fp8_file_builder.hpp, codes and scales come from the core's numerics
// (core/fp8_e5m2.hpp, core/block_formats.hpp) element by element, so a test breaks ONE rule
// of a correct file; tests that check values compute them from the format definitions.
//
//   FileImage source = format_source_model();
//   FileImage output = quantize_image_as(source, {{kFormatQ, QuantFormat::Nvfp4}});
//   output.at(kFormatQ + ".weight_scale_2").data[0] ^= 1;
#pragma once

#include <algorithm>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "core/block_formats.hpp"
#include "core/element_traits.hpp"
#include "core/fp8_e5m2.hpp"
#include "core/quant_format.hpp"
#include "support/fp8_file_builder.hpp"

namespace qfp8::test {

/// The layers of format_source_model(): [32, 64] and [64, 32], multiples of every block.
inline const std::string kFormatQ = "blocks.0.attn.to_q";
inline const std::string kFormatFc1 = "blocks.0.mlp.fc1";

/// Two Linear layers with biases, a norm and source metadata; BF16-exact sample weights.
inline FileImage format_source_model() {
  FileImage image;
  image.tensors.push_back(bf16_tensor(kFormatQ + ".weight", {32, 64}, sample_weights(2048, 21)));
  image.tensors.push_back(bf16_tensor(kFormatQ + ".bias", {32}, sample_weights(32, 22)));
  image.tensors.push_back(bf16_tensor(kFormatFc1 + ".weight", {64, 32}, sample_weights(2048, 23)));
  image.tensors.push_back(bf16_tensor(kFormatFc1 + ".bias", {64}, sample_weights(64, 24)));
  image.tensors.push_back(bf16_tensor("blocks.0.norm.weight", {32}, sample_weights(32, 25)));
  image.metadata["modelspec.title"] = "tiny formats";
  return image;
}

/// `{"format": "<name>"}` as json.dumps writes it.
inline std::string format_config_text(QuantFormat format) {
  return std::string(R"({"format": ")") + quant_format_name(format) + "\"}";
}

/// `_quantization_metadata` declaring each layer in its format, as json.dumps writes it.
inline std::string format_metadata_text(const std::map<std::string, QuantFormat>& layers) {
  std::string text = R"({"format_version": "1.0", "layers": {)";
  bool first = true;
  for (const auto& [layer, format] : layers) {  // std::map: byte-wise name order
    text += (first ? "\"" : ", \"") + layer + "\": " + format_config_text(format);
    first = false;
  }
  return text + "}}";
}

/// The blocked scales and data of a [rows, cols] BF16/F16/F32 weight in mxfp8 or nvfp4.
struct BlockBlobs {
  Bytes data;
  Bytes scales;
  float scale_2 = 0.0f;  // nvfp4's weight_scale_2
};

inline BlockBlobs quantize_blocks(const TensorBlob& weight, QuantFormat format) {
  const uint64_t rows = weight.shape.at(0);
  const uint64_t cols = weight.shape.at(1);
  const uint64_t blocks = cols / block_size(format);
  const std::vector<uint64_t> scale_shape = block_scale_shape(format, rows, cols);
  BlockBlobs out;
  out.scales.assign(scale_shape[0] * scale_shape[1], 0);
  out.data.assign(format == QuantFormat::Nvfp4 ? rows * cols / 2 : rows * cols, 0);
  visit_element_type(weight.dtype, [&](auto element) {
    using E = decltype(element);
    const uint8_t* source = weight.data.data();
    if (format == QuantFormat::Nvfp4) {
      out.scale_2 = nvfp4_tensor_scale<E>(
          block_amax_magnitude<E>(source, static_cast<uint32_t>(rows * cols)));
    }
    for (uint64_t k = 0; k < rows * blocks; ++k) {
      const uint64_t offset = blocked_scale_offset(k / blocks, k % blocks, scale_shape[1]);
      if (format == QuantFormat::Mxfp8) {
        out.scales[offset] =
            mxfp8_quantize_block<E>(source + k * 32 * E::kSize, 32, out.data.data() + k * 32);
      } else {
        out.scales[offset] = nvfp4_quantize_block<E>(source + k * 16 * E::kSize, out.scale_2,
                                                     out.data.data() + k * 8);
      }
    }
  });
  return out;
}

/// `source` converted with each layer of `layers` in its format, as docs/format.md#formats
/// describes the output: weight, scales, `.comfy_quant` (when `comfy_quant`) and the
/// metadata; everything else copied.
inline FileImage quantize_image_as(const FileImage& source,
                                   const std::map<std::string, QuantFormat>& layers,
                                   bool comfy_quant = true) {
  FileImage out = source;
  for (const auto& [layer, format] : layers) {
    // The weight is rewritten in place before any put(), which may move the tensors.
    TensorBlob& weight = out.at(layer + ".weight");
    const uint64_t rows = weight.shape.at(0);
    const uint64_t cols = weight.shape.at(1);
    std::vector<TensorBlob> scales;
    if (format == QuantFormat::Float8E4m3fn) {
      auto [codes, scale] = quantize_blob(weight);
      weight.data = codes;
      scales.push_back(f32_tensor(layer + ".weight_scale", {}, {scale}));
    } else if (format == QuantFormat::Float8E5m2) {
      Bytes codes(rows * cols);
      visit_element_type(weight.dtype, [&](auto element) {
        using E = decltype(element);
        const uint32_t magnitude =
            block_amax_magnitude<E>(weight.data.data(), static_cast<uint32_t>(rows * cols));
        const float scale = e5m2_scale_from_amax(E::amax(magnitude));
        for (uint64_t i = 0; i < rows * cols; ++i) {
          codes[i] = quantize_e5m2(E::widen(E::load(weight.data.data(), i)), scale);
        }
        scales.push_back(f32_tensor(layer + ".weight_scale", {}, {scale}));
      });
      weight.data = codes;
    } else {
      const BlockBlobs blobs = quantize_blocks(weight, format);
      weight.data = blobs.data;
      scales.push_back({layer + ".weight_scale", block_scale_dtype(format),
                        block_scale_shape(format, rows, cols), blobs.scales});
      if (format == QuantFormat::Nvfp4) {
        scales.push_back(f32_tensor(layer + ".weight_scale_2", {}, {blobs.scale_2}));
      }
    }
    weight.dtype = data_dtype(format);
    weight.shape = data_shape(format, rows, cols);
    for (auto& scale : scales) out.put(std::move(scale));
    if (comfy_quant) out.put(text_tensor(layer + ".comfy_quant", format_config_text(format)));
  }
  out.metadata["_quantization_metadata"] = format_metadata_text(layers);
  return out;
}

/// Both layers of format_source_model() in `format`.
inline FileImage format_output(QuantFormat format) {
  return quantize_image_as(format_source_model(), {{kFormatQ, format}, {kFormatFc1, format}});
}

}  // namespace qfp8::test
