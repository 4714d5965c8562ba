// test_synth.cpp — the synthetic Qwen-Image checkpoint: structure against the
// docs/format.md#qwen-image table (written out again here), deterministic bytes, value statistics
// and special values.
#include <catch2/catch.hpp>

#include <cmath>
#include <cstring>
#include <map>
#include <string>
#include <vector>

#include "core/error.hpp"
#include "safetensors/byte_sink.hpp"
#include "safetensors/header_parser.hpp"
#include "support/counting_progress.hpp"
#include "synth/synth_checkpoint.hpp"
#include "synth/synth_models.hpp"
#include "synth/synth_values.hpp"

namespace {

using Shape = std::vector<uint64_t>;

// docs/format.md#qwen-image for hidden width H, text width T, head dim D and `blocks` blocks.
std::map<std::string, Shape> expected_qwen_image(uint64_t H, uint64_t T, uint64_t D, int blocks) {
  std::map<std::string, Shape> table;
  auto linear = [&](const std::string& name, uint64_t out, uint64_t in) {
    table[name + ".weight"] = {out, in};
    table[name + ".bias"] = {out};
  };
  linear("img_in", H, 64);
  linear("txt_in", H, T);
  table["txt_norm.weight"] = {T};
  linear("time_text_embed.timestep_embedder.linear_1", H, 256);
  linear("time_text_embed.timestep_embedder.linear_2", H, H);
  for (int n = 0; n < blocks; ++n) {
    const std::string b = "transformer_blocks." + std::to_string(n) + ".";
    for (const char* p : {"to_q", "to_k", "to_v", "add_q_proj", "add_k_proj", "add_v_proj", "to_out.0", "to_add_out"})
      linear(b + "attn." + p, H, H);
    for (const char* p : {"norm_q", "norm_k", "norm_added_q", "norm_added_k"}) table[b + "attn." + p + ".weight"] = {D};
    linear(b + "img_mod.1", 18 * H / 3, H);
    linear(b + "txt_mod.1", 18 * H / 3, H);
    linear(b + "img_mlp.net.0.proj", 4 * H, H);
    linear(b + "txt_mlp.net.0.proj", 4 * H, H);
    linear(b + "img_mlp.net.2", H, 4 * H);
    linear(b + "txt_mlp.net.2", H, 4 * H);
  }
  linear("norm_out.linear", 2 * H, H);
  linear("proj_out", 64, H);
  return table;
}

std::vector<uint8_t> synth_bytes(const qfp8::SynthConfig& config) {
  qfp8::MemorySink sink;
  qfp8::write_synth_checkpoint(config, sink);
  REQUIRE(sink.committed());
  return sink.bytes();
}

qfp8::Header parse(const std::vector<uint8_t>& bytes) {
  return qfp8::parse_file_image(bytes.data(), bytes.size(), "synth");
}

// BF16 bits of one tensor, decoded from little-endian bytes.
std::vector<uint16_t> bf16_of(const std::vector<uint8_t>& bytes, const qfp8::Header& header,
                              const std::string& name) {
  const qfp8::TensorInfo* info = header.find(name);
  REQUIRE(info != nullptr);
  REQUIRE(info->dtype == qfp8::Dtype::BF16);
  std::vector<uint16_t> values(info->numel);
  const uint8_t* p = bytes.data() + header.data_offset() + info->begin;
  for (std::size_t i = 0; i < values.size(); ++i) values[i] = static_cast<uint16_t>(p[2 * i] | (p[2 * i + 1] << 8));
  return values;
}

float widen(uint16_t bits) {
  const uint32_t wide = uint32_t{bits} << 16;
  float value;
  std::memcpy(&value, &wide, sizeof value);
  return value;
}

// Keeps no bytes: counts them and remembers the largest single write.
class CountingSink final : public qfp8::ByteSink {
 public:
  void write(const void*, uint64_t size) override {
    total += size;
    if (size > largest_write) largest_write = size;
  }
  void write_at(uint64_t, const void*, uint64_t) override { ++overwrites; }
  void commit() override { committed = true; }

  uint64_t total = 0;
  uint64_t largest_write = 0;
  uint64_t overwrites = 0;
  bool committed = false;
};

qfp8::SynthConfig small_config(uint64_t seed = 1) {
  qfp8::SynthConfig config;
  config.blocks = 2;
  config.width_div = 8;
  config.seed = seed;
  return config;
}

}  // namespace

TEST_CASE("synth writes Qwen-Image's names and shapes, narrowed by --width-div", "[synth]") {
  const auto bytes = synth_bytes(small_config());
  const qfp8::Header header = parse(bytes);
  // 3072/8, 3584/8, 128/8.
  const auto expected = expected_qwen_image(384, 448, 16, 2);
  std::map<std::string, Shape> actual;
  for (const auto& t : header.tensors) {
    CHECK(t.dtype == qfp8::Dtype::BF16);
    actual[t.name] = t.shape;
  }
  CHECK(actual == expected);
  CHECK(header.metadata == std::map<std::string, std::string>{{"format", "pt"}});
}

TEST_CASE("synth at full size has the 1933 tensors and ~40.9 GB of Qwen-Image", "[synth]") {
  qfp8::SynthConfig config;  // qwen-image, its full 60 blocks, width / 1
  const auto tensors = qfp8::synth_tensors(config);
  std::map<std::string, Shape> actual;
  std::size_t quantizable = 0;  // docs/format.md#selection: 2-D .weight with >= 4096 elements
  for (const auto& t : tensors) {
    actual[t.name] = t.shape;
    if (t.shape.size() == 2 && t.numel() >= 4096) ++quantizable;
  }
  CHECK(actual == expected_qwen_image(3072, 3584, 128, 60));
  CHECK(tensors.size() == 1933);
  CHECK(quantizable == 846);
  const uint64_t size = qfp8::synth_layout(tensors).file_size();
  CHECK(size > 40'800'000'000ull);
  CHECK(size < 41'000'000'000ull);
}

TEST_CASE("synth keeps the q/k norm width at least 8 for narrow models", "[synth]") {
  qfp8::SynthConfig config;
  config.blocks = 1;
  config.width_div = 512;
  for (const auto& t : qfp8::synth_tensors(config)) {
    if (t.name == "transformer_blocks.0.attn.norm_q.weight") CHECK(t.shape == Shape{8});
    if (t.name == "txt_in.weight") CHECK(t.shape == Shape{6, 7});
  }
}

TEST_CASE("synth rejects bad configurations", "[synth]") {
  auto usage_error = [](unsigned blocks, unsigned width_div) {
    qfp8::SynthConfig config;
    config.blocks = blocks;
    config.width_div = width_div;
    try {
      qfp8::validate_synth_config(config);
    } catch (const qfp8::Error& error) {
      return error.code() == qfp8::ErrorCode::Usage;
    }
    return false;
  };
  CHECK(usage_error(60, 3));     // not a power of two
  CHECK(usage_error(60, 1024));  // does not divide 3584
  CHECK(usage_error(10001, 2));  // deeper than any model by far
  CHECK_FALSE(usage_error(1, 512));
  qfp8::SynthConfig unknown;
  unknown.model = "flux";  // the family is flux1
  CHECK_THROWS_AS(qfp8::validate_synth_config(unknown), qfp8::Error);
}

TEST_CASE("synth bytes are a function of the seed alone", "[synth]") {
  const auto first = synth_bytes(small_config(42));
  CHECK(synth_bytes(small_config(42)) == first);
  const auto other = synth_bytes(small_config(43));
  REQUIRE(other.size() == first.size());
  CHECK(other != first);
  // Same header, different data.
  const auto header_end = parse(first).data_offset();
  CHECK(std::equal(first.begin(), first.begin() + static_cast<std::ptrdiff_t>(header_end), other.begin()));
}

TEST_CASE("synth values do not depend on chunking or on the number of blocks", "[synth]") {
  const uint64_t key = qfp8::synth_stream_key(5, "transformer_blocks.0.attn.to_q.weight");
  std::vector<uint16_t> whole(1000), parts(1000);
  qfp8::synth_bf16_values(qfp8::SynthKind::LinearWeight, key, 0, whole.data(), 1000);
  qfp8::synth_bf16_values(qfp8::SynthKind::LinearWeight, key, 0, parts.data(), 333);
  qfp8::synth_bf16_values(qfp8::SynthKind::LinearWeight, key, 333, parts.data() + 333, 667);
  CHECK(whole == parts);

  auto two = small_config(5);
  auto three = small_config(5);
  three.blocks = 3;
  const auto a = synth_bytes(two);
  const auto b = synth_bytes(three);
  const std::string name = "transformer_blocks.1.img_mlp.net.2.weight";
  CHECK(bf16_of(a, parse(a), name) == bf16_of(b, parse(b), name));
}

bool ends_with(const std::string& text, const std::string& suffix) {
  return text.size() >= suffix.size() && text.compare(text.size() - suffix.size(), suffix.size(), suffix) == 0;
}

TEST_CASE("synth values look like a trained transformer's", "[synth]") {
  const auto bytes = synth_bytes(small_config(3));
  const qfp8::Header header = parse(bytes);
  const std::string zero_weight = "transformer_blocks.1.txt_mlp.net.2.weight";
  std::size_t non_finite = 0, subnormals = 0, outliers = 0, weights = 0, norms = 0, norms_out_of_range = 0;
  double weight_sum_sq = 0, norm_sum = 0;
  for (const auto& t : header.tensors) {
    const bool is_weight = t.shape.size() == 2 && t.name != zero_weight;
    const bool is_norm = t.shape.size() == 1 && ends_with(t.name, ".weight");
    for (uint16_t bits : bf16_of(bytes, header, t.name)) {
      if ((bits & 0x7F80u) == 0x7F80u) ++non_finite;
      if ((bits & 0x7F80u) == 0 && (bits & 0x7Fu) != 0) ++subnormals;
      const double v = widen(bits);
      if (is_weight) {
        weight_sum_sq += v * v;
        ++weights;
        if (std::fabs(v) > 0.2) ++outliers;  // beyond 10 sigma
      }
      if (is_norm) {
        norm_sum += v;
        ++norms;
        if (v < 0.5 || v > 1.5) ++norms_out_of_range;
      }
    }
  }
  CHECK(non_finite == 0);
  CHECK(subnormals > 0);
  const double sigma = std::sqrt(weight_sum_sq / double(weights));
  CHECK(sigma > 0.019);  // 0.02, plus a little from the outliers
  CHECK(sigma < 0.024);
  // ~1.1e-4 of the weights are outliers.
  CHECK(outliers > weights / 20000);
  CHECK(outliers < weights / 5000);
  // RMSNorm gains: 1 + N(0, 0.1); the mean of 576 of them is within 0.02 of 1.
  CHECK(norms == 2 * 4 * 16 + 448);
  CHECK(std::fabs(norm_sum / double(norms) - 1.0) < 0.02);
  CHECK(norms_out_of_range == 0);
}

TEST_CASE("synth zeroes the last block's text MLP output", "[synth]") {
  const auto bytes = synth_bytes(small_config(9));
  const qfp8::Header header = parse(bytes);
  for (const char* name : {"transformer_blocks.1.txt_mlp.net.2.weight", "transformer_blocks.1.txt_mlp.net.2.bias"}) {
    std::size_t nonzero = 0;
    for (uint16_t bits : bf16_of(bytes, header, name)) nonzero += bits != 0;
    CHECK(nonzero == 0);
  }
  // The same layer of the other blocks is not zero.
  std::size_t nonzero = 0;
  for (uint16_t bits : bf16_of(bytes, header, "transformer_blocks.0.txt_mlp.net.2.weight")) nonzero += bits != 0;
  CHECK(nonzero > 0);
}

TEST_CASE("synth --prefix renames every tensor and keeps the values", "[synth]") {
  auto plain_config = small_config(11);
  auto prefixed_config = plain_config;
  prefixed_config.prefix = true;
  const auto plain = synth_bytes(plain_config);
  const auto prefixed = synth_bytes(prefixed_config);
  const qfp8::Header plain_header = parse(plain);
  const qfp8::Header prefixed_header = parse(prefixed);
  REQUIRE(prefixed_header.tensors.size() == plain_header.tensors.size());
  for (const auto& t : prefixed_header.tensors) {
    CHECK(t.name.rfind("model.diffusion_model.", 0) == 0);
  }
  // A common prefix keeps the name order, so the data buffers are identical.
  CHECK(std::equal(plain.begin() + static_cast<std::ptrdiff_t>(plain_header.data_offset()), plain.end(),
                   prefixed.begin() + static_cast<std::ptrdiff_t>(prefixed_header.data_offset()),
                   prefixed.end()));
}

TEST_CASE("synth bf16_from_f32_rne rounds to nearest even", "[synth]") {
  CHECK(qfp8::bf16_from_f32_rne(1.0f) == 0x3F80);
  CHECK(qfp8::bf16_from_f32_rne(-2.0f) == 0xC000);
  // 1 + 2^-8 is halfway between 1 and 1 + 2^-7: even is 1.
  CHECK(qfp8::bf16_from_f32_rne(1.00390625f) == 0x3F80);
  // 1 + 3 * 2^-8 is halfway between 1 + 2^-7 and 1 + 2^-6: even is 1 + 2^-6.
  CHECK(qfp8::bf16_from_f32_rne(1.01171875f) == 0x3F82);
  CHECK(qfp8::bf16_from_f32_rne(1.0f + 1.0f / 128.0f + 1.0f / 1024.0f) == 0x3F81);
}

TEST_CASE("synth streams a full-width block in 2 MiB pieces", "[synth][slow]") {
  // One real-size block: its img_mod.1 weight [18432, 3072] alone is 113 MB. The writer must
  // receive it in bounded pieces, which is what keeps `synth` at constant memory for 40.9 GB.
  qfp8::SynthConfig config;
  config.blocks = 1;
  CountingSink sink;
  const qfp8::SynthSummary summary = qfp8::write_synth_checkpoint(config, sink);
  const uint64_t expected_size = qfp8::synth_layout(qfp8::synth_tensors(config)).file_size();
  CHECK(sink.committed);
  CHECK(sink.total == expected_size);
  CHECK(summary.file_size == expected_size);
  CHECK(sink.overwrites == 0);
  CHECK(sink.largest_write <= uint64_t{2} << 20);
}

TEST_CASE("synth reports every tensor and every data byte to its progress meter", "[synth]") {
  qfp8::SynthConfig config;
  config.blocks = 2;
  config.width_div = 32;
  qfp8::MemorySink sink;
  qfp8::test::CountingProgress progress;
  const qfp8::SynthSummary written = qfp8::write_synth_checkpoint(config, sink, &progress);
  const qfp8::Header header = parse(sink.bytes());
  const qfp8::SynthSummary planned = qfp8::synth_summary(config);
  CHECK(progress.tensors == header.tensors.size());
  CHECK(progress.bytes == header.data_size);
  CHECK(planned.tensors == written.tensors);
  CHECK(planned.parameters == written.parameters);
  CHECK(planned.file_size == sink.bytes().size());
}
