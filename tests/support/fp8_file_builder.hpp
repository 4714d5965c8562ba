// fp8_file_builder.hpp — assembles small source checkpoints and their FP8 scaled
// conversions in tests. Codes and scales come from the shared numerics header
// (core/fp8_e4m3fn.hpp) element by element; the file bytes from the real writer
// (SafetensorsLayout + SafetensorsWriter + MemorySink). Tests then break ONE rule by
// editing the FileImage (erase, put, edit bytes or metadata) before writing it.
//
//   FileImage source = small_source_model();
//   FileImage output = quantize_image(source, small_model_layers());
//   output.erase("blocks.0.attn.to_q.weight_scale");
//   write_image(temp_path("missing_scale.safetensors"), output);
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <map>
#include <stdexcept>
#include <string>
#include <vector>

#include "core/dtype.hpp"
#include "core/element_traits.hpp"
#include "core/fp8_e4m3fn.hpp"
#include "safetensors/byte_sink.hpp"
#include "safetensors/layout.hpp"
#include "safetensors/writer.hpp"
#include "support/safetensors_bytes.hpp"

namespace qfp8::test {

struct TensorBlob {
  std::string name;
  Dtype dtype = Dtype::U8;
  std::vector<uint64_t> shape;
  Bytes data;
};

/// A whole file before serialisation: tensors in any order plus `__metadata__`.
struct FileImage {
  std::vector<TensorBlob> tensors;
  std::map<std::string, std::string> metadata;

  bool has(const std::string& name) const {
    return std::any_of(tensors.begin(), tensors.end(),
                       [&](const TensorBlob& t) { return t.name == name; });
  }
  TensorBlob& at(const std::string& name) {
    for (auto& tensor : tensors) {
      if (tensor.name == name) return tensor;
    }
    throw std::runtime_error("test image has no tensor " + name);
  }
  void erase(const std::string& name) {
    tensors.erase(std::remove_if(tensors.begin(), tensors.end(),
                                 [&](const TensorBlob& t) { return t.name == name; }),
                  tensors.end());
  }
  /// Replaces the tensor of the same name, or adds it.
  void put(TensorBlob blob) {
    erase(blob.name);
    tensors.push_back(std::move(blob));
  }
};

/// The BF16 bits of `value`, which must be exactly representable (tests choose such values).
inline uint16_t bf16_exact(float value) {
  const uint32_t bits = float_bits(value);
  if ((bits & 0xFFFFu) != 0) throw std::runtime_error("test value is not BF16-exact");
  return static_cast<uint16_t>(bits >> 16);
}

inline TensorBlob bf16_tensor(std::string name, std::vector<uint64_t> shape,
                              const std::vector<float>& values) {
  TensorBlob blob{std::move(name), Dtype::BF16, std::move(shape), {}};
  for (float value : values) {
    const uint16_t bits = bf16_exact(value);
    blob.data.push_back(static_cast<uint8_t>(bits & 0xFFu));
    blob.data.push_back(static_cast<uint8_t>(bits >> 8));
  }
  return blob;
}

inline TensorBlob f32_tensor(std::string name, std::vector<uint64_t> shape,
                             const std::vector<float>& values) {
  TensorBlob blob{std::move(name), Dtype::F32, std::move(shape), {}};
  for (float value : values) {
    const Bytes bytes = bytes_of(value);
    blob.data.insert(blob.data.end(), bytes.begin(), bytes.end());
  }
  return blob;
}

/// U8 1-D tensor holding `text` (a `.comfy_quant` marker).
inline TensorBlob text_tensor(std::string name, const std::string& text) {
  return {std::move(name), Dtype::U8, {text.size()}, Bytes(text.begin(), text.end())};
}

/// The file bytes, laid out by the real writer into memory.
inline Bytes serialize(const FileImage& image) {
  std::vector<PlannedTensor> planned;
  for (const auto& tensor : image.tensors)
    planned.push_back({tensor.name, tensor.dtype, tensor.shape});
  const SafetensorsLayout layout(planned, image.metadata);
  MemorySink sink;
  SafetensorsWriter writer(layout, sink);
  for (const auto& info : layout.tensors()) {
    for (const auto& tensor : image.tensors) {
      if (tensor.name == info.name)
        writer.write_tensor(tensor.name, tensor.data.data(), tensor.data.size());
    }
  }
  writer.finish();
  return sink.bytes();
}

inline std::string write_image(const std::string& path, const FileImage& image) {
  write_file(path, serialize(image));
  return path;
}

/// Deterministic BF16-exact weights spread over several binades, with exact zeros and
/// values small enough to flush to code 0 (so every statistic has something to count).
inline std::vector<float> sample_weights(uint64_t count, uint32_t seed) {
  std::vector<float> values;
  uint32_t state = seed * 2654435761u + 12345u;
  for (uint64_t i = 0; i < count; ++i) {
    state = state * 1664525u + 1013904223u;
    const int exponent = static_cast<int>((state >> 8) % 22u) - 20;  // 2^-20 .. 2^1
    const float mantissa = 1.0f + static_cast<float>((state >> 16) & 0x7Fu) / 128.0f;
    float value = mantissa * static_cast<float>(std::ldexp(1.0, exponent));
    if ((state >> 28) == 0) value = 0.0f;
    if ((state & 1u) != 0) value = -value;
    values.push_back(value);
  }
  return values;
}

/// The quantized layers of small_source_model().
inline std::vector<std::string> small_model_layers() {
  return {"blocks.0.attn.to_q", "blocks.0.mlp.fc1"};
}

/// Two Linear layers with biases, a 1-D norm and a marker key, plus source metadata.
inline FileImage small_source_model() {
  FileImage image;
  image.tensors.push_back(
      bf16_tensor("blocks.0.attn.to_q.weight", {8, 16}, sample_weights(128, 1)));
  image.tensors.push_back(bf16_tensor("blocks.0.attn.to_q.bias", {8}, sample_weights(8, 2)));
  image.tensors.push_back(bf16_tensor("blocks.0.mlp.fc1.weight", {16, 8}, sample_weights(128, 3)));
  image.tensors.push_back(bf16_tensor("blocks.0.mlp.fc1.bias", {16}, sample_weights(16, 4)));
  image.tensors.push_back(bf16_tensor("blocks.0.norm.weight", {16}, sample_weights(16, 5)));
  image.tensors.push_back(f32_tensor("__index_timestep_zero__", {}, {0.0f}));
  image.metadata["modelspec.title"] = "tiny";
  return image;
}

/// {"format_version": "1.0", "layers": {...}} as json.dumps writes it (ASCII names).
inline std::string quantization_metadata_text(std::vector<std::string> layers) {
  std::sort(layers.begin(), layers.end());
  std::string text = R"({"format_version": "1.0", "layers": {)";
  for (std::size_t i = 0; i < layers.size(); ++i) {
    if (i != 0) text += ", ";
    text += "\"" + layers[i] + R"(": {"format": "float8_e4m3fn"})";
  }
  return text + "}}";
}

/// FP8 codes and scale of a BF16, F16 or F32 weight, from the shared numerics
/// (docs/format.md#numerics).
inline std::pair<Bytes, float> quantize_blob(const TensorBlob& weight) {
  std::vector<float> values;
  visit_element_type(weight.dtype, [&](auto element) {
    using E = decltype(element);
    for (std::size_t i = 0; i < weight.data.size() / E::kSize; ++i) {
      values.push_back(E::widen(E::load(weight.data.data(), i)));
    }
  });
  const std::size_t count = values.size();
  uint32_t amax_bits = 0;
  for (const float value : values) amax_bits = std::max(amax_bits, f32_magnitude(float_bits(value)));
  const float scale = scale_from_amax(float_from_bits(amax_bits));
  Bytes codes(count);
  for (std::size_t i = 0; i < count; ++i) codes[i] = quantize_e4m3fn(values[i], scale);
  return {codes, scale};
}

/// `source` converted as qfp8-cuda does: each layer's weight F8_E4M3 with a 0-d F32
/// weight_scale and (when `comfy_quant`) a `.comfy_quant` marker; everything else copied.
inline FileImage quantize_image(const FileImage& source, const std::vector<std::string>& layers,
                                bool comfy_quant = true) {
  FileImage out = source;
  for (const auto& layer : layers) {
    TensorBlob& weight = out.at(layer + ".weight");
    auto [codes, scale] = quantize_blob(weight);
    weight.dtype = Dtype::F8_E4M3;
    weight.data = codes;
    out.put(f32_tensor(layer + ".weight_scale", {}, {scale}));
    if (comfy_quant) out.put(text_tensor(layer + ".comfy_quant", R"({"format": "float8_e4m3fn"})"));
  }
  out.metadata["_quantization_metadata"] = quantization_metadata_text(layers);
  return out;
}

/// The legacy layout of the same conversion: `scaled_fp8` marker, `L.scale_weight`.
inline FileImage quantize_image_legacy(const FileImage& source,
                                       const std::vector<std::string>& layers) {
  FileImage out = source;
  for (const auto& layer : layers) {
    TensorBlob& weight = out.at(layer + ".weight");
    auto [codes, scale] = quantize_blob(weight);
    weight.dtype = Dtype::F8_E4M3;
    weight.data = codes;
    out.put(f32_tensor(layer + ".scale_weight", {}, {scale}));
  }
  out.put({"scaled_fp8", Dtype::F8_E4M3, {0}, {}});
  return out;
}

}  // namespace qfp8::test
