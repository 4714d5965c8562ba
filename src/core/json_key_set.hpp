// json_key_set.hpp — the keys of one JSON object, for parsers that refuse a key given twice
// (nlohmann's DOM would silently keep the last). A safetensors header entry has three or
// four keys: a short list, searched in place and reused from object to object, costs no
// allocation (a hash set allocated and freed a node per key, per entry). Past kFewKeys it
// becomes a hash set, so that an object of a million keys (a header) stays linear.
#pragma once

#include <algorithm>
#include <cstddef>
#include <string>
#include <unordered_set>
#include <vector>

namespace qfp8 {

class JsonKeySet {
 public:
  /// False when `key` is already in the set.
  bool insert(const std::string& key) {
    if (many_.empty() && few_.size() < kFewKeys) {
      if (std::find(few_.begin(), few_.end(), key) != few_.end()) return false;
      few_.push_back(key);
      return true;
    }
    if (many_.empty()) many_.insert(few_.begin(), few_.end());
    return many_.insert(key).second;
  }

  void clear() {
    few_.clear();
    if (!many_.empty()) many_.clear();
  }

 private:
  static constexpr std::size_t kFewKeys = 16;
  std::vector<std::string> few_;
  std::unordered_set<std::string> many_;
};

}  // namespace qfp8
