// shard_index.cpp — reads and checks a `*.safetensors.index.json` (see shard_index.hpp).
#include "input/shard_index.hpp"

#include <cerrno>
#include <fstream>
#include <set>
#include <sstream>

#include <nlohmann/json.hpp>

#include "core/error.hpp"
#include "core/json_key_set.hpp"
#include "platform/path.hpp"

namespace qfp8 {
namespace {

// Qwen-Image's transformer index is ~130 kB; anything past 64 MiB is not an index.
constexpr std::streamoff kMaxIndexBytes = 64ll << 20;

[[noreturn]] void invalid(const std::string& label, const std::string& detail) {
  throw Error(ErrorCode::InvalidHeaderDeserialization, label, {}, detail);
}

std::string read_text(const std::string& path) {
  std::ifstream in(platform::fs_path(path), std::ios::binary | std::ios::ate);
  if (!in) throw Error(ErrorCode::OpenFailed, with_errno("cannot open '" + path + "'", errno));
  const std::streamoff size = in.tellg();
  if (size > kMaxIndexBytes) {
    invalid(path, "cannot read the shard index: larger than 64 MiB");
  }
  std::string text(static_cast<std::size_t>(size < 0 ? 0 : size), '\0');
  in.seekg(0);
  if (!in.read(text.data(), static_cast<std::streamsize>(text.size()))) {
    throw Error(ErrorCode::ReadFailed, with_errno("cannot read '" + path + "'", errno));
  }
  return text;
}

// A SAX pass before the DOM parse, which would keep the last of two equal keys silently:
// refuses a second "weight_map", and a tensor listed twice in one (the header reader
// refuses duplicate keys the same way). Syntax errors are left to the DOM parse, whose
// message users already get. Other objects (the index's metadata) are not used.
class DuplicateCheck final : public nlohmann::json_sax<nlohmann::json> {
 public:
  explicit DuplicateCheck(const std::string& label) : label_(label) {}

  bool null() override { return true; }
  bool boolean(bool) override { return true; }
  bool number_integer(number_integer_t) override { return true; }
  bool number_unsigned(number_unsigned_t) override { return true; }
  bool number_float(number_float_t, const string_t&) override { return true; }
  bool string(string_t&) override { return true; }
  bool binary(binary_t&) override { return true; }
  bool start_object(std::size_t) override {
    ++depth_;
    if (depth_ == 2 && in_weight_map_) tensors_.clear();
    return true;
  }
  bool end_object() override {
    --depth_;
    return true;
  }
  bool start_array(std::size_t) override {
    ++depth_;
    return true;
  }
  bool end_array() override {
    --depth_;
    return true;
  }
  bool parse_error(std::size_t, const std::string&, const nlohmann::detail::exception&) override {
    return false;
  }

  // Depth 1: the index's own keys; depth 2 inside "weight_map": tensor names.
  bool key(string_t& key) override {
    if (depth_ == 1) {
      in_weight_map_ = key == "weight_map";
      if (in_weight_map_ && seen_weight_map_) {
        throw Error(ErrorCode::DuplicateKey, label_, {},
                    "cannot use the shard index: \"weight_map\" appears twice");
      }
      seen_weight_map_ = seen_weight_map_ || in_weight_map_;
    } else if (depth_ == 2 && in_weight_map_ && !tensors_.insert(key)) {
      throw Error(ErrorCode::DuplicateKey, label_, key,
                  "cannot use the shard index: the tensor is listed twice in the weight_map");
    }
    return true;
  }

 private:
  const std::string& label_;
  int depth_ = 0;
  bool in_weight_map_ = false;
  bool seen_weight_map_ = false;
  JsonKeySet tensors_;
};

}  // namespace

std::vector<std::string> ShardIndex::shard_names() const {
  std::set<std::string> names;
  for (const auto& entry : weight_map) names.insert(entry.second);
  return {names.begin(), names.end()};
}

bool is_plain_file_name(const std::string& name) {
  // A shard must live beside its index: no path separators, no parent references.
  return !name.empty() && name.find('/') == std::string::npos &&
         name.find('\\') == std::string::npos && name.find("..") == std::string::npos &&
         name.find('\0') == std::string::npos && name != ".";
}

ShardIndex parse_shard_index(const std::string& text, const std::string& label) {
  DuplicateCheck duplicates(label);
  nlohmann::json::sax_parse(text, &duplicates);
  nlohmann::json json;
  try {
    json = nlohmann::json::parse(text);
  } catch (const nlohmann::json::exception& error) {
    invalid(label, std::string("cannot parse the shard index: ") + error.what());
  }
  if (!json.is_object()) invalid(label, "cannot use the shard index: not a JSON object");
  const auto weight_map = json.find("weight_map");
  if (weight_map == json.end() || !weight_map->is_object()) {
    invalid(label, "cannot use the shard index: no \"weight_map\" object");
  }
  ShardIndex index;
  index.path = label;
  for (const auto& [tensor, shard] : weight_map->items()) {
    if (!shard.is_string()) {
      throw Error(ErrorCode::InvalidHeaderDeserialization, label, tensor,
                  "cannot use the shard index: the weight_map value is not a file name");
    }
    const std::string name = shard.get<std::string>();
    if (!is_plain_file_name(name)) {
      throw Error(ErrorCode::InvalidHeaderDeserialization, label, tensor,
                  "cannot use shard '" + name + "': not a file name inside the index's directory");
    }
    index.weight_map[tensor] = name;
  }
  if (index.weight_map.empty()) invalid(label, "cannot use the shard index: empty weight_map");
  return index;
}

ShardIndex read_shard_index(const std::string& path) {
  return parse_shard_index(read_text(path), path);
}

}  // namespace qfp8
