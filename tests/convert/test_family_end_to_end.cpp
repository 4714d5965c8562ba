// test_family_end_to_end.cpp — each model family's synthetic checkpoint through synth, convert
// (defaults: --preset auto) and verify --against; the kept layers are listed here from the
// family's definition in docs/models.md, not from the registry.
#include <catch2/catch.hpp>

#include "support/family_end_to_end.hpp"

using namespace qfp8::test;

TEST_CASE("qwen-image end to end: detected, keeps its embedders, modulation of block 0 and final layers",
          "[families][e2e]") {
  const FamilyConversion run = convert_synthetic_family("qwen-image", {"--blocks", "2", "--width-div", "16"});
  CHECK(run.convert_log.find("model family qwen-image from txt_norm.weight") != std::string::npos);
  // Eligible (2-D, >= 4096 elements) at width / 16: img_in [192, 64] and proj_out [64, 192]
  // are, too; time_text_embed.timestep_embedder.linear_1 [192, 256] as well.
  const std::set<std::string> kept = {"img_in", "txt_in", "time_text_embed.timestep_embedder.linear_1",
                                      "time_text_embed.timestep_embedder.linear_2",
                                      "transformer_blocks.0.img_mod.1", "norm_out.linear", "proj_out"};
  CHECK(run.kept == kept);
  CHECK(run.quantized.count("transformer_blocks.1.img_mod.1") == 1);
  CHECK(run.quantized.count("transformer_blocks.0.attn.to_q") == 1);
  CHECK(run.quantized.size() == 2 * 14 - 1);  // 14 Linears per block, block 0's img_mod kept
}
