// test_conversion_plan.cpp — the quantize predicate (docs/format.md#selection), presets, --include/--exclude,
// the plan-time refusals, and the planned outputs in the reference writer's layout order.
#include <catch2/catch.hpp>

#include <map>
#include <string>
#include <vector>

#include "core/error.hpp"
#include "plan/conversion_plan.hpp"
#include "support/plan_error.hpp"
#include "support/plan_headers.hpp"

using namespace qfp8;
using qfp8::test::decision_for;
using qfp8::test::make_header;
using qfp8::test::reason;
using Spec = qfp8::test::TensorSpec;

TEST_CASE("default rule: .weight, float, 2-D, >= 4096 elements", "[plan]") {
  const Header header = make_header({
      {"a.weight", Dtype::BF16, {64, 64}},        // exactly 4096
      {"a.bias", Dtype::BF16, {64}},
      {"b.weight", Dtype::I64, {64, 64}},
      {"c.weight", Dtype::F16, {8192}},
      {"d.weight", Dtype::F32, {2, 2, 1024}},
      {"e.weight", Dtype::BF16, {32, 32}},
      {"f.weight", Dtype::BF16, {3, 1365}},       // 4095
      {"g.weight", Dtype::F16, {128, 64}},
      {"h.weight", Dtype::F32, {64, 128}},
      {"i.weight", Dtype::BF16, {0, 8192}},
      {"s.weight", Dtype::F32, {}},
      {"weight", Dtype::BF16, {64, 64}},          // no ".weight" suffix
      {"j.weight_x", Dtype::BF16, {64, 64}},
  });
  PlanOptions options;
  options.preset = Preset::None;
  const ConversionPlan plan = make_conversion_plan(header, options, "in.safetensors");
  CHECK(reason(plan, "a.weight") == "quantize");
  CHECK(reason(plan, "a.bias") == "keep: not .weight");
  CHECK(reason(plan, "b.weight") == "keep: dtype I64");
  CHECK(reason(plan, "c.weight") == "keep: 1-D");
  CHECK(reason(plan, "d.weight") == "keep: 3-D");
  CHECK(reason(plan, "e.weight") == "keep: 1024 elements < 4096");
  CHECK(reason(plan, "f.weight") == "keep: 4095 elements < 4096");
  CHECK(reason(plan, "g.weight") == "quantize");
  CHECK(reason(plan, "h.weight") == "quantize");
  CHECK(reason(plan, "i.weight") == "keep: 0 elements");
  CHECK(reason(plan, "s.weight") == "keep: 0-D");
  CHECK(reason(plan, "weight") == "keep: not .weight");
  CHECK(reason(plan, "j.weight_x") == "keep: not .weight");
  CHECK(plan.quantized_count == 3);  // a, g, h
  CHECK(plan.kept_count == 10);
  CHECK(decision_for(plan, "a.weight").quantize);
  CHECK_FALSE(decision_for(plan, "e.weight").quantize);
  // One decision per input tensor, in byte-wise name order.
  REQUIRE(plan.decisions.size() == header.tensors.size());
  for (std::size_t i = 1; i < plan.decisions.size(); ++i) {
    CHECK(plan.decisions[i - 1].name < plan.decisions[i].name);
  }
}

namespace {
std::vector<Spec> qwen_specs(const std::string& prefix, bool with_txt_norm) {
  std::vector<Spec> specs = {
      {prefix + "img_in.weight", Dtype::BF16, {64, 64}},
      {prefix + "txt_in.weight", Dtype::BF16, {64, 80}},
      {prefix + "time_text_embed.timestep_embedder.linear_2.weight", Dtype::BF16, {64, 64}},
      {prefix + "norm_out.linear.weight", Dtype::BF16, {128, 64}},
      {prefix + "proj_out.weight", Dtype::BF16, {64, 64}},
      {prefix + "transformer_blocks.0.img_mod.1.weight", Dtype::BF16, {384, 64}},
      {prefix + "transformer_blocks.0.txt_mod.1.weight", Dtype::BF16, {384, 64}},
      {prefix + "transformer_blocks.1.img_mod.1.weight", Dtype::BF16, {384, 64}},
      {prefix + "transformer_blocks.10.img_mod.1.weight", Dtype::BF16, {384, 64}},
      {prefix + "transformer_blocks.0.img_mlp.net.2.weight", Dtype::BF16, {64, 256}},
      {prefix + "transformer_blocks.0.attn.to_q.weight", Dtype::BF16, {64, 64}},
      {prefix + "proj_out_extra.weight", Dtype::BF16, {64, 64}},
  };
  if (with_txt_norm) specs.push_back({prefix + "txt_norm.weight", Dtype::BF16, {80}});
  return specs;
}
}  // namespace

TEST_CASE("qwen-image preset keeps the spec's layers, bare or prefixed", "[plan]") {
  for (const std::string prefix : {"", "model.diffusion_model."}) {
    const ConversionPlan plan = make_conversion_plan(make_header(qwen_specs(prefix, true)), {}, "in");
    CHECK(plan.detected_model == "qwen-image");
    CHECK(plan.applied_preset == Preset::QwenImage);
    CHECK(reason(plan, prefix + "img_in.weight") == "keep: qwen-image preset (img_in)");
    CHECK(reason(plan, prefix + "txt_in.weight") == "keep: qwen-image preset (txt_in)");
    CHECK(reason(plan, prefix + "time_text_embed.timestep_embedder.linear_2.weight") ==
          "keep: qwen-image preset (time_text_embed.*)");
    CHECK(reason(plan, prefix + "norm_out.linear.weight") == "keep: qwen-image preset (norm_out.*)");
    CHECK(reason(plan, prefix + "proj_out.weight") == "keep: qwen-image preset (proj_out)");
    CHECK(reason(plan, prefix + "transformer_blocks.0.img_mod.1.weight") ==
          "keep: qwen-image preset (transformer_blocks.0.img_mod.1)");
    CHECK(reason(plan, prefix + "transformer_blocks.0.txt_mod.1.weight") == "quantize");
    CHECK(reason(plan, prefix + "transformer_blocks.1.img_mod.1.weight") == "quantize");
    CHECK(reason(plan, prefix + "transformer_blocks.10.img_mod.1.weight") == "quantize");
    CHECK(reason(plan, prefix + "transformer_blocks.0.img_mlp.net.2.weight") == "quantize");
    CHECK(reason(plan, prefix + "transformer_blocks.0.attn.to_q.weight") == "quantize");
    CHECK(reason(plan, prefix + "proj_out_extra.weight") == "quantize");
    CHECK(reason(plan, prefix + "txt_norm.weight") == "keep: 1-D");
    CHECK(plan.quantized_count == 6);
  }
}

TEST_CASE("auto preset needs txt_norm.weight; none and explicit presets override", "[plan]") {
  const Header generic = make_header(qwen_specs("", false));
  const ConversionPlan auto_plan = make_conversion_plan(generic, {}, "in");
  CHECK(auto_plan.detected_model.empty());
  CHECK(auto_plan.applied_preset == Preset::None);
  CHECK(reason(auto_plan, "img_in.weight") == "quantize");

  PlanOptions forced;
  forced.preset = Preset::QwenImage;
  CHECK(reason(make_conversion_plan(generic, forced, "in"), "img_in.weight") ==
        "keep: qwen-image preset (img_in)");

  PlanOptions none;
  none.preset = Preset::None;
  const ConversionPlan bare = make_conversion_plan(make_header(qwen_specs("", true)), none, "in");
  CHECK(bare.detected_model == "qwen-image");
  CHECK(bare.applied_preset == Preset::None);
  CHECK(reason(bare, "img_in.weight") == "quantize");
  CHECK(bare.quantized_count == 12);

  CHECK(preset_from_name("qwen-image") == Preset::QwenImage);
  CHECK(preset_from_name("none") == Preset::None);
  CHECK(preset_from_name("auto") == Preset::Auto);
  CHECK_THROWS_AS(preset_from_name("qwen"), Error);
}

TEST_CASE("include and exclude patterns", "[plan]") {
  const Header header = make_header({
      {"txt_norm.weight", Dtype::BF16, {80}},
      {"img_in.weight", Dtype::BF16, {64, 64}},
      {"small.weight", Dtype::BF16, {16, 16}},
      {"blk.img_mlp.net.2.weight", Dtype::BF16, {64, 256}},
      {"blk.txt_mlp.net.2.weight", Dtype::BF16, {64, 256}},
      {"blk.norm.weight", Dtype::BF16, {8192}},
      {"ids.weight", Dtype::I32, {64, 64}},
  });
  PlanOptions options;
  options.include_patterns = {"^img_in", "small", "norm", "ids", "txt_mlp"};
  options.exclude_patterns = {"img_mlp", "txt_mlp\\.net\\.[0-9]"};
  const ConversionPlan plan = make_conversion_plan(header, options, "in");
  CHECK(reason(plan, "img_in.weight") == "quantize: --include '^img_in'");   // beats the preset
  CHECK(reason(plan, "small.weight") == "quantize: --include 'small'");      // beats the size
  CHECK(reason(plan, "blk.norm.weight") == "keep: 1-D");                     // structural
  CHECK(reason(plan, "txt_norm.weight") == "keep: 1-D");
  CHECK(reason(plan, "ids.weight") == "keep: dtype I32");
  CHECK(reason(plan, "blk.img_mlp.net.2.weight") == "keep: --exclude 'img_mlp'");
  CHECK(reason(plan, "blk.txt_mlp.net.2.weight") == "keep: --exclude 'txt_mlp\\.net\\.[0-9]'");
  CHECK(plan.quantized_count == 2);

  PlanOptions bad;
  bad.include_patterns = {"(unclosed"};
  CHECK(qfp8::test::plan_error_code(header, bad) == ErrorCode::Usage);
  bad.include_patterns.clear();
  bad.exclude_patterns = {"[z-a]"};
  CHECK(qfp8::test::plan_error_code(header, bad) == ErrorCode::Usage);
}

TEST_CASE("names a quantized layer would add must be free", "[plan]") {
  for (const std::string taken : {"a.weight_scale", "a.comfy_quant", "a.input_scale"}) {
    const Header header = make_header({{"a.weight", Dtype::BF16, {64, 64}}, {taken, Dtype::F32, {}}});
    CHECK(qfp8::test::plan_error_code(header) == ErrorCode::NameClash);
    try {
      make_conversion_plan(header, {}, "in.safetensors");
    } catch (const Error& error) {
      CHECK(error.tensor() == taken);
      CHECK(error.file() == "in.safetensors");
    }
  }
  // A kept layer's neighbours clash with nothing.
  const Header kept = make_header({{"b.weight", Dtype::BF16, {4}}, {"b.weight_scale", Dtype::F32, {}}});
  CHECK_NOTHROW(make_conversion_plan(kept, {}, "in"));
}

TEST_CASE("already-quantized input is refused", "[plan]") {
  CHECK(qfp8::test::plan_error_code(make_header({{"a.weight", Dtype::F8_E4M3, {64, 64}}})) ==
        ErrorCode::AlreadyQuantized);
  CHECK(qfp8::test::plan_error_code(make_header({{"a.weight", Dtype::BF16, {64, 64}},
                                  {"scaled_fp8", Dtype::BF16, {2}}})) == ErrorCode::AlreadyQuantized);
  CHECK(qfp8::test::plan_error_code(make_header({{"model.diffusion_model.scaled_fp8", Dtype::U8, {0}}})) ==
        ErrorCode::AlreadyQuantized);
  CHECK(qfp8::test::plan_error_code(make_header({{"a.weight", Dtype::BF16, {64, 64}}},
                                 {{"_quantization_metadata", "{}"}})) == ErrorCode::AlreadyQuantized);
  try {
    make_conversion_plan(make_header({{"a.weight", Dtype::F8_E4M3, {64, 64}}}), {}, "in.safetensors");
  } catch (const Error& error) {
    CHECK(std::string(error.what()) ==
          "in.safetensors: tensor 'a.weight': cannot convert: input is already quantized "
          "(F8_E4M3 tensor); nothing declares its FP8 layers (no _quantization_metadata, "
          "scaled_fp8 marker or .comfy_quant tensor), so their scales are unknown and "
          "'qfp8-cuda dequantize' cannot restore them: convert the original BF16/F16/F32 "
          "checkpoint instead");
  }
}

TEST_CASE("already-quantized advice points at dequantize only for declared FP8 layers",
          "[plan]") {
  const auto message_of = [](const Header& header) {
    try {
      make_conversion_plan(header, {}, "in");
    } catch (const Error& error) {
      return std::string(error.what());
    }
    return std::string("no error");
  };
  const std::string dequantize = "; run 'qfp8-cuda dequantize IN OUT' first";
  // Per-layer .comfy_quant tensors declare the layer (as ComfyUI reads them).
  CHECK(message_of(make_header({{"a.weight", Dtype::F8_E4M3, {64, 64}},
                                {"a.weight_scale", Dtype::F32, {}},
                                {"a.comfy_quant", Dtype::U8, {27}}}))
            .find(dequantize) != std::string::npos);
  CHECK(message_of(make_header({{"a.weight", Dtype::F8_E4M3, {64, 64}},
                                {"a.scale_weight", Dtype::F32, {}},
                                {"scaled_fp8", Dtype::F8_E4M3, {0}}}))
            .find(dequantize) != std::string::npos);
  CHECK(message_of(make_header({{"a.weight", Dtype::F8_E4M3, {64, 64}}},
                               {{"_quantization_metadata", "{}"}}))
            .find(dequantize) != std::string::npos);
  // Declared, but no FP8 weight: nothing for dequantize to do.
  const std::string stale = message_of(make_header({{"a.weight", Dtype::BF16, {64, 64}}},
                                                   {{"_quantization_metadata", "{}"}}));
  CHECK(stale.find(dequantize) == std::string::npos);
  CHECK(stale.find("; it declares FP8 layers but holds no FP8 weight to dequantize: convert the "
                   "original BF16/F16/F32 checkpoint instead") != std::string::npos);
}

TEST_CASE("outputs, constants, metadata and layout order", "[plan]") {
  const Header header = make_header({{"mask", Dtype::U8, {8}},
                                     {"blk.weight", Dtype::BF16, {64, 64}},
                                     {"blk.bias", Dtype::BF16, {64}},
                                     {"emb.weight", Dtype::F32, {64, 128}},
                                     {"idx", Dtype::I64, {4}}},
                                    {{"format", "pt"}});
  PlanOptions options;
  options.write_input_scale = true;
  const ConversionPlan plan = make_conversion_plan(header, options, "in");
  // Reference writer order: dtype descending (I64 > F32 > BF16 > F8_E4M3 > U8), then name.
  struct Expected {
    const char* name;
    Dtype dtype;
    std::vector<uint64_t> shape;
    OutputSource source;
    const char* source_name;
  };
  const std::vector<Expected> expected = {
      {"idx", Dtype::I64, {4}, OutputSource::CopyOfInput, "idx"},
      {"blk.input_scale", Dtype::F32, {}, OutputSource::Constant, ""},
      {"blk.weight_scale", Dtype::F32, {}, OutputSource::WeightScale, "blk.weight"},
      {"emb.input_scale", Dtype::F32, {}, OutputSource::Constant, ""},
      {"emb.weight_scale", Dtype::F32, {}, OutputSource::WeightScale, "emb.weight"},
      {"blk.bias", Dtype::BF16, {64}, OutputSource::CopyOfInput, "blk.bias"},
      {"blk.weight", Dtype::F8_E4M3, {64, 64}, OutputSource::QuantizedWeight, "blk.weight"},
      {"emb.weight", Dtype::F8_E4M3, {64, 128}, OutputSource::QuantizedWeight, "emb.weight"},
      {"blk.comfy_quant", Dtype::U8, {27}, OutputSource::Constant, ""},
      {"emb.comfy_quant", Dtype::U8, {27}, OutputSource::Constant, ""},
      {"mask", Dtype::U8, {8}, OutputSource::CopyOfInput, "mask"},
  };
  REQUIRE(plan.outputs.size() == expected.size());
  REQUIRE(plan.layout.tensors().size() == expected.size());
  uint64_t offset = 0;
  for (std::size_t i = 0; i < expected.size(); ++i) {
    INFO("output " << i);
    const TensorInfo& tensor = plan.layout.tensors()[i];
    CHECK(plan.outputs[i].name == expected[i].name);
    CHECK(tensor.name == expected[i].name);
    CHECK(tensor.dtype == expected[i].dtype);
    CHECK(tensor.shape == expected[i].shape);
    CHECK(plan.outputs[i].source == expected[i].source);
    if (expected[i].source != OutputSource::Constant) {
      CHECK(plan.outputs[i].source_name == expected[i].source_name);
    }
    CHECK(tensor.begin == offset);
    offset = tensor.end;
  }
  CHECK(plan.outputs[1].constant_bytes == std::string("\x00\x00\x80\x3f", 4));  // 1.0f LE
  CHECK(plan.outputs[8].constant_bytes == "{\"format\": \"float8_e4m3fn\"}");
  CHECK(plan.metadata.at("format") == "pt");
  CHECK(plan.metadata.at("_quantization_metadata") ==
        "{\"format_version\": \"1.0\", \"layers\": {\"blk\": {\"format\": \"float8_e4m3fn\"}, "
        "\"emb\": {\"format\": \"float8_e4m3fn\"}}}");
  CHECK(plan.quantized_count == 2);
  CHECK(plan.kept_count == 3);
}

TEST_CASE("options shape the outputs; no layer, no quantization metadata", "[plan]") {
  const Header header = make_header({{"blk.weight", Dtype::BF16, {64, 64}}});
  PlanOptions options;
  options.write_comfy_quant = false;
  options.full_precision_mm = true;
  const ConversionPlan plan = make_conversion_plan(header, options, "in");
  REQUIRE(plan.outputs.size() == 2);
  CHECK(plan.outputs[0].name == "blk.weight_scale");
  CHECK(plan.outputs[1].name == "blk.weight");
  CHECK(plan.metadata.at("_quantization_metadata") ==
        "{\"format_version\": \"1.0\", \"layers\": {\"blk\": {\"format\": \"float8_e4m3fn\", "
        "\"full_precision_matrix_mult\": true}}}");

  PlanOptions with_config;
  with_config.full_precision_mm = true;
  const ConversionPlan full = make_conversion_plan(header, with_config, "in");
  CHECK(full.outputs.back().constant_bytes ==
        "{\"format\": \"float8_e4m3fn\", \"full_precision_matrix_mult\": true}");

  const ConversionPlan none = make_conversion_plan(
      make_header({{"a.bias", Dtype::BF16, {64}}}, {{"k", "v"}}), {}, "in");
  CHECK(none.quantized_count == 0);
  CHECK(none.metadata.count("_quantization_metadata") == 0);
  CHECK(none.metadata.at("k") == "v");
  REQUIRE(none.outputs.size() == 1);
  CHECK(none.outputs[0].source == OutputSource::CopyOfInput);
}
