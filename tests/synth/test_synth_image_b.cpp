// test_synth_image_b.cpp — the synthetic Z-Image and Lumina 2 tables (ComfyUI's NextDiT,
// comfy/ldm/lumina/model.py): tensor counts, parameter counts and exact full-width shapes of
// every kind of layer, the keys comfy/model_detection.py reads, and narrowing. In process: no file.
#include <catch2/catch.hpp>

#include <map>
#include <string>
#include <vector>

#include "core/error.hpp"
#include "synth/synth_models.hpp"

namespace {

using Shape = std::vector<uint64_t>;

std::map<std::string, Shape> shapes(const std::string& model, unsigned blocks, unsigned width_div = 1,
                                    bool prefix = false) {
  qfp8::SynthConfig config;
  config.model = model;
  config.blocks = blocks;
  config.width_div = width_div;
  config.prefix = prefix;
  std::map<std::string, Shape> table;
  for (const auto& t : qfp8::synth_tensors(config)) {
    CHECK(table.count(t.name) == 0);
    table[t.name] = t.shape;
  }
  return table;
}

uint64_t parameters(const std::map<std::string, Shape>& table) {
  uint64_t total = 0;
  for (const auto& [name, shape] : table) {
    uint64_t n = 1;
    for (auto d : shape) n *= d;
    total += n;
  }
  return total;
}

/// Count of names starting with `prefix`.
std::size_t under(const std::map<std::string, Shape>& table, const std::string& prefix) {
  std::size_t n = 0;
  for (const auto& entry : table) n += entry.first.compare(0, prefix.size(), prefix) == 0;
  return n;
}

}  // namespace

TEST_CASE("synth z-image at full size: 453 tensors, 6.15 B parameters, ComfyUI's shapes", "[synth]") {
  const auto z = shapes("z-image", 0);  // its full 30 blocks
  // 13 per modulated block (qkv, out, w1-w3, q/k norm, 4 RMSNorms, adaLN weight + bias) x (30 +
  // 2 noise refiners), 11 per context refiner x 2, 15 outside the blocks, 2 pad tokens.
  CHECK(z.size() == 453);
  CHECK(under(z, "layers.") == 30 * 13);
  CHECK(under(z, "noise_refiner.") == 2 * 13);
  CHECK(under(z, "context_refiner.") == 2 * 11);
  CHECK(parameters(z) == 6'154'908'736ull);
  // What model_detection.py reads: cap_embedder.1 [dim 3840, cap_feat_dim 2560], the layers.N
  // count (30), cap_pad_token (pad_tokens_multiple 32).
  CHECK(z.at("cap_embedder.1.weight") == Shape{3840, 2560});
  CHECK(z.count("layers.29.attention.qkv.weight") == 1);
  CHECK(z.count("layers.30.attention.qkv.weight") == 0);
  CHECK(z.at("cap_pad_token") == Shape{1, 3840});
  CHECK(z.at("x_pad_token") == Shape{1, 3840});
  // What NextDiT builds for that config: 30 heads of 128 (qkv 3 x 3840), FFN 10240,
  // z_image_modulation (adaLN_modulation.0: 256 -> 4 x 3840; timestep MLP 256 -> 1024 -> 256).
  CHECK(z.at("x_embedder.weight") == Shape{3840, 64});
  CHECK(z.at("cap_embedder.0.weight") == Shape{2560});
  CHECK(z.at("t_embedder.mlp.0.weight") == Shape{1024, 256});
  CHECK(z.at("t_embedder.mlp.2.weight") == Shape{256, 1024});
  CHECK(z.at("layers.0.attention.qkv.weight") == Shape{11520, 3840});
  CHECK(z.count("layers.0.attention.qkv.bias") == 0);
  CHECK(z.at("layers.0.attention.out.weight") == Shape{3840, 3840});
  CHECK(z.count("layers.0.attention.out.bias") == 0);
  CHECK(z.at("layers.0.attention.k_norm.weight") == Shape{128});
  CHECK(z.at("layers.0.feed_forward.w1.weight") == Shape{10240, 3840});
  CHECK(z.at("layers.0.feed_forward.w2.weight") == Shape{3840, 10240});
  CHECK(z.at("layers.0.ffn_norm2.weight") == Shape{3840});
  CHECK(z.at("layers.7.adaLN_modulation.0.weight") == Shape{15360, 256});
  CHECK(z.at("layers.7.adaLN_modulation.0.bias") == Shape{15360});
  CHECK(z.at("noise_refiner.1.adaLN_modulation.0.weight") == Shape{15360, 256});
  CHECK(z.count("context_refiner.1.adaLN_modulation.0.weight") == 0);
  CHECK(z.at("final_layer.linear.weight") == Shape{64, 3840});
  CHECK(z.at("final_layer.adaLN_modulation.1.weight") == Shape{3840, 256});
  CHECK(z.count("norm_final.weight") == 0);  // ComfyUI's NextDiT has no such parameter
}

TEST_CASE("synth lumina2 at full size: 399 tensors, 2.61 B parameters, ComfyUI's shapes", "[synth]") {
  const auto l = shapes("lumina2", 0);  // its full 26 blocks
  CHECK(l.size() == 26 * 13 + 2 * 13 + 2 * 11 + 13);
  CHECK(l.size() == 399);
  CHECK(parameters(l) == 2'609'769'152ull);
  CHECK(l.at("cap_embedder.1.weight") == Shape{2304, 2304});  // dim 2304: the Lumina 2 config
  CHECK(l.count("layers.25.attention.qkv.weight") == 1);
  CHECK(l.count("layers.26.attention.qkv.weight") == 0);
  CHECK(l.count("cap_pad_token") == 0);
  CHECK(l.count("x_pad_token") == 0);
  // 24 query heads and 8 key/value heads of 96: (24 + 8 + 8) x 96 = 3840.
  CHECK(l.at("layers.0.attention.qkv.weight") == Shape{3840, 2304});
  CHECK(l.at("layers.0.attention.out.weight") == Shape{2304, 2304});
  CHECK(l.at("layers.0.attention.q_norm.weight") == Shape{96});
  CHECK(l.at("layers.0.feed_forward.w3.weight") == Shape{9216, 2304});
  CHECK(l.at("layers.0.adaLN_modulation.1.weight") == Shape{9216, 1024});
  CHECK(l.count("layers.0.adaLN_modulation.0.weight") == 0);
  CHECK(l.at("noise_refiner.0.adaLN_modulation.1.weight") == Shape{9216, 1024});
  CHECK(l.at("t_embedder.mlp.0.weight") == Shape{1024, 256});
  CHECK(l.at("t_embedder.mlp.2.weight") == Shape{1024, 1024});
  CHECK(l.at("final_layer.adaLN_modulation.1.weight") == Shape{2304, 1024});
  CHECK(l.at("final_layer.linear.bias") == Shape{64});
}

TEST_CASE("synth z-image and lumina2 narrow the stream, not the patch or timestep widths", "[synth]") {
  const auto z = shapes("z-image", 2, 16, true);
  const std::string p = "model.diffusion_model.";
  CHECK(z.size() == 2 * 13 + 63);
  CHECK(z.at(p + "cap_embedder.1.weight") == Shape{240, 160});
  CHECK(z.at(p + "layers.1.adaLN_modulation.0.weight") == Shape{960, 256});
  CHECK(z.at(p + "t_embedder.mlp.0.weight") == Shape{64, 256});
  CHECK(z.at(p + "final_layer.linear.weight") == Shape{64, 240});
  CHECK(z.at(p + "layers.0.attention.q_norm.weight") == Shape{8});
  const auto l = shapes("lumina2", 1, 256);
  CHECK(l.at("x_embedder.weight") == Shape{9, 64});
  CHECK(l.at("layers.0.attention.qkv.weight") == Shape{15, 9});
  CHECK(l.at("layers.0.adaLN_modulation.1.weight") == Shape{36, 4});
  qfp8::SynthConfig too_narrow;
  too_narrow.model = "lumina2";
  too_narrow.width_div = 512;
  CHECK_THROWS_AS(qfp8::validate_synth_config(too_narrow), qfp8::Error);
}
