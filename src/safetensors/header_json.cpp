// header_json.cpp — the strict SAX pass over a safetensors header (see header_json.hpp).
#include "safetensors/header_json.hpp"

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/error.hpp"
#include "core/json_key_set.hpp"

namespace qfp8::detail {
namespace {

using nlohmann::json;

constexpr const char* kMetadataKey = "__metadata__";

// nlohmann's messages start with "[json.exception.parse_error.101] "; users need the rest.
std::string without_exception_tag(const std::string& message) {
  const auto close = message.find("] ");
  return close == std::string::npos ? message : message.substr(close + 2);
}

enum class ValueKind { Null, Unsigned, String, Object, Array, Other };

// Tracks one key set per open object and the entry being read (so a duplicate inside an
// entry can name its tensor), stops at the first duplicate, nesting past the reference's
// limit, or syntax error, and records what the reader's rules look at. Depths count the
// containers open: the header object's keys are at 1, an entry's fields at 2, the
// elements of its shape at 3. (nlohmann's callback parser, used before, scanned the
// parent object on every object end: quadratic, hours for a million entries.)
class HeaderSax final : public nlohmann::json_sax<json> {
 public:
  HeaderSax(const std::string& file_label, EntryConsumer& consumer)
      : file_label_(file_label), consumer_(consumer) {}

  bool null() override { return value(ValueKind::Null); }
  bool boolean(bool) override { return value(ValueKind::Other); }
  bool number_integer(number_integer_t) override { return value(ValueKind::Other); }
  bool number_unsigned(number_unsigned_t number) override {
    return value(ValueKind::Unsigned, number);
  }
  bool number_float(number_float_t, const string_t&) override { return value(ValueKind::Other); }
  bool string(string_t& text) override { return value(ValueKind::String, 0, &text); }
  bool binary(binary_t&) override { return value(ValueKind::Other); }

  bool start_object(std::size_t) override {
    value(ValueKind::Object);
    open_container();
    if (key_sets_.size() <= static_cast<std::size_t>(depth_)) key_sets_.resize(depth_ + 1);
    key_sets_[depth_].clear();
    return true;
  }
  bool end_object() override { return close_container(); }
  bool start_array(std::size_t) override {
    value(ValueKind::Array);
    open_container();
    return true;
  }
  bool end_array() override { return close_container(); }
  bool key(string_t& key) override {
    on_key(key);
    return true;
  }
  bool parse_error(std::size_t, const std::string&, const nlohmann::detail::exception& error) override {
    throw Error(ErrorCode::InvalidHeaderDeserialization, file_label_, "",
                "cannot parse the header JSON: " + without_exception_tag(error.what()));
  }

 private:
  void open_container() {
    if (depth_ > kMaxHeaderNesting) {
      throw Error(ErrorCode::InvalidHeaderDeserialization, file_label_, entry_.name,
                  "header JSON nests deeper than " + std::to_string(kMaxHeaderNesting + 1) +
                      " levels (the reference reader's limit)");
    }
    ++depth_;
  }

  bool close_container() {
    --depth_;
    if (depth_ == 2) collecting_ = nullptr;  // a shape or data_offsets array ended
    if (depth_ == 1) consumer_.entry(entry_);
    return true;
  }

  void on_key(const std::string& key) {
    if (depth_ == 1) {
      entry_.reset();
      entry_.name = key;
      in_metadata_ = key == kMetadataKey;
    } else if (depth_ == 2) {
      field_ = key;
    }
    if (!key_sets_[depth_].insert(key)) duplicate(key);
  }

  [[noreturn]] void duplicate(const std::string& key) const {
    if (depth_ <= 1) {
      throw Error(ErrorCode::DuplicateKey, file_label_, "", "duplicate key '" + key + "' in the header");
    }
    if (entry_.name == kMetadataKey) {
      throw Error(ErrorCode::DuplicateKey, file_label_, "",
                  "duplicate key '" + key + "' in '__metadata__'");
    }
    throw Error(ErrorCode::DuplicateKey, file_label_, entry_.name,
                "duplicate key '" + key + "' in its header entry");
  }

  // A value (scalar, or the start of a container) at the current depth.
  bool value(ValueKind kind, uint64_t number = 0, const std::string* text = nullptr) {
    if (depth_ == 1) {
      entry_.is_object = kind == ValueKind::Object;
      entry_.is_null = kind == ValueKind::Null;
      if (kind != ValueKind::Object && kind != ValueKind::Array) consumer_.entry(entry_);
    } else if (depth_ == 2 && entry_.is_object) {
      if (in_metadata_) {
        metadata_value(kind, text);
      } else {
        field_value(kind, text);
      }
    } else if (depth_ == 3 && collecting_ != nullptr) {
      if (kind == ValueKind::Unsigned) {
        collecting_->values.push_back(number);
      } else {
        collecting_->state = RawIndexArray::State::NotIndex;
      }
    }
    return true;
  }

  void metadata_value(ValueKind kind, const std::string* text) {
    if (kind == ValueKind::String) {
      entry_.strings.emplace(field_, *text);
    } else if (!entry_.has_non_string || field_ < entry_.first_non_string_key) {
      entry_.has_non_string = true;
      entry_.first_non_string_key = field_;
    }
  }

  void field_value(ValueKind kind, const std::string* text) {
    if (field_ == "dtype") {
      entry_.dtype_is_string = kind == ValueKind::String;
      if (entry_.dtype_is_string) entry_.dtype = *text;
      return;
    }
    RawIndexArray* array = field_ == "shape"          ? &entry_.shape
                           : field_ == "data_offsets" ? &entry_.data_offsets
                                                      : nullptr;
    if (array == nullptr) return;  // an unknown field: skipped, as the reference does
    array->state = kind == ValueKind::Array ? RawIndexArray::State::Ok : RawIndexArray::State::NotArray;
    if (kind == ValueKind::Array) collecting_ = array;
  }

  const std::string& file_label_;
  EntryConsumer& consumer_;
  int depth_ = 0;
  std::vector<JsonKeySet> key_sets_;  // per depth, of the open object
  RawEntry entry_;
  bool in_metadata_ = false;
  std::string field_;                    // the entry field whose value comes next
  RawIndexArray* collecting_ = nullptr;  // the shape/data_offsets being read
};

}  // namespace

void RawEntry::reset() {
  name.clear();
  is_object = false;
  is_null = false;
  dtype_is_string = false;
  dtype.clear();
  shape = {};
  data_offsets.state = RawIndexArray::State::Missing;
  data_offsets.values.clear();
  strings.clear();
  has_non_string = false;
  first_non_string_key.clear();
}

void parse_header_entries(std::string_view text, const std::string& file_label,
                          EntryConsumer& consumer) {
  // nlohmann's lexer takes a NUL byte for the end of input and would accept "{}\0junk";
  // a raw NUL is never valid JSON (inside strings it must be escaped), so refuse it here.
  if (const auto nul = text.find('\0'); nul != std::string_view::npos) {
    throw Error(ErrorCode::InvalidHeaderDeserialization, file_label, "",
                "cannot parse the header JSON: NUL byte at offset " + std::to_string(nul));
  }
  HeaderSax sax(file_label, consumer);
  json::sax_parse(text.begin(), text.end(), &sax);
}

}  // namespace qfp8::detail
