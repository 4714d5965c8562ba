// test_family_end_to_end_image_b.cpp — Z-Image and Lumina 2 synthetic checkpoints through synth,
// convert (defaults: --preset auto) and verify --against; the kept layers are written out here
// from comfy/ldm/lumina/model.py and docs/models.md, not read from the registry.
#include <catch2/catch.hpp>

#include "support/family_end_to_end.hpp"

using namespace qfp8::test;

namespace {

// Every block's attention and feed-forward: 5 Linears (qkv, out, w1, w2, w3) in each of the
// 2 noise refiners, 2 context refiners and 2 main blocks = 30 quantized layers.
std::set<std::string> block_linears() {
  std::set<std::string> layers;
  for (const std::string block : {"noise_refiner.0.", "noise_refiner.1.", "context_refiner.0.",
                                  "context_refiner.1.", "layers.0.", "layers.1."}) {
    for (const char* linear : {"attention.qkv", "attention.out", "feed_forward.w1", "feed_forward.w2",
                               "feed_forward.w3"}) {
      layers.insert(block + linear);
    }
  }
  return layers;
}

}  // namespace

TEST_CASE("z-image end to end: detected, keeps embedders, every modulation and the final layer",
          "[families][e2e]") {
  const FamilyConversion run = convert_synthetic_family("z-image", {"--blocks", "2", "--width-div", "16"});
  CHECK(run.convert_log.find("model family z-image from cap_embedder.1.weight, x_embedder.weight, "
                             "layers.0.adaLN_modulation.0.weight") != std::string::npos);
  // At width / 16 (stream 240, captions 160): every kept layer is eligible, the smallest being
  // final_layer.linear [64, 240] and t_embedder.mlp.0 [64, 256].
  const std::set<std::string> kept = {"x_embedder",
                                      "cap_embedder.1",
                                      "t_embedder.mlp.0",
                                      "t_embedder.mlp.2",
                                      "noise_refiner.0.adaLN_modulation.0",
                                      "noise_refiner.1.adaLN_modulation.0",
                                      "layers.0.adaLN_modulation.0",
                                      "layers.1.adaLN_modulation.0",
                                      "final_layer.adaLN_modulation.1",
                                      "final_layer.linear"};
  CHECK(run.kept == kept);
  CHECK(run.quantized == block_linears());
}

TEST_CASE("lumina2 end to end: detected, keeps embedders, every modulation and the final layer",
          "[families][e2e]") {
  const FamilyConversion run = convert_synthetic_family("lumina2", {"--blocks", "2", "--width-div", "16"});
  CHECK(run.convert_log.find("model family lumina2 from cap_embedder.1.weight, x_embedder.weight, "
                             "layers.0.adaLN_modulation.1.weight") != std::string::npos);
  // At width / 16 (stream 144): t_embedder.mlp.2 [64, 64] is exactly 4096 elements, eligible.
  const std::set<std::string> kept = {"x_embedder",
                                      "cap_embedder.1",
                                      "t_embedder.mlp.0",
                                      "t_embedder.mlp.2",
                                      "noise_refiner.0.adaLN_modulation.1",
                                      "noise_refiner.1.adaLN_modulation.1",
                                      "layers.0.adaLN_modulation.1",
                                      "layers.1.adaLN_modulation.1",
                                      "final_layer.adaLN_modulation.1",
                                      "final_layer.linear"};
  CHECK(run.kept == kept);
  CHECK(run.quantized == block_linears());
}

TEST_CASE("z-image end to end with the full-checkpoint prefix", "[families][e2e]") {
  const FamilyConversion run =
      convert_synthetic_family("z-image", {"--blocks", "1", "--width-div", "32", "--prefix"});
  CHECK(run.convert_log.find("model family z-image from model.diffusion_model.cap_embedder.1.weight") !=
        std::string::npos);
  CHECK(run.kept.count("model.diffusion_model.layers.0.adaLN_modulation.0") == 1);
  CHECK(run.quantized.count("model.diffusion_model.layers.0.attention.qkv") == 1);
}
