// test_shard_input.cpp — sharded inputs ([shards]): a synthetic model written as 3 shards
// with an index converts to the same bytes as the model in one file; a directory of
// shards without an index works; every broken index is rejected naming the index, shard
// or tensor, before any output exists.
#include <catch2/catch.hpp>

#include <nlohmann/json.hpp>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <string>
#include <vector>

#include "backends/cpu/backend_cpu.hpp"
#include "convert/pipeline.hpp"
#include "core/error.hpp"
#include "input/shard_index.hpp"
#include "input/tensor_source.hpp"
#include "plan/conversion_plan.hpp"
#include "support/child_process.hpp"
#include "support/convert_checks.hpp"
#include "support/safetensors_bytes.hpp"
#include "support/synthetic_model.hpp"

using namespace qfp8;
using namespace qfp8::test;

namespace {

namespace fs = std::filesystem;

using ShardMap = std::map<std::string, std::vector<SyntheticShape>>;  // shard file -> tensors

/// The synthetic model's tensors dealt round-robin (in name order) into `count` shards
/// named like transformers' "model-0000i-of-0000n.safetensors".
ShardMap deal_into_shards(const SyntheticModelOptions& model, std::size_t count) {
  auto shapes = synthetic_qwen_shapes(model);
  std::sort(shapes.begin(), shapes.end(),
            [](const SyntheticShape& a, const SyntheticShape& b) { return a.name < b.name; });
  ShardMap shards;
  for (std::size_t i = 0; i < shapes.size(); ++i) {
    const std::string name = "model-0000" + std::to_string(i % count + 1) + "-of-0000" +
                             std::to_string(count) + ".safetensors";
    shards[name].push_back(shapes[i]);
  }
  return shards;
}

/// Writes one shard holding `shapes`, with the model's values and metadata.
void write_shard(const std::string& path, const std::vector<SyntheticShape>& shapes,
                 const SyntheticModelOptions& model) {
  std::vector<PlannedTensor> planned;
  for (const auto& shape : shapes) planned.push_back({shape.name, Dtype::BF16, shape.shape});
  const SafetensorsLayout layout(std::move(planned), model.metadata);
  AtomicFileOptions options;
  options.overwrite = true;
  options.fsync = false;
  AtomicFileSink sink(path, options);
  SafetensorsWriter writer(layout, sink);
  for (const auto& tensor : layout.tensors()) {
    const auto bytes = synthetic_values(tensor.name, tensor.numel, model);
    writer.write_tensor(tensor.name, bytes.data(), bytes.size());
  }
  writer.finish();
}

void write_text(const std::string& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << text;
}

/// The index transformers would write for `shards` (weight_map as given).
nlohmann::json index_json(const ShardMap& shards) {
  nlohmann::json index;
  index["metadata"] = {{"total_size", 12345}};
  for (const auto& [shard, shapes] : shards) {
    for (const auto& shape : shapes) index["weight_map"][shape.name] = shard;
  }
  return index;
}

/// A fresh directory holding `shards` and, unless null, `index` as
/// "model.safetensors.index.json".
std::string write_sharded(const std::string& name, const ShardMap& shards,
                          const SyntheticModelOptions& model, const nlohmann::json* index) {
  const std::string dir = scratch_dir("shards") + "/" + name;
  fs::remove_all(dir);
  fs::create_directories(dir);
  for (const auto& [shard, shapes] : shards) write_shard(dir + "/" + shard, shapes, model);
  if (index != nullptr) write_text(dir + "/model.safetensors.index.json", index->dump(2));
  return dir;
}

void convert_source(const TensorSource& input, const std::string& out) {
  remove_path(out);
  const ConversionPlan plan = make_conversion_plan(input.header(), PlanOptions{}, input.label());
  const auto backend = make_cpu_backend(2);
  convert_to_file(input, plan, *backend, out, OutputOptions{}, nullptr);
}

/// Opening `dir` fails with `code`, and the message holds every one of `needles`.
void require_open_fails(const std::string& dir, ErrorCode code,
                        const std::vector<std::string>& needles) {
  try {
    TensorSource::open(dir);
    FAIL("opened a broken sharded input: " << dir);
  } catch (const Error& error) {
    INFO(error.what());
    CHECK(error.code() == code);
    for (const auto& needle : needles) CHECK(std::string(error.what()).find(needle) != std::string::npos);
  }
}

ChildResult run_binary(std::vector<std::string> args) {
  args.insert(args.begin(), QFP8_BINARY);
  return run_child(args, scratch_dir("shards"));
}

}  // namespace

TEST_CASE("three shards with an index convert to the same bytes as one file", "[shards]") {
  SyntheticModelOptions model;
  const std::string single = scratch_dir("shards") + "/single.safetensors";
  write_synthetic_model(single, model);
  const ShardMap shards = deal_into_shards(model, 3);
  REQUIRE(shards.size() == 3);
  const nlohmann::json index = index_json(shards);
  const std::string dir = write_sharded("indexed", shards, model, &index);

  const TensorSource sharded = TensorSource::open(dir);
  CHECK(sharded.shard_count() == 3);
  const SafetensorsFile one(single);
  CHECK(sharded.header().tensors.size() == one.header().tensors.size());
  CHECK(sharded.header().metadata == one.header().metadata);  // the index's total_size is not copied
  uint64_t shard_bytes = 0;
  for (const auto& entry : fs::directory_iterator(dir)) {
    if (ends_with(entry.path().string(), ".safetensors")) shard_bytes += fs::file_size(entry.path());
  }
  CHECK(sharded.total_bytes() == shard_bytes);
  CHECK(sharded.header().data_offset() + sharded.header().data_size == shard_bytes);
  // Each tensor's bytes come from its own shard and equal the single file's.
  for (const auto& tensor : one.header().tensors) {
    const TensorInfo* merged = sharded.find(tensor.name);
    REQUIRE(merged != nullptr);
    const ByteView a = one.bytes(tensor);
    const ByteView b = sharded.bytes(*merged);
    REQUIRE(a.size == b.size);
    CHECK(std::equal(a.data, a.data + a.size, b.data));
  }

  const std::string out_single = scratch_dir("shards") + "/single-out.safetensors";
  const std::string out_sharded = scratch_dir("shards") + "/sharded-out.safetensors";
  convert_source(TensorSource::open(single), out_single);
  convert_source(sharded, out_sharded);
  CHECK(read_file(out_single) == read_file(out_sharded));

  SECTION("the binary takes the directory, and the index file itself") {
    const std::string out_cli = scratch_dir("shards") + "/cli-out.safetensors";
    remove_path(out_cli);
    ChildResult run = run_binary({"convert", "-i", dir, "-o", out_cli, "--device", "cpu", "-q"});
    INFO(run.err);
    REQUIRE(run.exit_code == 0);
    CHECK(read_file(out_cli) == read_file(out_single));
    remove_path(out_cli);
    run = run_binary({"convert", dir + "/model.safetensors.index.json", out_cli, "--device", "cpu", "-q"});
    INFO(run.err);
    REQUIRE(run.exit_code == 0);
    CHECK(read_file(out_cli) == read_file(out_single));
  }
}

TEST_CASE("a directory of shards without an index converts like one file", "[shards]") {
  SyntheticModelOptions model;
  model.blocks = 1;
  const std::string single = scratch_dir("shards") + "/single-1.safetensors";
  write_synthetic_model(single, model);
  const std::string dir = write_sharded("no-index", deal_into_shards(model, 2), model, nullptr);
  const TensorSource sharded = TensorSource::open(dir);
  CHECK(sharded.shard_count() == 2);
  const std::string out_single = scratch_dir("shards") + "/single-1-out.safetensors";
  const std::string out_sharded = scratch_dir("shards") + "/no-index-out.safetensors";
  convert_source(TensorSource::open(single), out_single);
  convert_source(sharded, out_sharded);
  CHECK(read_file(out_single) == read_file(out_sharded));
}

TEST_CASE("a directory without an index rejects a tensor in two shards", "[shards]") {
  SyntheticModelOptions model;
  model.blocks = 1;
  ShardMap shards = deal_into_shards(model, 2);
  shards["model-00002-of-00002.safetensors"].push_back(shards["model-00001-of-00002.safetensors"][0]);
  const std::string twice = shards["model-00001-of-00002.safetensors"][0].name;
  const std::string dir = write_sharded("dup-no-index", shards, model, nullptr);
  require_open_fails(dir, ErrorCode::DuplicateKey,
                     {twice, "model-00001-of-00002.safetensors", "model-00002-of-00002.safetensors"});
}

TEST_CASE("broken shard indexes are rejected before any output", "[shards]") {
  SyntheticModelOptions model;
  model.blocks = 1;
  const ShardMap shards = deal_into_shards(model, 3);
  const std::string first = shards.begin()->second.front().name;  // lives in shard 1

  SECTION("a shard listed in the index is missing") {
    nlohmann::json index = index_json(shards);
    index["weight_map"][first] = "model-00004-of-00003.safetensors";
    const std::string dir = write_sharded("missing", shards, model, &index);
    require_open_fails(dir, ErrorCode::InvalidHeaderDeserialization,
                       {"model.safetensors.index.json", "model-00004-of-00003.safetensors",
                        "No such file"});
    // Exit 2 (invalid input), and no output.
    const std::string out = scratch_dir("shards") + "/missing-out.safetensors";
    remove_path(out);
    const ChildResult run = run_binary({"convert", dir, out, "--device", "cpu", "-q"});
    CHECK(run.exit_code == 2);
    CHECK(run.err.find("model-00004-of-00003.safetensors") != std::string::npos);
    CHECK_FALSE(path_exists(out));
    CHECK_FALSE(path_exists(out + ".partial"));
  }
  SECTION("a tensor in two shards") {
    ShardMap twice = shards;
    twice["model-00003-of-00003.safetensors"].push_back(shards.begin()->second.front());
    const nlohmann::json index = index_json(shards);
    const std::string dir = write_sharded("twice", twice, model, &index);
    require_open_fails(dir, ErrorCode::DuplicateKey,
                       {first, "model-00001-of-00003.safetensors", "model-00003-of-00003.safetensors"});
  }
  SECTION("a tensor listed in the wrong shard") {
    nlohmann::json index = index_json(shards);
    index["weight_map"][first] = "model-00002-of-00003.safetensors";
    const std::string dir = write_sharded("wrong", shards, model, &index);
    require_open_fails(dir, ErrorCode::InvalidHeaderDeserialization,
                       {first, "model-00002-of-00003.safetensors", "model-00001-of-00003.safetensors"});
  }
  SECTION("the weight_map misses a tensor") {
    nlohmann::json index = index_json(shards);
    index["weight_map"].erase(first);
    const std::string dir = write_sharded("unlisted", shards, model, &index);
    require_open_fails(dir, ErrorCode::InvalidHeaderDeserialization,
                       {first, "missing from the weight_map"});
  }
  SECTION("the weight_map lists a tensor no shard holds") {
    nlohmann::json index = index_json(shards);
    index["weight_map"]["ghost.weight"] = "model-00002-of-00003.safetensors";
    const std::string dir = write_sharded("ghost", shards, model, &index);
    require_open_fails(dir, ErrorCode::InvalidHeaderDeserialization,
                       {"ghost.weight", "model-00002-of-00003.safetensors", "does not hold"});
  }
  SECTION("malformed index JSON") {
    const std::string dir = write_sharded("malformed", shards, model, nullptr);
    write_text(dir + "/model.safetensors.index.json", "{\"weight_map\": {\"a\": ");
    require_open_fails(dir, ErrorCode::InvalidHeaderDeserialization,
                       {"model.safetensors.index.json", "cannot parse the shard index"});
  }
  SECTION("a shard name that leaves the directory") {
    nlohmann::json index = index_json(shards);
    index["weight_map"][first] = "../model-00001-of-00003.safetensors";
    const std::string dir = write_sharded("escape", shards, model, &index);
    require_open_fails(dir, ErrorCode::InvalidHeaderDeserialization,
                       {first, "../model-00001-of-00003.safetensors", "not a file name"});
  }
}

TEST_CASE("shard index parsing checks its structure", "[shards]") {
  CHECK_THROWS_WITH(parse_shard_index("[]", "i.json"), Catch::Contains("not a JSON object"));
  CHECK_THROWS_WITH(parse_shard_index("{}", "i.json"), Catch::Contains("no \"weight_map\""));
  CHECK_THROWS_WITH(parse_shard_index(R"({"weight_map": {"a": 1}})", "i.json"),
                    Catch::Contains("tensor 'a'"));
  CHECK_THROWS_WITH(parse_shard_index(R"({"weight_map": {"a": "sub/x.safetensors"}})", "i.json"),
                    Catch::Contains("not a file name"));
  const ShardIndex index = parse_shard_index(
      R"({"metadata": {"total_size": 1}, "weight_map": {"b": "s2", "a": "s1", "c": "s1"}})", "i.json");
  CHECK(index.shard_names() == std::vector<std::string>{"s1", "s2"});
  CHECK(index.weight_map.at("b") == "s2");
  CHECK_FALSE(is_plain_file_name(".."));
  CHECK_FALSE(is_plain_file_name(""));
  CHECK(is_plain_file_name("diffusion_pytorch_model-00001-of-00009.safetensors"));
}

// The error parse_shard_index throws for `text`.
Error shard_index_error(const std::string& text) {
  try {
    parse_shard_index(text, "i.json");
  } catch (const Error& error) {
    return error;
  }
  FAIL("accepted the index " << text);
  throw;  // unreachable: FAIL throws
}

TEST_CASE("a name listed twice in the weight_map, or two weight_maps, is DuplicateKey",
          "[shards]") {
  const Error twice = shard_index_error(R"({"weight_map": {"a": "s1", "b": "s2", "a": "s2"}})");
  CHECK(twice.code() == ErrorCode::DuplicateKey);
  CHECK(twice.file() == "i.json");
  CHECK(twice.tensor() == "a");
  CHECK(twice.detail() == "cannot use the shard index: the tensor is listed twice in the weight_map");
  const Error maps = shard_index_error(R"({"weight_map": {"a": "s1"}, "weight_map": {"b": "s2"}})");
  CHECK(maps.code() == ErrorCode::DuplicateKey);
  CHECK(maps.file() == "i.json");
  CHECK(maps.detail() == "cannot use the shard index: \"weight_map\" appears twice");
  // The same name in two objects is no duplicate; the index's own metadata is not used.
  CHECK(parse_shard_index(R"({"metadata": {"a": 1, "a": 2}, "weight_map": {"a": "s1"}})", "i.json")
            .weight_map.size() == 1);
}

TEST_CASE("the CLI refuses an index that lists a tensor twice, naming it (exit 2)", "[shards]") {
  SyntheticModelOptions model;
  model.blocks = 1;
  const ShardMap shards = deal_into_shards(model, 2);
  const std::string first = shards.begin()->second.front().name;
  const nlohmann::json index = index_json(shards);
  const std::string dir = write_sharded("listed-twice", shards, model, &index);
  // nlohmann::json cannot write a duplicate: insert the second entry into the text.
  std::string text = index.dump();
  const std::string map_start = "\"weight_map\":{";
  text.insert(text.find(map_start) + map_start.size(),
              "\"" + first + "\":\"" + shards.rbegin()->first + "\",");
  std::ofstream(dir + "/model.safetensors.index.json", std::ios::trunc) << text;
  const std::string out = scratch_dir("shards") + "/listed-twice-out.safetensors";
  remove_path(out);
  const ChildResult run = run_binary({"convert", dir, out, "--device", "cpu", "-q"});
  CHECK(run.exit_code == 2);
  CHECK(run.err.find("model.safetensors.index.json") != std::string::npos);
  CHECK(run.err.find("'" + first + "'") != std::string::npos);
  CHECK(run.err.find("listed twice in the weight_map") != std::string::npos);
  CHECK_FALSE(path_exists(out));
}

TEST_CASE("shards' __metadata__ is merged; the first shard wins a conflict", "[shards]") {
  SyntheticModelOptions model;
  model.blocks = 1;
  const ShardMap shards = deal_into_shards(model, 2);
  const std::string dir = write_sharded("metadata", shards, model, nullptr);
  SyntheticModelOptions second = model;
  second.metadata = {{"format", "other"}, {"extra", "1"}};
  const auto last = std::prev(shards.end());
  write_shard(dir + "/" + last->first, last->second, second);
  const TensorSource source = TensorSource::open(dir);
  CHECK(source.header().has_metadata);
  const std::map<std::string, std::string> expected = {{"format", "pt"}, {"extra", "1"}};
  CHECK(source.header().metadata == expected);
}
