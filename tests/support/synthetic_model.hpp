// synthetic_model.hpp — tiny Qwen-Image-named BF16 checkpoints for end-to-end tests,
// written with the project's own writer. Names follow docs/format.md#qwen-image (diffusers/ComfyUI
// keys); `hidden` 64 makes every attention Linear exactly 4096 elements, the quantize threshold.
// Values are deterministic per (seed, tensor name), so a test can rebuild the same file.
//
//   test::SyntheticModelOptions model;  model.blocks = 2;
//   test::write_synthetic_model(test::temp_path("in.safetensors"), model);
#pragma once

#include <cmath>
#include <cstdint>
#include <cstring>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "safetensors/byte_sink.hpp"
#include "safetensors/layout.hpp"
#include "safetensors/writer.hpp"

namespace qfp8::test {

struct SyntheticModelOptions {
  std::size_t blocks = 2;
  uint64_t hidden = 64;
  std::string prefix;        // e.g. "model.diffusion_model." (full-checkpoint keys)
  uint64_t seed = 1;
  std::string nan_tensor;    // when set, element 0 of this tensor is a NaN
  std::string zero_tensor;   // when set, this tensor is all zeros (scale 1.0)
  std::map<std::string, std::string> metadata = {{"format", "pt"}};
};

struct SyntheticShape {
  std::string name;
  std::vector<uint64_t> shape;
};

/// Every tensor of the model (names without the prefix), in no particular order.
inline std::vector<SyntheticShape> synthetic_qwen_shapes(const SyntheticModelOptions& options) {
  const uint64_t h = options.hidden;
  const uint64_t text = h + 16;  // text-encoder width (3584 at full size)
  const uint64_t head = 16;      // attention head dim (128 at full size)
  std::vector<SyntheticShape> shapes;
  auto linear = [&shapes](const std::string& layer, uint64_t out, uint64_t in) {
    shapes.push_back({layer + ".weight", {out, in}});
    shapes.push_back({layer + ".bias", {out}});
  };
  linear("img_in", h, h);
  linear("txt_in", h, text);
  shapes.push_back({"txt_norm.weight", {text}});
  linear("time_text_embed.timestep_embedder.linear_1", h, 32);
  linear("time_text_embed.timestep_embedder.linear_2", h, h);
  for (std::size_t b = 0; b < options.blocks; ++b) {
    const std::string block = "transformer_blocks." + std::to_string(b) + ".";
    for (const char* proj : {"to_q", "to_k", "to_v", "add_q_proj", "add_k_proj", "add_v_proj",
                             "to_out.0", "to_add_out"}) {
      linear(block + "attn." + proj, h, h);
    }
    for (const char* norm : {"norm_q", "norm_k", "norm_added_q", "norm_added_k"}) {
      shapes.push_back({block + "attn." + norm + ".weight", {head}});
    }
    linear(block + "img_mod.1", 6 * h, h);
    linear(block + "txt_mod.1", 6 * h, h);
    for (const char* mlp : {"img_mlp", "txt_mlp"}) {
      linear(block + mlp + ".net.0.proj", 4 * h, h);
      linear(block + mlp + ".net.2", h, 4 * h);
    }
  }
  linear("norm_out.linear", 2 * h, h);
  linear("proj_out", h, h);
  for (auto& shape : shapes) shape.name = options.prefix + shape.name;
  return shapes;
}

inline uint64_t splitmix64(uint64_t& state) {
  uint64_t z = (state += 0x9E3779B97F4A7C15ull);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

/// float -> BF16 bits, round to nearest even (finite inputs only).
inline uint16_t bf16_from_float(float value) {
  uint32_t bits;
  std::memcpy(&bits, &value, sizeof bits);
  bits += 0x7FFFu + ((bits >> 16) & 1u);
  return static_cast<uint16_t>(bits >> 16);
}

/// Deterministic BF16 values for `name`: uniform in ±range, where range depends on the
/// name (1/64 .. 4) so scales differ per tensor; a few exact zeros and tiny values so
/// the E4M3 subnormal range is exercised.
inline std::vector<uint8_t> synthetic_values(const std::string& name, uint64_t numel,
                                             const SyntheticModelOptions& options) {
  uint64_t state = options.seed;
  for (const char c : name) state = state * 131u + static_cast<unsigned char>(c);
  const float range = std::ldexp(1.0f, static_cast<int>(splitmix64(state) % 9) - 6);
  std::vector<uint8_t> bytes(numel * 2);
  for (uint64_t i = 0; i < numel; ++i) {
    const uint64_t random = splitmix64(state);
    float value = (static_cast<float>(random >> 40) / 16777216.0f * 2.0f - 1.0f) * range;
    if (random % 97 == 0) value = 0.0f;
    if (random % 89 == 0) value *= 1.0f / 4096.0f;
    uint16_t bits = bf16_from_float(value);
    if (name == options.zero_tensor) bits = 0;
    if (i == 0 && name == options.nan_tensor) bits = 0x7FC0;
    bytes[2 * i] = static_cast<uint8_t>(bits);
    bytes[2 * i + 1] = static_cast<uint8_t>(bits >> 8);
  }
  return bytes;
}

/// Writes the model to `path` (replacing it), one tensor in memory at a time.
inline void write_synthetic_model(const std::string& path, const SyntheticModelOptions& options) {
  std::vector<PlannedTensor> planned;
  for (const auto& shape : synthetic_qwen_shapes(options)) {
    planned.push_back({shape.name, Dtype::BF16, shape.shape});
  }
  const SafetensorsLayout layout(std::move(planned), options.metadata);
  AtomicFileOptions sink_options;
  sink_options.overwrite = true;
  sink_options.fsync = false;
  AtomicFileSink sink(path, sink_options);
  SafetensorsWriter writer(layout, sink);
  for (const auto& tensor : layout.tensors()) {
    const auto bytes = synthetic_values(tensor.name, tensor.numel, options);
    writer.write_tensor(tensor.name, bytes.data(), bytes.size());
  }
  writer.finish();
}

}  // namespace qfp8::test
