// header_json.hpp — internal to the header parser: one strict SAX pass over the JSON text
// that rejects duplicate keys (the JSON library would silently keep the last) and nesting
// deeper than the reference reader accepts, and hands over each top-level entry as the
// raw fields the reader's rules need. No DOM is built: without it (a second pass, a
// million-node map and its destruction), `inspect` of a million-tensor header takes about
// half the CPU time (docs/benchmarks.md#design-measurements).
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace qfp8::detail {

/// Deepest container accepted, counted from the header object (0): an entry (1), its shape
/// (2), and unknown entry fields, which the reference reader skips whatever they hold, down
/// to serde_json's recursion limit: 127 open containers in all, so depth 126. One more is
/// its "recursion limit exceeded" (checked against it by tests/python).
inline constexpr int kMaxHeaderNesting = 126;

/// An entry's `shape` or `data_offsets` as written.
struct RawIndexArray {
  enum class State { Missing, NotArray, NotIndex, Ok };
  State state = State::Missing;
  std::vector<uint64_t> values;  // the non-negative integers (when Ok)
};

/// One top-level entry of the header, as the JSON held it.
struct RawEntry {
  std::string name;
  bool is_object = false;
  bool is_null = false;
  // Tensor entries: fields the reader reads; every other field is skipped.
  bool dtype_is_string = false;
  std::string dtype;
  RawIndexArray shape;
  RawIndexArray data_offsets;
  // `__metadata__`: its string values, and the byte-wise first key whose value is not one.
  std::map<std::string, std::string> strings;
  bool has_non_string = false;
  std::string first_non_string_key;

  void reset();
};

/// Receives each entry once its value is complete, in text order.
class EntryConsumer {
 public:
  virtual ~EntryConsumer() = default;
  /// `entry` is reused for the next one: move out what is kept.
  virtual void entry(RawEntry& entry) = 0;
};

/// Parses `text` strictly, calling `consumer` per entry. Throws InvalidHeaderDeserialization
/// (syntax, nesting) or DuplicateKey, naming `file_label` and, inside an entry, the tensor:
/// at the first such problem in text order, whatever the consumer was given before.
void parse_header_entries(std::string_view text, const std::string& file_label,
                          EntryConsumer& consumer);

}  // namespace qfp8::detail
