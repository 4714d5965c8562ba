// test_family_end_to_end_text.cpp — each text encoder's synthetic checkpoint through synth,
// convert (defaults: --preset auto, the layout the plan picks) and verify --against. The kept
// layers are written out here from each model's definition (docs/models.md#text-encoders):
// the token embedding always, Qwen2.5-VL's vision tower; every other eligible matrix is FP8.
#include <catch2/catch.hpp>

#include "support/family_end_to_end.hpp"

using namespace qfp8::test;

namespace {

/// The 7 Linears of each of `layers` language-model layers ("model.layers.N.").
std::set<std::string> language_model_layers(int layers) {
  std::set<std::string> names;
  for (int n = 0; n < layers; ++n) {
    const std::string l = "model.layers." + std::to_string(n) + ".";
    for (const char* p : {"self_attn.q_proj", "self_attn.k_proj", "self_attn.v_proj",
                          "self_attn.o_proj", "mlp.gate_proj", "mlp.up_proj", "mlp.down_proj"}) {
      names.insert(l + p);
    }
  }
  return names;
}

/// The 7 Linears of each of `blocks` T5 encoder blocks.
std::set<std::string> t5_layers(int blocks) {
  std::set<std::string> names;
  for (int n = 0; n < blocks; ++n) {
    const std::string b = "encoder.block." + std::to_string(n) + ".layer.";
    for (const char* p : {"0.SelfAttention.q", "0.SelfAttention.k", "0.SelfAttention.v",
                          "0.SelfAttention.o", "1.DenseReluDense.wi_0", "1.DenseReluDense.wi_1",
                          "1.DenseReluDense.wo"}) {
      names.insert(b + p);
    }
  }
  return names;
}

void check_detected_legacy(const FamilyConversion& run, const std::string& family) {
  INFO(run.convert_log);
  CHECK(run.convert_log.find("model family " + family + " from ") != std::string::npos);
  CHECK(run.convert_log.find("text encoder (" + family + "): legacy layout (scaled_fp8)") !=
        std::string::npos);
  CHECK(run.legacy);
}

}  // namespace

TEST_CASE("t5xxl end to end: detected, legacy layout, keeps the token embedding",
          "[families][e2e][text-encoder]") {
  const FamilyConversion run = convert_synthetic_family("t5xxl", {"--blocks", "2", "--width-div", "16"});
  check_detected_legacy(run, "t5xxl");
  // relative_attention_bias [32, 64] has 2048 elements: not eligible, so not listed.
  CHECK(run.kept == std::set<std::string>{"shared"});
  CHECK(run.quantized == t5_layers(2));
}

TEST_CASE("umt5xxl end to end: detected, legacy layout, keeps the token embedding",
          "[families][e2e][text-encoder]") {
  const FamilyConversion run = convert_synthetic_family("umt5xxl", {"--blocks", "2", "--width-div", "64"});
  check_detected_legacy(run, "umt5xxl");
  CHECK(run.kept == std::set<std::string>{"shared"});
  CHECK(run.quantized == t5_layers(2));
}

TEST_CASE("qwen25-vl-7b end to end: keeps the token embedding and the whole vision tower",
          "[families][e2e][text-encoder]") {
  const FamilyConversion run = convert_synthetic_family("qwen25-vl-7b", {"--blocks", "2", "--width-div", "16"});
  check_detected_legacy(run, "qwen25-vl-7b");
  // At width / 16 every vision matrix has >= 4096 elements: qkv [240, 80], proj [80, 80],
  // gate/up [214, 80], down [80, 214]; the merger's [320, 320] and [224, 320]. The patch
  // embedding is a 5-D convolution (never a candidate).
  std::set<std::string> kept = {"model.embed_tokens", "visual.merger.mlp.0", "visual.merger.mlp.2"};
  for (int n = 0; n < 32; ++n) {
    const std::string b = "visual.blocks." + std::to_string(n) + ".";
    for (const char* p : {"attn.qkv", "attn.proj", "mlp.gate_proj", "mlp.up_proj", "mlp.down_proj"}) {
      kept.insert(b + p);
    }
  }
  CHECK(run.kept == kept);
  CHECK(run.quantized == language_model_layers(2));
}

/// A language model whose only kept layer is its token embedding, converted at width / `div`
/// (k_proj then still has >= 4096 elements: [64, 160], [64, 256], [32, 160], [64, 144]).
void check_language_model(const std::string& model, const std::string& div) {
  const FamilyConversion run = convert_synthetic_family(model, {"--blocks", "2", "--width-div", div});
  check_detected_legacy(run, model);
  CHECK(run.kept == std::set<std::string>{"model.embed_tokens"});
  CHECK(run.quantized == language_model_layers(2));
}

TEST_CASE("qwen3-4b end to end: keeps the token embedding", "[families][e2e][text-encoder]") {
  check_language_model("qwen3-4b", "16");
}

TEST_CASE("llama31-8b end to end: keeps the token embedding", "[families][e2e][text-encoder]") {
  check_language_model("llama31-8b", "16");
}

TEST_CASE("mistral-small-3 end to end: keeps the token embedding", "[families][e2e][text-encoder]") {
  check_language_model("mistral-small-3", "32");
}

TEST_CASE("gemma end to end: keeps the token embedding", "[families][e2e][text-encoder]") {
  check_language_model("gemma", "16");
}

TEST_CASE("a text encoder with --layout comfy: _quantization_metadata, same layers",
          "[families][e2e][text-encoder]") {
  const FamilyConversion run =
      convert_synthetic_family("qwen3-4b", {"--blocks", "2", "--width-div", "16"}, {"--layout", "comfy"});
  CHECK_FALSE(run.legacy);
  CHECK(run.convert_log.find("legacy layout") == std::string::npos);
  CHECK(run.kept == std::set<std::string>{"model.embed_tokens"});
  CHECK(run.quantized == language_model_layers(2));
}
