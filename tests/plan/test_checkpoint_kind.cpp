// test_checkpoint_kind.cpp — files that are no conversion target (docs/models.md#files-that-are-
// not-models): one synthetic header per kind with ComfyUI's / the quantizers' tensor names,
// the near-misses that must stay models, the planner's refusal, and what `convert` shows.
#include <catch2/catch.hpp>

#include <map>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/error.hpp"
#include "plan/checkpoint_kind.hpp"
#include "plan/conversion_plan.hpp"
#include "support/child_process.hpp"
#include "support/convert_checks.hpp"
#include "support/fp8_file_builder.hpp"
#include "support/plan_error.hpp"
#include "support/plan_headers.hpp"

using namespace qfp8;
using qfp8::test::make_header;
using Spec = qfp8::test::TensorSpec;

namespace {

/// `layers` kohya LoRA layers of rank 16 on 4096-wide linears, each with its alpha.
std::vector<Spec> kohya_lora(int layers) {
  std::vector<Spec> specs;
  for (int i = 0; i < layers; ++i) {
    const std::string layer = "lora_unet_double_blocks_" + std::to_string(i) + "_img_attn_qkv";
    specs.push_back({layer + ".alpha", Dtype::F32, {}});
    specs.push_back({layer + ".lora_down.weight", Dtype::BF16, {16, 4096}});
    specs.push_back({layer + ".lora_up.weight", Dtype::BF16, {4096, 16}});
  }
  return specs;
}

/// A small transformer: per block two 2-D weights, a bias and a norm.
std::vector<Spec> plain_model(int blocks) {
  std::vector<Spec> specs;
  for (int i = 0; i < blocks; ++i) {
    const std::string block = "blocks." + std::to_string(i);
    specs.push_back({block + ".attn.qkv.weight", Dtype::BF16, {192, 64}});
    specs.push_back({block + ".attn.qkv.bias", Dtype::BF16, {192}});
    specs.push_back({block + ".mlp.fc1.weight", Dtype::BF16, {256, 64}});
    specs.push_back({block + ".norm.weight", Dtype::BF16, {64}});
  }
  return specs;
}

std::vector<Spec> joined(std::vector<Spec> a, const std::vector<Spec>& b) {
  a.insert(a.end(), b.begin(), b.end());
  return a;
}

/// An SD-style KL VAE: encoder/decoder convolutions, attention and the latent convolutions.
std::vector<Spec> kl_vae() {
  std::vector<Spec> specs = {
      {"decoder.conv_in.weight", Dtype::F32, {512, 4, 3, 3}},
      {"decoder.conv_in.bias", Dtype::F32, {512}},
      {"encoder.conv_in.weight", Dtype::F32, {128, 3, 3, 3}},
      {"encoder.conv_in.bias", Dtype::F32, {128}},
      {"quant_conv.weight", Dtype::F32, {8, 8, 1, 1}},
      {"quant_conv.bias", Dtype::F32, {8}},
      {"post_quant_conv.weight", Dtype::F32, {4, 4, 1, 1}},
      {"post_quant_conv.bias", Dtype::F32, {4}},
  };
  for (int i = 0; i < 40; ++i) {
    const std::string stem = (i % 2 ? "decoder" : "encoder") + std::string(".mid.block_1.") +
                             std::to_string(i);
    specs.push_back({stem + ".conv1.weight", Dtype::F32, {512, 512, 3, 3}});
  }
  return specs;
}

CheckpointKind kind_of(const std::vector<Spec>& specs) {
  return classify_checkpoint(make_header(specs)).kind;
}

}  // namespace

TEST_CASE("a kohya LoRA is a LoRA adapter, with its evidence and reason", "[plan][kind]") {
  const KindVerdict verdict = classify_checkpoint(make_header(kohya_lora(64)));
  CHECK(verdict.kind == CheckpointKind::LoraAdapter);
  CHECK(verdict.format == "kohya names");
  CHECK(verdict.example == "lora_unet_double_blocks_0_img_attn_qkv.lora_down.weight");
  CHECK(verdict.count == 192);  // 64 layers x (down, up, alpha)
  CHECK(describe_kind(verdict) ==
        "LoRA adapter (kohya names: 'lora_unet_double_blocks_0_img_attn_qkv.lora_down.weight' "
        "and 191 more adapter tensors)");
}

TEST_CASE("LoRA naming variants ComfyUI's loader reads are LoRA adapters", "[plan][kind]") {
  const std::vector<std::pair<std::string, std::string>> up_down = {
      {".lora_B.weight", ".lora_A.weight"},                      // PEFT / diffusers
      {".lora_B.default.weight", ".lora_A.default.weight"},      // PEFT default adapter
      {".lora_B", ".lora_A"},                                    // Mochi trainer
      {".lora.up.weight", ".lora.down.weight"},                  // diffusers
      {"_lora.up.weight", "_lora.down.weight"},                  // old diffusers
      {".lora_linear_layer.up.weight", ".lora_linear_layer.down.weight"},  // transformers
  };
  for (const auto& [up, down] : up_down) {
    INFO(up);
    std::vector<Spec> specs;
    for (int i = 0; i < 8; ++i) {
      const std::string layer = "transformer_blocks." + std::to_string(i) + ".attn.to_q";
      specs.push_back({layer + up, Dtype::BF16, {3072, 16}});
      specs.push_back({layer + down, Dtype::BF16, {16, 3072}});
    }
    CHECK(kind_of(specs) == CheckpointKind::LoraAdapter);
  }
}

TEST_CASE("LyCORIS LoHa, LoKr, OFT and GLoRA files are LyCORIS adapters", "[plan][kind]") {
  const std::map<std::string, std::vector<std::string>> formats = {
      {"LoHa names", {".hada_w1_a", ".hada_w1_b", ".hada_w2_a", ".hada_w2_b", ".alpha"}},
      {"LoKr names", {".lokr_w1", ".lokr_w2_a", ".lokr_w2_b", ".alpha"}},
      {"OFT names", {".oft_blocks", ".rescale"}},
      {"GLoRA names", {".a1.weight", ".a2.weight", ".b1.weight", ".b2.weight"}},
  };
  for (const auto& [format, suffixes] : formats) {
    INFO(format);
    std::vector<Spec> specs;
    for (int i = 0; i < 4; ++i) {
      for (const auto& suffix : suffixes) {
        specs.push_back({"lora_unet_input_blocks_" + std::to_string(i) + "_proj" + suffix,
                         Dtype::BF16, {64, 64}});
      }
    }
    const KindVerdict verdict = classify_checkpoint(make_header(specs));
    CHECK(verdict.kind == CheckpointKind::LycorisAdapter);
    CHECK(verdict.format == format);
    CHECK(verdict.count == specs.size());
  }
}

TEST_CASE("VAEs are recognised by the keys ComfyUI's VAE class tests", "[plan][kind]") {
  const KindVerdict kl = classify_checkpoint(make_header(kl_vae()));
  CHECK(kl.kind == CheckpointKind::Vae);
  CHECK(kl.format == "AutoencoderKL (SD, SDXL, SD3, Flux)");
  CHECK(kl.example == "decoder.conv_in.weight");

  // Wan 2.1 / Qwen-Image: causal 3-D convolutions, RMS-norm gammas, conv1/conv2 latents.
  std::vector<Spec> wan = {{"decoder.middle.0.residual.0.gamma", Dtype::BF16, {384, 1, 1, 1}},
                           {"conv1.weight", Dtype::BF16, {32, 32, 1, 1, 1}},
                           {"conv2.weight", Dtype::BF16, {16, 16, 1, 1, 1}}};
  for (int i = 0; i < 30; ++i) {
    wan.push_back({"encoder.downsamples." + std::to_string(i) + ".residual.2.weight",
                   Dtype::BF16, {384, 384, 3, 3, 3}});
  }
  const KindVerdict wan21 = classify_checkpoint(make_header(wan));
  CHECK(wan21.kind == CheckpointKind::Vae);
  CHECK(wan21.format == "Wan 2.1 / Qwen-Image VAE");
  wan.push_back({"decoder.upsamples.0.upsamples.0.residual.2.weight", Dtype::BF16,
                 {1024, 1024, 3, 3, 3}});
  CHECK(classify_checkpoint(make_header(wan)).format == "Wan 2.2 VAE");

  // diffusers AutoencoderKL: its mid-block attention is 2-D (512x512) and was quantized.
  const std::vector<Spec> diffusers = {
      {"decoder.up_blocks.0.resnets.0.norm1.weight", Dtype::F32, {512}},
      {"decoder.mid_block.attentions.0.to_q.weight", Dtype::F32, {512, 512}},
      {"encoder.mid_block.attentions.0.to_q.weight", Dtype::F32, {512, 512}}};
  CHECK(kind_of(diffusers) == CheckpointKind::Vae);
}

TEST_CASE("quantization formats other than FP8 E4M3FN scaled are refused by name",
          "[plan][kind]") {
  const std::map<std::string, std::vector<Spec>> files = {
      {"bitsandbytes NF4",
       {{"single_blocks.0.linear1.weight", Dtype::U8, {98304, 1}},
        {"single_blocks.0.linear1.weight.absmax", Dtype::F32, {3072}},
        {"single_blocks.0.linear1.weight.quant_map", Dtype::F32, {16}},
        {"single_blocks.0.linear1.weight.quant_state.bitsandbytes__nf4", Dtype::U8, {120}}}},
      {"bitsandbytes int8",
       {{"single_blocks.0.linear1.weight", Dtype::I8, {192, 64}},
        {"single_blocks.0.linear1.SCB", Dtype::F32, {192}}}},
      {"NVFP4",  // ComfyUI's nvfp4: packed U8 codes, E4M3 block scales, per-tensor scale
       {{"single_blocks.0.linear1.weight", Dtype::U8, {192, 32}},
        {"single_blocks.0.linear1.weight_scale", Dtype::F8_E4M3, {192, 4}},
        {"single_blocks.0.linear1.weight_scale_2", Dtype::F32, {}},
        {"single_blocks.0.linear1.input_scale", Dtype::F32, {}}}},
      {"FP8 F8_E5M2 weights",
       {{"single_blocks.0.linear1.weight", Dtype::F8_E5M2, {192, 64}},
        {"single_blocks.0.linear1.weight_scale", Dtype::F32, {}}}},
      {"MX (F8_E8M0 block scales)",
       {{"single_blocks.0.linear1.weight", Dtype::U8, {192, 32}},
        {"single_blocks.0.linear1.weight_scale", Dtype::F8_E8M0, {192, 2}}}},
      {"I8 weights with scales",
       {{"single_blocks.0.linear1.weight", Dtype::I8, {192, 64}},
        {"single_blocks.0.linear1.weight_scale", Dtype::F32, {192, 1}}}},
      {"GPTQ/AWQ packed integers",
       {{"model.layers.0.self_attn.q_proj.qweight", Dtype::I32, {8, 64}},
        {"model.layers.0.self_attn.q_proj.qzeros", Dtype::I32, {1, 8}},
        {"model.layers.0.self_attn.q_proj.scales", Dtype::F16, {1, 64}}}},
  };
  for (const auto& [format, specs] : files) {
    INFO(format);
    const std::vector<Spec> file = joined(plain_model(2), specs);
    const KindVerdict verdict = classify_checkpoint(make_header(file));
    CHECK(verdict.kind == CheckpointKind::Quantized);
    CHECK(verdict.format == format);
    // Refused as what it is, not as FP8 (whose advice, `dequantize`, cannot read these).
    CHECK(qfp8::test::plan_error_code(make_header(file)) == ErrorCode::NotAConversionTarget);
  }
}

TEST_CASE("near-misses stay models", "[plan][kind]") {
  // One `alpha` parameter (a learned activation slope) is no adapter.
  CHECK(kind_of(joined(plain_model(4), {{"blocks.0.act.alpha", Dtype::F32, {1}}})) ==
        CheckpointKind::Model);
  // A few adapter tensors left in a model (under half of it): the model is converted.
  CHECK(kind_of(joined(plain_model(4), kohya_lora(1))) == CheckpointKind::Model);
  // Up without down, LoHa without all four factors, GLoRA's a1/a2 alone: no complete layer.
  CHECK(kind_of({{"head.lora_up.weight", Dtype::BF16, {64, 64}}}) == CheckpointKind::Model);
  CHECK(kind_of({{"x.hada_w1_a", Dtype::BF16, {64, 64}}, {"x.hada_w1_b", Dtype::BF16, {64, 64}}}) ==
        CheckpointKind::Model);
  CHECK(kind_of({{"x.a1.weight", Dtype::BF16, {64, 64}}, {"x.a2.weight", Dtype::BF16, {64, 64}}}) ==
        CheckpointKind::Model);
  // A T5 text encoder: everything under `encoder.`, but no VAE key.
  CHECK(kind_of({{"encoder.block.0.layer.0.SelfAttention.q.weight", Dtype::BF16, {4096, 4096}},
                 {"encoder.block.0.layer.1.DenseReluDense.wi_0.weight", Dtype::BF16, {10240, 4096}},
                 {"encoder.final_layer_norm.weight", Dtype::BF16, {4096}},
                 {"shared.weight", Dtype::BF16, {32128, 4096}}}) == CheckpointKind::Model);
  // A model with a VAE bundled at the top level (most tensors are the model's)...
  CHECK(kind_of(joined(plain_model(100), kl_vae())) == CheckpointKind::Model);
  // ... or under a prefix, as full SD checkpoints hold it (`first_stage_model.`).
  CHECK(kind_of(joined(plain_model(2), {{"first_stage_model.decoder.conv_in.weight", Dtype::F32,
                                         {512, 4, 3, 3}}})) == CheckpointKind::Model);
  // Integer tensors without scales (ids, masks), norms named `.scale` beside float weights.
  CHECK(kind_of(joined(plain_model(2), {{"ids.weight", Dtype::I32, {64, 64}},
                                        {"mask", Dtype::U8, {8}},
                                        {"position_ids", Dtype::I64, {1, 512}},
                                        {"blocks.0.norm.query_norm.scale", Dtype::BF16, {64}},
                                        {"blocks.0.attn.qkv.scale", Dtype::F32, {}}})) ==
        CheckpointKind::Model);
  // Our own FP8 output stays the planner's AlreadyQuantized, with its dequantize advice.
  const Header fp8 = make_header({{"blocks.0.attn.qkv.weight", Dtype::F8_E4M3, {192, 64}},
                                  {"blocks.0.attn.qkv.weight_scale", Dtype::F32, {}},
                                  {"blocks.0.attn.qkv.comfy_quant", Dtype::U8, {27}}});
  CHECK(classify_checkpoint(fp8).kind == CheckpointKind::Model);
  CHECK(qfp8::test::plan_error_code(fp8) == ErrorCode::AlreadyQuantized);
}

TEST_CASE("the planner refuses a LoRA with a message that says what the file is",
          "[plan][kind]") {
  try {
    make_conversion_plan(make_header(kohya_lora(2)), PlanOptions{}, "x.safetensors");
    FAIL("a LoRA was planned");
  } catch (const Error& error) {
    CHECK(error.code() == ErrorCode::NotAConversionTarget);
    CHECK(std::string(error.what()) ==
          "'x.safetensors' is a LoRA adapter (kohya names: "
          "'lora_unet_double_blocks_0_img_attn_qkv.lora_down.weight' and 5 more adapter "
          "tensors), not a model: ComfyUI applies a LoRA to a model it has loaded (its LoRA "
          "loader, comfy/lora.py) and reads the adapter's matrices without FP8 scales; convert "
          "the base model instead");
  }
}

TEST_CASE("convert refuses a rank-16 LoRA with exit 2 and no output, also as a dry run",
          "[plan][kind][convert]") {
  using namespace qfp8::test;
  const std::string dir = scratch_dir("convert_lora");
  FileImage lora;
  for (int i = 0; i < 2; ++i) {
    const std::string layer = "lora_unet_double_blocks_" + std::to_string(i) + "_img_attn_qkv";
    lora.put(bf16_tensor(layer + ".lora_down.weight", {16, 4096}, sample_weights(16 * 4096, i)));
    lora.put(bf16_tensor(layer + ".lora_up.weight", {4096, 16}, sample_weights(16 * 4096, i + 9)));
    lora.put(f32_tensor(layer + ".alpha", {}, {16.0f}));
  }
  const std::string in = write_image(dir + "/lora.safetensors", lora);
  const std::string out = dir + "/out.safetensors";
  remove_path(out);
  const ChildResult result = run_child({QFP8_BINARY, "convert", in, out}, dir);
  CHECK(result.exit_code == 2);
  CHECK(result.err.find("'" + in + "' is a LoRA adapter (kohya names: "
                        "'lora_unet_double_blocks_0_img_attn_qkv.lora_down.weight' and 5 more "
                        "adapter tensors), not a model") != std::string::npos);
  CHECK(result.err.find("convert the base model instead") != std::string::npos);
  CHECK_FALSE(path_exists(out));
  CHECK_FALSE(path_exists(out + ".partial"));
  CHECK_FALSE(path_exists(dir + "/.out.safetensors.lock"));

  const ChildResult dry = run_child({QFP8_BINARY, "convert", in, "--dry-run"}, dir);
  CHECK(dry.exit_code == 2);
  CHECK(dry.err.find("is a LoRA adapter") != std::string::npos);
}

TEST_CASE("inspect names the kind, in text and JSON", "[plan][kind][inspect]") {
  using namespace qfp8::test;
  const std::string dir = scratch_dir("inspect_kind");
  FileImage lora;
  lora.put(bf16_tensor("te.lora_A.weight", {16, 64}, sample_weights(16 * 64, 1)));
  lora.put(bf16_tensor("te.lora_B.weight", {64, 16}, sample_weights(16 * 64, 2)));
  const std::string adapter = write_image(dir + "/adapter.safetensors", lora);
  const ChildResult text = run_child({QFP8_BINARY, "inspect", adapter}, dir);
  CHECK(text.exit_code == 0);
  CHECK(text.out.find("kind:        LoRA adapter (PEFT names: 'te.lora_A.weight' and 1 more "
                      "adapter tensors)\n") != std::string::npos);
  const ChildResult json = run_child({QFP8_BINARY, "inspect", "--json", adapter}, dir);
  REQUIRE(json.exit_code == 0);
  const auto report = nlohmann::json::parse(json.out);
  CHECK(report["kind"] == "LoRA adapter");
  CHECK(report["kind_evidence"]["format"] == "PEFT names");
  CHECK(report["kind_evidence"]["example"] == "te.lora_A.weight");
  CHECK(report["kind_evidence"]["count"] == 2);

  // A model: "kind": "model" in JSON, and its text report has no kind line.
  const std::string model = write_image(dir + "/model.safetensors", small_source_model());
  const auto plain =
      nlohmann::json::parse(run_child({QFP8_BINARY, "inspect", "--json", model}, dir).out);
  CHECK(plain["kind"] == "model");
  CHECK(plain["kind_evidence"].is_null());
  CHECK(run_child({QFP8_BINARY, "inspect", model}, dir).out.find("kind:") == std::string::npos);
}
