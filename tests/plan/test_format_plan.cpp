// test_format_plan.cpp — the format of each quantized layer (docs/format.md#formats,
// docs/usage.md#formats): --format, --format-for and --layer-config rules in order, `keep`,
// weights that do not divide into blocks, the layer tensors each format adds, the configs in
// `_quantization_metadata` and `L.comfy_quant`, and the layout rules.
#include <catch2/catch.hpp>

#include <cstdio>
#include <fstream>
#include <map>
#include <string>
#include <vector>

#include "core/error.hpp"
#include "plan/conversion_plan.hpp"
#include "support/plan_headers.hpp"

using namespace qfp8;
using qfp8::test::decision_for;
using qfp8::test::make_header;
using qfp8::test::reason;

namespace {

Header model_header() {
  return make_header({
      {"blocks.0.attn.weight", Dtype::BF16, {128, 256}},
      {"blocks.0.mlp.weight", Dtype::BF16, {256, 128}},
      {"blocks.1.attn.weight", Dtype::F16, {128, 256}},
      {"odd.weight", Dtype::BF16, {64, 80}},     // 80 columns: 5 nvfp4 blocks, not mxfp8's
      {"rows.weight", Dtype::BF16, {72, 128}},   // 72 rows: not a multiple of 16 or 32
      {"norm.weight", Dtype::BF16, {128}},
  });
}

const TensorInfo& planned(const ConversionPlan& plan, const std::string& name) {
  for (const auto& tensor : plan.layout.tensors()) {
    if (tensor.name == name) return tensor;
  }
  FAIL("no output tensor " << name);
  throw std::logic_error("unreachable");
}

bool has_output(const ConversionPlan& plan, const std::string& name) {
  for (const auto& tensor : plan.layout.tensors()) {
    if (tensor.name == name) return true;
  }
  return false;
}

std::string constant_of(const ConversionPlan& plan, const std::string& name) {
  for (const auto& output : plan.outputs) {
    if (output.name == name) return output.constant_bytes;
  }
  FAIL("no output " << name);
  return {};
}

}  // namespace

TEST_CASE("plan with --format nvfp4: packed data, blocked scales, weight_scale_2", "[plan][formats]") {
  PlanOptions options;
  options.preset = Preset::None;
  options.format = QuantFormat::Nvfp4;
  const ConversionPlan plan = make_conversion_plan(model_header(), options, "in.safetensors");
  CHECK(reason(plan, "blocks.0.attn.weight") == "quantize: nvfp4 (--format)");
  CHECK(decision_for(plan, "blocks.0.attn.weight").format == QuantFormat::Nvfp4);
  const auto& data = planned(plan, "blocks.0.attn.weight");
  CHECK(data.dtype == Dtype::U8);
  CHECK(data.shape == std::vector<uint64_t>{128, 128});
  const auto& scales = planned(plan, "blocks.0.attn.weight_scale");
  CHECK(scales.dtype == Dtype::F8_E4M3);
  CHECK(scales.shape == std::vector<uint64_t>{128, 16});  // 256 / 16 = 16 blocks
  const auto& mlp_scales = planned(plan, "blocks.0.mlp.weight_scale");
  CHECK(mlp_scales.shape == std::vector<uint64_t>{256, 8});
  const auto& scale2 = planned(plan, "blocks.0.attn.weight_scale_2");
  CHECK(scale2.dtype == Dtype::F32);
  CHECK(scale2.shape.empty());
  // 80 columns are 5 blocks: scale columns padded to 8.
  CHECK(planned(plan, "odd.weight_scale").shape == std::vector<uint64_t>{128, 8});
  CHECK(reason(plan, "rows.weight") == "keep: 72 rows are not a multiple of nvfp4's 16-element blocks");
  CHECK(constant_of(plan, "blocks.0.attn.comfy_quant") == R"({"format": "nvfp4"})");
  CHECK(plan.metadata.at("_quantization_metadata").find(R"("blocks.0.attn": {"format": "nvfp4"})") !=
        std::string::npos);
}

TEST_CASE("plan with --format mxfp8 and float8_e5m2: tensors of each layer", "[plan][formats]") {
  PlanOptions options;
  options.preset = Preset::None;
  options.format = QuantFormat::Mxfp8;
  const ConversionPlan mx = make_conversion_plan(model_header(), options, "in.safetensors");
  CHECK(planned(mx, "blocks.0.attn.weight").dtype == Dtype::F8_E4M3);
  CHECK(planned(mx, "blocks.0.attn.weight_scale").dtype == Dtype::F8_E8M0);
  CHECK(planned(mx, "blocks.0.attn.weight_scale").shape == std::vector<uint64_t>{128, 8});
  CHECK_FALSE(has_output(mx, "blocks.0.attn.weight_scale_2"));
  CHECK(reason(mx, "odd.weight") == "keep: 80 columns are not a multiple of mxfp8's 32-element blocks");

  options.format = QuantFormat::Float8E5m2;
  options.write_input_scale = true;
  const ConversionPlan e5 = make_conversion_plan(model_header(), options, "in.safetensors");
  CHECK(planned(e5, "odd.weight").dtype == Dtype::F8_E5M2);
  CHECK(planned(e5, "odd.weight_scale").shape.empty());
  CHECK(has_output(e5, "odd.input_scale"));
  CHECK(constant_of(e5, "odd.comfy_quant") == R"({"format": "float8_e5m2"})");
  // Input scales go with the per-tensor formats only.
  options.format = QuantFormat::Nvfp4;
  const ConversionPlan nv = make_conversion_plan(model_header(), options, "in.safetensors");
  CHECK_FALSE(has_output(nv, "blocks.0.attn.input_scale"));
}

TEST_CASE("plan with --format-for rules: first match wins, keep, mixed metadata", "[plan][formats]") {
  PlanOptions options;
  options.preset = Preset::None;
  options.format = QuantFormat::Nvfp4;
  options.full_precision_mm = true;
  options.format_rules = {format_rule_from_flag("attn=float8_e4m3fn"),
                          format_rule_from_flag("blocks\\.1=keep"),
                          format_rule_from_flag("mlp=mxfp8")};
  const ConversionPlan plan = make_conversion_plan(model_header(), options, "in.safetensors");
  CHECK(reason(plan, "blocks.0.attn.weight") == "quantize: float8_e4m3fn (--format-for 'attn')");
  CHECK(planned(plan, "blocks.0.attn.weight").dtype == Dtype::F8_E4M3);
  CHECK(planned(plan, "blocks.0.attn.weight_scale").shape.empty());
  // blocks.1.attn matches 'attn' first: the keep rule after it never applies.
  CHECK(decision_for(plan, "blocks.1.attn.weight").quantize);
  CHECK(reason(plan, "blocks.0.mlp.weight") == "quantize: mxfp8 (--format-for 'mlp')");
  CHECK(plan.metadata.at("_quantization_metadata") ==
        R"({"format_version": "1.0", "layers": {"blocks.0.attn": {"format": "float8_e4m3fn", )"
        R"("full_precision_matrix_mult": true}, "blocks.0.mlp": {"format": "mxfp8", )"
        R"("full_precision_matrix_mult": true}, "blocks.1.attn": {"format": "float8_e4m3fn", )"
        R"("full_precision_matrix_mult": true}, "odd": {"format": "nvfp4", )"
        R"("full_precision_matrix_mult": true}}})");

  options.format_rules = {format_rule_from_flag("blocks\\.1=keep")};
  const ConversionPlan kept = make_conversion_plan(model_header(), options, "in.safetensors");
  CHECK(reason(kept, "blocks.1.attn.weight") == "keep: --format-for 'blocks\\.1'=keep");
  CHECK(planned(kept, "blocks.1.attn.weight").dtype == Dtype::F16);
}

TEST_CASE("the default format leaves the plan as it was", "[plan][formats]") {
  PlanOptions options;
  options.preset = Preset::None;
  const ConversionPlan plan = make_conversion_plan(model_header(), options, "in.safetensors");
  CHECK(reason(plan, "blocks.0.attn.weight") == "quantize");
  CHECK(reason(plan, "rows.weight") == "quantize");  // no blocks: any shape
  CHECK(constant_of(plan, "rows.comfy_quant") == R"({"format": "float8_e4m3fn"})");
}

TEST_CASE("format rules: parsing and errors", "[plan][formats]") {
  const FormatRule rule = format_rule_from_flag("a=b=nvfp4");  // split at the last '='
  CHECK(rule.pattern == "a=b");
  CHECK(rule.format == QuantFormat::Nvfp4);
  CHECK_FALSE(format_rule_from_flag("x=keep").format.has_value());
  CHECK_THROWS_WITH(format_rule_from_flag("x=int8"), Catch::Contains("unknown format 'int8'"));
  CHECK_THROWS_WITH(format_rule_from_flag("nvfp4"), Catch::Contains("expected REGEX=FORMAT"));
  CHECK_THROWS_WITH(FormatRules(QuantFormat::Nvfp4, {format_rule_from_flag("(=keep")}),
                    Catch::Contains("invalid --format-for '('"));
  PlanOptions options;
  options.layout = OutputLayout::Legacy;
  options.format = QuantFormat::Float8E5m2;
  CHECK_THROWS_WITH(check_plan_options(options), Catch::Contains("cannot write --layout legacy"));
  options.format = QuantFormat::Float8E4m3fn;
  options.format_rules = {format_rule_from_flag("x=keep")};
  CHECK_NOTHROW(check_plan_options(options));
}

TEST_CASE("plan with --layer-config: an array or an object of rules, in file order", "[plan][formats]") {
  const std::string array_path = "qfp8_layer_config_array.json";
  const std::string object_path = "qfp8_layer_config_object.json";
  std::ofstream(array_path) << R"([{"match": "mlp", "format": "keep"}, {"match": ".", "format": "mxfp8"}])";
  std::ofstream(object_path) << R"({"zeta": "nvfp4", "alpha": "float8_e5m2"})";
  const auto array_rules = format_rules_from_file(array_path);
  REQUIRE(array_rules.size() == 2);
  CHECK(array_rules[0].pattern == "mlp");
  CHECK_FALSE(array_rules[0].format.has_value());
  CHECK(array_rules[1].origin == array_path + " rule 2");
  const auto object_rules = format_rules_from_file(object_path);
  REQUIRE(object_rules.size() == 2);
  CHECK(object_rules[0].pattern == "zeta");  // file order, not sorted
  CHECK(object_rules[1].format == QuantFormat::Float8E5m2);
  std::ofstream(object_path) << R"([{"match": "x"}])";
  CHECK_THROWS_WITH(format_rules_from_file(object_path), Catch::Contains("rule 1"));
  std::ofstream(object_path) << "not json";
  CHECK_THROWS_WITH(format_rules_from_file(object_path), Catch::Contains("invalid --layer-config JSON"));
  CHECK_THROWS_WITH(format_rules_from_file("no_such_layer_config.json"),
                    Catch::Contains("cannot read --layer-config"));
  std::remove(array_path.c_str());
  std::remove(object_path.c_str());
}
