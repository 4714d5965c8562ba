// header_json.cpp — strict JSON parsing of a safetensors header (see header_json.hpp).
#include "safetensors/header_json.hpp"

#include <unordered_set>
#include <vector>

#include "core/error.hpp"

namespace qfp8::detail {
namespace {

using nlohmann::json;

// Follows the parse through nlohmann's callback: one key set per open object, and the key
// last seen at each depth so a duplicate inside an entry can name its tensor.
class KeyTracker {
 public:
  explicit KeyTracker(const std::string& file_label) : file_label_(file_label) {}

  bool on_event(int depth, json::parse_event_t event, json& parsed) {
    switch (event) {
      case json::parse_event_t::object_start:
      case json::parse_event_t::array_start:
        if (depth > kMaxHeaderNesting) {
          throw Error(ErrorCode::InvalidHeaderDeserialization, file_label_, entry_name(),
                      "header nests deeper than the safetensors schema allows");
        }
        if (event == json::parse_event_t::object_start) open_objects_.emplace_back();
        break;
      case json::parse_event_t::object_end:
        open_objects_.pop_back();
        break;
      case json::parse_event_t::key:
        on_key(depth, parsed.get<std::string>());
        break;
      default:
        break;
    }
    return true;
  }

 private:
  void on_key(int depth, const std::string& key) {
    const auto level = static_cast<std::size_t>(depth);
    if (last_key_.size() <= level) last_key_.resize(level + 1);
    last_key_[level] = key;
    if (!open_objects_.back().insert(key).second) {
      if (depth <= 1) {
        throw Error(ErrorCode::DuplicateKey, file_label_, "",
                    "duplicate key '" + key + "' in the header");
      }
      if (entry_name() == "__metadata__") {
        throw Error(ErrorCode::DuplicateKey, file_label_, "",
                    "duplicate key '" + key + "' in '__metadata__'");
      }
      throw Error(ErrorCode::DuplicateKey, file_label_, entry_name(),
                  "duplicate key '" + key + "' in its header entry");
    }
  }

  // The top-level key whose value is being parsed ("" before the first).
  std::string entry_name() const { return last_key_.size() > 1 ? last_key_[1] : std::string(); }

  const std::string& file_label_;
  std::vector<std::unordered_set<std::string>> open_objects_;
  std::vector<std::string> last_key_;
};

// nlohmann's messages start with "[json.exception.parse_error.101] "; users need the rest.
std::string without_exception_tag(const std::string& message) {
  const auto close = message.find("] ");
  return close == std::string::npos ? message : message.substr(close + 2);
}

}  // namespace

json parse_header_json(std::string_view text, const std::string& file_label) {
  // nlohmann's lexer takes a NUL byte for the end of input and would accept "{}\0junk";
  // a raw NUL is never valid JSON (inside strings it must be escaped), so refuse it here.
  if (const auto nul = text.find('\0'); nul != std::string_view::npos) {
    throw Error(ErrorCode::InvalidHeaderDeserialization, file_label, "",
                "cannot parse the header JSON: NUL byte at offset " + std::to_string(nul));
  }
  KeyTracker tracker(file_label);
  json::parser_callback_t callback = [&tracker](int depth, json::parse_event_t event,
                                                json& parsed) {
    return tracker.on_event(depth, event, parsed);
  };
  try {
    return json::parse(text.begin(), text.end(), callback);
  } catch (const json::exception& e) {
    throw Error(ErrorCode::InvalidHeaderDeserialization, file_label, "",
                "cannot parse the header JSON: " + without_exception_tag(e.what()));
  }
}

}  // namespace qfp8::detail
