// shard_index.hpp — the `*.safetensors.index.json` of a sharded checkpoint (transformers /
// diffusers style): `{"metadata": {...}, "weight_map": {"tensor name": "shard file", ...}}`.
// Only the weight_map is used; the index's own metadata (e.g. total_size) describes the
// download, not the model, and is not copied into the output.
#pragma once

#include <map>
#include <string>
#include <vector>

namespace qfp8 {

struct ShardIndex {
  std::string path;                               // the index file, as given
  std::map<std::string, std::string> weight_map;  // tensor name -> shard file name

  /// The distinct shard file names, byte-wise sorted.
  std::vector<std::string> shard_names() const;
};

/// Reads and checks `path`: valid JSON, an object with one "weight_map" object of string
/// values, no tensor listed twice, every shard name a plain file name (no '/', '\\' or
/// ".."). Throws Error(OpenFailed/ReadFailed) when it cannot be read, Error(DuplicateKey)
/// for a second "weight_map" or a tensor listed twice (naming it), and
/// Error(InvalidHeaderDeserialization) naming the index (and the entry) otherwise.
ShardIndex read_shard_index(const std::string& path);

/// Parses index JSON text; `label` names it in errors. The part of read_shard_index
/// that tests can drive from memory.
ShardIndex parse_shard_index(const std::string& text, const std::string& label);

/// True for names a shard may have inside its directory.
bool is_plain_file_name(const std::string& name);

}  // namespace qfp8
