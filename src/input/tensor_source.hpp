// tensor_source.hpp — the input of a conversion: one safetensors file, or a sharded
// checkpoint (a directory with a `*.safetensors.index.json`, or with several
// `*.safetensors` and no index) seen as one merged tensor table. Each tensor keeps its
// own shard: offsets in the merged Header are relative to that shard's data buffer, so
// only names and the accessors here may be used to reach the bytes.
#pragma once

#include <cstddef>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "safetensors/reader.hpp"

namespace qfp8 {

class TensorSource {
 public:
  /// Opens `path`: a .safetensors file, a `*.safetensors.index.json`, or a directory
  /// (its one index, else all its `*.safetensors`). Every shard is mapped and validated
  /// and the merged table checked (no tensor twice; with an index, every tensor listed
  /// exactly once and in the shard that holds it). Throws qfp8::Error naming the shard
  /// or tensor: OpenFailed (no such path, no .safetensors in a directory), Usage (two
  /// index files in one directory), DuplicateKey, InvalidHeaderDeserialization (an index
  /// that does not match its shards, or names a shard that does not exist: exit 2).
  static TensorSource open(const std::string& path);

  /// A one-shard source over a file the caller keeps alive (the single-file API).
  static TensorSource borrow(const SafetensorsFile& file);

  /// The path the user gave (file, index or directory).
  const std::string& label() const { return label_; }
  /// The merged table: the single file's header unchanged, or all shards' tensors (shard
  /// by shard, each in file order), the union of their `__metadata__` (first shard wins a
  /// conflict, with a warning), and header_size/data_size summing to total_bytes().
  const Header& header() const {
    return shards_.size() == 1 ? shards_.front()->header() : header_;
  }
  /// Bytes of all input files together.
  uint64_t total_bytes() const { return total_bytes_; }

  std::size_t shard_count() const { return shards_.size(); }
  const SafetensorsFile& shard(std::size_t index) const { return *shards_[index]; }
  /// The shard holding `tensor` (by name); throws Internal for an unknown name.
  std::size_t shard_of(const TensorInfo& tensor) const;

  /// nullptr when absent.
  const TensorInfo* find(const std::string& name) const;
  ByteView bytes(const TensorInfo& tensor) const { return shard(shard_of(tensor)).bytes(tensor); }
  void prefetch(const TensorInfo& tensor) const { shard(shard_of(tensor)).prefetch(tensor); }
  /// A finished tensor's pages and the neighbours' pages reading it mapped (a fault maps
  /// a whole 2 MiB folio; see SafetensorsFile::release).
  void release(const TensorInfo& tensor) const { shard(shard_of(tensor)).release(tensor); }
  void release_part(const TensorInfo& tensor, uint64_t offset, uint64_t length) const {
    shard(shard_of(tensor)).release_part(tensor, offset, length);
  }

 private:
  TensorSource() = default;
  void add_shard(const SafetensorsFile& file);
  void merge(std::size_t shard_index);
  void finish_merge();
  std::optional<std::size_t> index_of(const std::string& name) const;

  std::string label_;
  std::vector<std::unique_ptr<SafetensorsFile>> owned_;
  std::vector<const SafetensorsFile*> shards_;
  Header header_;  // the merged table, with two shards or more
  uint64_t total_bytes_ = 0;
  std::unordered_map<std::string, std::size_t> tensor_index_;  // name -> header_.tensors
  std::vector<std::size_t> tensor_shard_;                      // per header_.tensors entry
};

}  // namespace qfp8
