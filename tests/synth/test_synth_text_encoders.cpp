// test_synth_text_encoders.cpp — the synthetic text encoders' tables (in process, no file):
// tensor counts at full depth and exact full-width shapes, written out from ComfyUI's model
// classes (comfy/text_encoders/t5.py, llama.py, qwen_vl.py and their configs), and --prefix
// refused for a text encoder.
#include <catch2/catch.hpp>

#include <map>
#include <string>
#include <vector>

#include "core/error.hpp"
#include "synth/synth_models.hpp"

namespace {

using Shape = std::vector<uint64_t>;

std::map<std::string, Shape> table(const std::string& model, unsigned blocks = 0, unsigned div = 1) {
  qfp8::SynthConfig config;
  config.model = model;
  config.blocks = blocks;
  config.width_div = div;
  std::map<std::string, Shape> shapes;
  for (const auto& tensor : qfp8::synth_tensors(config)) shapes[tensor.name] = tensor.shape;
  return shapes;
}

}  // namespace

TEST_CASE("text encoders at full depth have the published tensor counts", "[synth][text-encoder]") {
  // T5: 24 blocks x 9 (q, k, v, o, 2 norms, wi_0, wi_1, wo) + block 0's bias + shared + final
  // norm; UMT5: a bias in every block.
  CHECK(table("t5xxl").size() == 24 * 9 + 3);
  CHECK(table("umt5xxl").size() == 24 * 10 + 2);
  // Qwen2.5-VL: 28 x 12 (q/k/v weight and bias, o, 3 MLP, 2 norms) + embedding + norm, and the
  // vision tower: patch conv + 32 x 12 (2 norms, qkv/proj/3 MLP with biases) + ln_q + merger 4.
  CHECK(table("qwen25-vl-7b").size() == 28 * 12 + 2 + 1 + 32 * 12 + 1 + 4);
  CHECK(table("qwen3-4b").size() == 36 * 11 + 2);        // + q_norm, k_norm
  CHECK(table("llama31-8b").size() == 32 * 9 + 2);
  CHECK(table("mistral-small-3").size() == 40 * 9 + 2);
  CHECK(table("gemma").size() == 26 * 11 + 2);           // + pre/post feed-forward norms
}

TEST_CASE("text encoders have the published full-width shapes", "[synth][text-encoder]") {
  const auto t5 = table("t5xxl", 2);
  CHECK(t5.at("shared.weight") == Shape{32128, 4096});
  CHECK(t5.at("encoder.block.1.layer.1.DenseReluDense.wi_0.weight") == Shape{10240, 4096});
  CHECK(t5.at("encoder.block.1.layer.1.DenseReluDense.wo.weight") == Shape{4096, 10240});
  CHECK(t5.at("encoder.block.0.layer.0.SelfAttention.relative_attention_bias.weight") == Shape{32, 64});
  CHECK(t5.count("encoder.block.1.layer.0.SelfAttention.relative_attention_bias.weight") == 0);
  CHECK(t5.at("encoder.final_layer_norm.weight") == Shape{4096});

  const auto umt5 = table("umt5xxl", 2);
  CHECK(umt5.at("shared.weight") == Shape{256384, 4096});
  CHECK(umt5.at("encoder.block.1.layer.0.SelfAttention.relative_attention_bias.weight") == Shape{32, 64});

  const auto qwen = table("qwen25-vl-7b", 1);
  CHECK(qwen.at("model.embed_tokens.weight") == Shape{152064, 3584});
  CHECK(qwen.at("model.layers.0.self_attn.q_proj.weight") == Shape{3584, 3584});
  CHECK(qwen.at("model.layers.0.self_attn.k_proj.bias") == Shape{512});
  CHECK(qwen.at("model.layers.0.mlp.down_proj.weight") == Shape{3584, 18944});
  CHECK(qwen.at("visual.patch_embed.proj.weight") == Shape{1280, 3, 2, 14, 14});
  CHECK(qwen.at("visual.blocks.31.attn.qkv.weight") == Shape{3840, 1280});
  CHECK(qwen.at("visual.blocks.31.mlp.down_proj.weight") == Shape{1280, 3420});
  CHECK(qwen.at("visual.merger.mlp.0.weight") == Shape{5120, 5120});
  CHECK(qwen.at("visual.merger.mlp.2.weight") == Shape{3584, 5120});
  CHECK(qwen.count("lm_head.weight") == 0);  // ComfyUI builds no lm_head

  const auto qwen3 = table("qwen3-4b", 1);
  CHECK(qwen3.at("model.embed_tokens.weight") == Shape{151936, 2560});
  CHECK(qwen3.at("model.layers.0.self_attn.q_proj.weight") == Shape{4096, 2560});
  CHECK(qwen3.at("model.layers.0.self_attn.k_proj.weight") == Shape{1024, 2560});
  CHECK(qwen3.at("model.layers.0.self_attn.q_norm.weight") == Shape{128});
  CHECK(qwen3.at("model.layers.0.mlp.gate_proj.weight") == Shape{9728, 2560});

  const auto llama = table("llama31-8b", 1);
  CHECK(llama.at("model.embed_tokens.weight") == Shape{128256, 4096});
  CHECK(llama.at("model.layers.0.mlp.gate_proj.weight") == Shape{14336, 4096});
  CHECK(llama.at("model.layers.0.self_attn.v_proj.weight") == Shape{1024, 4096});

  const auto mistral = table("mistral-small-3", 1);
  CHECK(mistral.at("model.embed_tokens.weight") == Shape{131072, 5120});
  CHECK(mistral.at("model.layers.0.self_attn.q_proj.weight") == Shape{4096, 5120});
  CHECK(mistral.at("model.layers.0.self_attn.o_proj.weight") == Shape{5120, 4096});
  CHECK(mistral.at("model.layers.0.mlp.up_proj.weight") == Shape{32768, 5120});

  const auto gemma = table("gemma", 1);
  CHECK(gemma.at("model.embed_tokens.weight") == Shape{256000, 2304});
  CHECK(gemma.at("model.layers.0.self_attn.q_proj.weight") == Shape{2048, 2304});
  CHECK(gemma.at("model.layers.0.mlp.gate_proj.weight") == Shape{9216, 2304});
  CHECK(gemma.at("model.layers.0.pre_feedforward_layernorm.weight") == Shape{2304});
  CHECK(gemma.at("model.layers.0.post_feedforward_layernorm.weight") == Shape{2304});
}

TEST_CASE("narrowed text encoders keep vocabularies, heads and patch dims", "[synth][text-encoder]") {
  const auto t5 = table("t5xxl", 1, 16);
  CHECK(t5.at("shared.weight") == Shape{32128, 256});
  CHECK(t5.at("encoder.block.0.layer.0.SelfAttention.relative_attention_bias.weight") == Shape{32, 64});
  const auto qwen = table("qwen25-vl-7b", 1, 16);
  CHECK(qwen.at("model.embed_tokens.weight") == Shape{152064, 224});
  CHECK(qwen.at("visual.patch_embed.proj.weight") == Shape{80, 3, 2, 14, 14});
  CHECK(qwen.at("visual.blocks.0.mlp.up_proj.weight") == Shape{214, 80});  // 3420 / 16 rounded up
}

TEST_CASE("a text encoder cannot take the diffusion-model prefix", "[synth][text-encoder]") {
  qfp8::SynthConfig config;
  config.model = "umt5xxl";
  config.blocks = 1;
  config.prefix = true;
  REQUIRE_THROWS_MATCHES(qfp8::synth_tensors(config), qfp8::Error,
                         Catch::Matchers::Predicate<qfp8::Error>([](const qfp8::Error& error) {
                           return error.code() == qfp8::ErrorCode::Usage;
                         }));
}
