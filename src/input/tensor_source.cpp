// tensor_source.cpp — opens one file or a sharded checkpoint and merges its shards'
// tensor tables (see tensor_source.hpp). Shards are opened in byte-wise name order, so
// the merged table, and therefore the plan, does not depend on directory order.
#include "input/tensor_source.hpp"

#include <algorithm>
#include <filesystem>
#include <optional>
#include <system_error>

#include "core/error.hpp"
#include "core/log.hpp"
#include "input/shard_index.hpp"
#include "platform/path.hpp"

namespace qfp8 {
namespace {

namespace fs = std::filesystem;

constexpr const char* kSafetensorsSuffix = ".safetensors";
constexpr const char* kIndexSuffix = ".safetensors.index.json";

bool ends_with(const std::string& text, const std::string& suffix) {
  return text.size() >= suffix.size() &&
         text.compare(text.size() - suffix.size(), suffix.size(), suffix) == 0;
}

std::string file_name_of(const std::string& path) {
  return platform::utf8_of(platform::fs_path(path).filename());
}

/// The index files and the .safetensors files directly inside `dir`, each sorted.
struct DirectoryListing {
  std::vector<std::string> indexes;
  std::vector<std::string> shards;
};

DirectoryListing list_directory(const std::string& dir) {
  DirectoryListing listing;
  std::error_code error;
  for (fs::directory_iterator it(platform::fs_path(dir), error), end; !error && it != end; it.increment(error)) {
    const std::string name = platform::utf8_of(it->path().filename());
    std::error_code status_error;
    // status() follows symlinks: Hugging Face caches link shards into blobs/.
    if (!fs::is_regular_file(it->status(status_error)) || status_error) continue;
    if (ends_with(name, kIndexSuffix)) listing.indexes.push_back(name);
    if (ends_with(name, kSafetensorsSuffix)) listing.shards.push_back(name);
  }
  if (error) {
    throw Error(ErrorCode::OpenFailed, "cannot list '" + dir + "': " + error.message());
  }
  std::sort(listing.indexes.begin(), listing.indexes.end());
  std::sort(listing.shards.begin(), listing.shards.end());
  return listing;
}

std::string join_path(const std::string& dir, const std::string& name) {
  return platform::utf8_of(platform::fs_path(dir) / platform::fs_path(name));
}

/// An index that names a shard that is not there describes an incomplete download: an
/// invalid input (exit 2), reported before any shard is mapped.
void require_shards_exist(const ShardIndex& index, const std::string& dir) {
  for (const auto& name : index.shard_names()) {
    std::error_code error;
    if (!fs::exists(platform::fs_path(join_path(dir, name)), error)) {
      throw Error(ErrorCode::InvalidHeaderDeserialization, index.path, {},
                  "cannot find shard '" + name + "' listed in the index: No such file or directory");
    }
  }
}

}  // namespace

// One shard is its own merged table: header() is its header, and its reader's name index
// answers (index_of). Copying a million-tensor table and indexing it a second time cost
// more than planning it. A second shard starts the merge, with the first shard's tensors.
void TensorSource::add_shard(const SafetensorsFile& file) {
  shards_.push_back(&file);
  total_bytes_ += file.file_size();
  if (shards_.size() == 1) return;
  if (shards_.size() == 2) merge(0);
  merge(shards_.size() - 1);
}

void TensorSource::merge(std::size_t shard_index) {
  const SafetensorsFile& file = *shards_[shard_index];
  header_.tensors.reserve(header_.tensors.size() + file.header().tensors.size());
  tensor_index_.reserve(header_.tensors.capacity());
  for (const auto& tensor : file.header().tensors) {
    const auto [found, inserted] = tensor_index_.emplace(tensor.name, header_.tensors.size());
    if (!inserted) {
      throw Error(ErrorCode::DuplicateKey, file.path(), tensor.name,
                  "cannot merge shards: the tensor is also in '" +
                      shards_[tensor_shard_[found->second]]->path() + "'");
    }
    header_.tensors.push_back(tensor);
    tensor_shard_.push_back(shard_index);
  }
  if (!file.header().has_metadata) return;
  header_.has_metadata = true;
  for (const auto& [key, value] : file.header().metadata) {
    const auto [found, inserted] = header_.metadata.emplace(key, value);
    if (!inserted && found->second != value) {
      log_warn("{}: __metadata__ '{}' differs from an earlier shard's; keeping '{}'",
                   file.path(), key, found->second);
    }
  }
}

void TensorSource::finish_merge() {
  if (shards_.size() == 1) return;
  for (const auto* shard : shards_) header_.data_size += shard->header().data_size;
  // data_offset() + data_size == total_bytes(), as for one file (inputs are sized by it).
  header_.header_size = total_bytes_ - 8 - header_.data_size;
}

TensorSource TensorSource::borrow(const SafetensorsFile& file) {
  TensorSource source;
  source.label_ = file.path();
  source.add_shard(file);
  return source;
}

namespace {

/// With an index, the shards' contents and the weight_map must agree entry for entry.
void check_against_index(const ShardIndex& index, const TensorSource& source) {
  for (const auto& tensor : source.header().tensors) {
    const std::string actual = file_name_of(source.shard(source.shard_of(tensor)).path());
    const auto listed = index.weight_map.find(tensor.name);
    if (listed == index.weight_map.end()) {
      throw Error(ErrorCode::InvalidHeaderDeserialization, index.path, tensor.name,
                  "cannot use the shard index: the tensor of shard '" + actual +
                      "' is missing from the weight_map");
    }
    if (listed->second != actual) {
      throw Error(ErrorCode::InvalidHeaderDeserialization, index.path, tensor.name,
                  "cannot use the shard index: it lists the tensor in shard '" + listed->second +
                      "', but it is in shard '" + actual + "'");
    }
  }
  for (const auto& [tensor, shard] : index.weight_map) {
    if (source.find(tensor) == nullptr) {
      throw Error(ErrorCode::InvalidHeaderDeserialization, index.path, tensor,
                  "cannot use the shard index: shard '" + shard + "' does not hold the tensor");
    }
  }
}

}  // namespace

namespace {

/// The shard files of a directory or index input, and the index when there is one.
struct ShardSelection {
  std::vector<std::string> paths;
  std::optional<ShardIndex> index;
};

ShardSelection select_indexed(ShardIndex index) {
  std::string dir = platform::utf8_of(platform::fs_path(index.path).parent_path());
  if (dir.empty()) dir = ".";
  require_shards_exist(index, dir);
  ShardSelection selection;
  for (const auto& name : index.shard_names()) selection.paths.push_back(join_path(dir, name));
  selection.index = std::move(index);
  return selection;
}

ShardSelection select_in_directory(const std::string& dir) {
  const DirectoryListing listing = list_directory(dir);
  if (listing.indexes.size() > 1) {
    throw Error(ErrorCode::Usage, "cannot choose between the index files '" + listing.indexes[0] +
                                      "' and '" + listing.indexes[1] + "' in '" + dir +
                                      "': give one of them as the input");
  }
  if (listing.indexes.size() == 1) {
    return select_indexed(read_shard_index(join_path(dir, listing.indexes.front())));
  }
  if (listing.shards.empty()) {
    throw Error(ErrorCode::OpenFailed, "cannot find a *.safetensors or *" +
                                           std::string(kIndexSuffix) + " file in '" + dir + "'");
  }
  ShardSelection selection;
  for (const auto& name : listing.shards) selection.paths.push_back(join_path(dir, name));
  return selection;
}

}  // namespace

TensorSource TensorSource::open(const std::string& path) {
  std::error_code error;
  const fs::file_status status = fs::status(platform::fs_path(path), error);
  const bool directory = !error && fs::is_directory(status);
  const bool index_file = !error && fs::is_regular_file(status) && ends_with(path, ".index.json");
  TensorSource source;
  source.label_ = path;
  if (!directory && !index_file) {
    // One file (or a path that fails to open: SafetensorsFile reports it as before).
    source.owned_.push_back(std::make_unique<SafetensorsFile>(path));
    source.add_shard(*source.owned_.back());
    return source;
  }
  const ShardSelection selection =
      directory ? select_in_directory(path) : select_indexed(read_shard_index(path));
  for (const auto& shard_path : selection.paths) {
    source.owned_.push_back(std::make_unique<SafetensorsFile>(shard_path));
    source.add_shard(*source.owned_.back());
  }
  source.finish_merge();
  if (selection.index) check_against_index(*selection.index, source);
  log_debug("'{}': {} shard(s), {} tensors", path, source.shard_count(),
                source.header().tensors.size());
  return source;
}

std::optional<std::size_t> TensorSource::index_of(const std::string& name) const {
  if (shards_.size() == 1) {
    const TensorInfo* found = shards_.front()->find(name);
    if (found == nullptr) return std::nullopt;
    return static_cast<std::size_t>(found - shards_.front()->header().tensors.data());
  }
  const auto found = tensor_index_.find(name);
  if (found == tensor_index_.end()) return std::nullopt;
  return found->second;
}

std::size_t TensorSource::shard_of(const TensorInfo& tensor) const {
  const auto index = index_of(tensor.name);
  if (!index) {
    throw Error(ErrorCode::Internal, label_, tensor.name, "cannot find the tensor in the input");
  }
  return shards_.size() == 1 ? 0 : tensor_shard_[*index];
}

const TensorInfo* TensorSource::find(const std::string& name) const {
  const auto index = index_of(name);
  return index ? &header().tensors[*index] : nullptr;
}

}  // namespace qfp8
