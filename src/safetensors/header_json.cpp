// header_json.cpp — strict JSON parsing of a safetensors header (see header_json.hpp).
#include "safetensors/header_json.hpp"

#include <string>
#include <unordered_set>
#include <vector>

#include "core/error.hpp"

namespace qfp8::detail {
namespace {

using nlohmann::json;

// nlohmann's messages start with "[json.exception.parse_error.101] "; users need the rest.
std::string without_exception_tag(const std::string& message) {
  const auto close = message.find("] ");
  return close == std::string::npos ? message : message.substr(close + 2);
}

// A SAX pass over the header that builds nothing: it tracks one key set per open object
// and the key last seen at each depth (so a duplicate inside an entry can name its tensor),
// and stops at the first duplicate, nesting past the reference's limit, or syntax error.
// It runs before the DOM is built because nlohmann's callback parser scans the parent
// object on every object end, which is quadratic in the number of tensors (a million-entry
// header would take hours).
class HeaderChecker : public nlohmann::json_sax<json> {
 public:
  explicit HeaderChecker(const std::string& file_label) : file_label_(file_label) {}

  bool null() override { return true; }
  bool boolean(bool) override { return true; }
  bool number_integer(number_integer_t) override { return true; }
  bool number_unsigned(number_unsigned_t) override { return true; }
  bool number_float(number_float_t, const string_t&) override { return true; }
  bool string(string_t&) override { return true; }
  bool binary(binary_t&) override { return true; }

  bool start_object(std::size_t) override {
    open_container();
    open_objects_.emplace_back();
    return true;
  }
  bool end_object() override {
    open_objects_.pop_back();
    --depth_;
    return true;
  }
  bool start_array(std::size_t) override {
    open_container();
    return true;
  }
  bool end_array() override {
    --depth_;
    return true;
  }
  bool key(string_t& key) override {
    on_key(key);
    return true;
  }
  bool parse_error(std::size_t, const std::string&, const nlohmann::detail::exception& error) override {
    throw Error(ErrorCode::InvalidHeaderDeserialization, file_label_, "",
                "cannot parse the header JSON: " + without_exception_tag(error.what()));
  }

 private:
  // `depth_` counts the containers already open: 0 for the header object itself.
  void open_container() {
    if (depth_ > kMaxHeaderNesting) {
      throw Error(ErrorCode::InvalidHeaderDeserialization, file_label_, entry_name(),
                  "header JSON nests deeper than " + std::to_string(kMaxHeaderNesting + 1) +
                      " levels (the reference reader's limit)");
    }
    ++depth_;
  }

  // Keys of the header object are at depth 1, keys inside an entry at depth 2.
  void on_key(const std::string& key) {
    const auto level = static_cast<std::size_t>(depth_);
    if (last_key_.size() <= level) last_key_.resize(level + 1);
    last_key_[level] = key;
    if (!open_objects_.back().insert(key).second) {
      if (depth_ <= 1) {
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
  int depth_ = 0;
  std::vector<std::unordered_set<std::string>> open_objects_;
  std::vector<std::string> last_key_;
};


}  // namespace

json parse_header_json(std::string_view text, const std::string& file_label) {
  // nlohmann's lexer takes a NUL byte for the end of input and would accept "{}\0junk";
  // a raw NUL is never valid JSON (inside strings it must be escaped), so refuse it here.
  if (const auto nul = text.find('\0'); nul != std::string_view::npos) {
    throw Error(ErrorCode::InvalidHeaderDeserialization, file_label, "",
                "cannot parse the header JSON: NUL byte at offset " + std::to_string(nul));
  }
  HeaderChecker checker(file_label);
  json::sax_parse(text.begin(), text.end(), &checker);
  // Checked: well-formed, at most 127 levels deep, no duplicate key. The plain DOM parse
  // cannot fail now (a json::exception here would be a disagreement between the two passes).
  try {
    return json::parse(text.begin(), text.end());
  } catch (const json::exception& e) {
    throw Error(ErrorCode::InvalidHeaderDeserialization, file_label, "",
                "cannot parse the header JSON: " + without_exception_tag(e.what()));
  }
}

}  // namespace qfp8::detail
