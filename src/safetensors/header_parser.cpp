// header_parser.cpp — the safetensors reader's rules (docs/format.md#container-reader), in the
// reference reader's order: length prefix, size cap, UTF-8, leading '{', JSON structure, then the
// tiling of the data buffer by the tensors sorted by offset, with overflow-checked sizes.
#include "safetensors/header_parser.hpp"

#include <algorithm>
#include <cstring>
#include <optional>
#include <tuple>

#include "core/checked_math.hpp"
#include "core/error.hpp"
#include "core/sort_by_index.hpp"
#include "core/text_format.hpp"
#include "safetensors/file_sniff.hpp"
#include "safetensors/header_json.hpp"

namespace qfp8 {
namespace {

using detail::RawEntry;
using detail::RawIndexArray;

std::string offsets_text(uint64_t begin, uint64_t end) {
  return "data_offsets [" + std::to_string(begin) + ", " + std::to_string(end) + "]";
}

// serde's usize accepts exactly the non-negative integers (nlohmann keeps them unsigned).
std::vector<uint64_t>& index_array(RawIndexArray& array, const char* field,
                                   const std::string& file_label, const std::string& name) {
  const auto fail = [&](const std::string& why) {
    return Error(ErrorCode::InvalidHeaderDeserialization, file_label, name,
                 std::string("'") + field + "' " + why);
  };
  switch (array.state) {
    case RawIndexArray::State::Missing: throw fail("is missing");
    case RawIndexArray::State::NotArray: throw fail("is not an array");
    case RawIndexArray::State::NotIndex:
      throw fail("holds something other than a non-negative integer");
    case RawIndexArray::State::Ok: break;
  }
  return array.values;
}

Dtype read_dtype(const RawEntry& entry, const std::string& file_label) {
  if (!entry.dtype_is_string) {
    throw Error(ErrorCode::InvalidHeaderDeserialization, file_label, entry.name,
                "'dtype' is missing or not a string");
  }
  const auto dtype = dtype_from_name(entry.dtype);
  if (!dtype) {
    throw Error(ErrorCode::InvalidHeaderDeserialization, file_label, entry.name,
                "unknown dtype '" + entry.dtype + "'");
  }
  if (dtype_size(*dtype) == 0) {
    throw Error(ErrorCode::UnsupportedDtype, file_label, entry.name,
                "dtype " + entry.dtype + " packs several elements per byte, which is not supported");
  }
  return *dtype;
}

// The checks run in a fixed order (entry, dtype, shape, offsets), whatever the field order.
TensorInfo read_tensor(RawEntry& entry, const std::string& file_label) {
  if (!entry.is_object) {
    throw Error(ErrorCode::InvalidHeaderDeserialization, file_label, entry.name,
                "header entry is not an object");
  }
  TensorInfo tensor;
  tensor.dtype = read_dtype(entry, file_label);
  tensor.shape = std::move(index_array(entry.shape, "shape", file_label, entry.name));
  // Read in place, not moved: the vector keeps its capacity for the next entry.
  const auto& offsets = index_array(entry.data_offsets, "data_offsets", file_label, entry.name);
  if (offsets.size() != 2) {
    throw Error(ErrorCode::InvalidHeaderDeserialization, file_label, entry.name,
                "'data_offsets' holds " + std::to_string(offsets.size()) +
                    " numbers instead of 2");
  }
  tensor.begin = offsets[0];
  tensor.end = offsets[1];
  tensor.name = std::move(entry.name);
  return tensor;
}

void read_metadata(RawEntry& entry, Header& header, const std::string& file_label) {
  if (entry.is_null) return;  // the reference's Option<HashMap>: null means none
  if (!entry.is_object) {
    throw Error(ErrorCode::InvalidHeaderDeserialization, file_label, "",
                "'__metadata__' is not an object of strings");
  }
  if (entry.has_non_string) {
    throw Error(ErrorCode::InvalidHeaderDeserialization, file_label, "",
                "'__metadata__' value for key '" + entry.first_non_string_key + "' is not a string");
  }
  header.has_metadata = true;
  header.metadata = std::move(entry.strings);
}

// Builds the header from the entries. An entry's rules are applied when it ends, but the
// error reported is that of the byte-wise first key that breaks one (as when the entries
// were read from a sorted map): a file gives the same message whatever its entry order.
class HeaderBuilder final : public detail::EntryConsumer {
 public:
  HeaderBuilder(Header& header, const std::string& file_label)
      : header_(header), file_label_(file_label) {}

  void entry(RawEntry& entry) override {
    if (first_error_ && entry.name > first_error_->key) return;  // cannot come first
    try {
      if (entry.name == "__metadata__") {
        read_metadata(entry, header_, file_label_);
      } else {
        header_.tensors.push_back(read_tensor(entry, file_label_));
      }
    } catch (const Error& error) {
      first_error_.emplace(Failure{entry.name, error});  // names move out only on success
    }
  }

  void throw_first_error() const {
    if (first_error_) throw first_error_->error;
  }

 private:
  struct Failure {
    std::string key;
    Error error;
  };
  Header& header_;
  const std::string& file_label_;
  std::optional<Failure> first_error_;
};

// Checks the offsets chain and the sizes of `tensors`, already sorted by offsets.
uint64_t validate_tiling(const std::vector<TensorInfo>& tensors, const std::string& file_label) {
  uint64_t expected_begin = 0;
  for (const auto& tensor : tensors) {
    const auto fail = [&](ErrorCode code, const std::string& why) {
      return Error(code, file_label, tensor.name, why);
    };
    // Built only when a message needs it, not once per tensor.
    const auto offsets = [&] { return offsets_text(tensor.begin, tensor.end); };
    if (tensor.end < tensor.begin) {
      throw fail(ErrorCode::InvalidOffset, offsets() + " end before they begin");
    }
    if (tensor.begin < expected_begin) {
      throw fail(ErrorCode::InvalidOffset, offsets() + " overlap the previous tensor");
    }
    if (tensor.begin > expected_begin) {
      throw fail(ErrorCode::InvalidOffset,
                 offsets() + " leave a gap after offset " + std::to_string(expected_begin));
    }
    uint64_t numel = 1;
    for (const uint64_t dim : tensor.shape) {
      if (mul_overflow(numel, dim, &numel)) {
        throw fail(ErrorCode::ValidationOverflow,
                   "shape " + shape_text(tensor.shape) + " has more than 2^64 elements");
      }
    }
    uint64_t bytes = 0;
    if (mul_overflow(numel, uint64_t{dtype_size(tensor.dtype)}, &bytes)) {
      throw fail(ErrorCode::ValidationOverflow,
                 "shape " + shape_text(tensor.shape) + " has more than 2^64 bytes");
    }
    if (tensor.end - tensor.begin != bytes) {
      throw fail(ErrorCode::TensorInvalidInfo,
                 offsets() + " hold " + std::to_string(tensor.end - tensor.begin) +
                     " bytes but shape " + shape_text(tensor.shape) + " of " +
                     std::string(dtype_name(tensor.dtype)) + " needs " + std::to_string(bytes));
    }
    expected_begin = tensor.end;
  }
  return expected_begin;
}

// ": the file looks like a GGUF file ..." when an implausible header length comes from a
// file of another kind, else nothing.
std::string looks_like(const uint8_t* bytes, uint64_t size) {
  const std::string kind = describe_file_start(bytes, size);
  return kind.empty() ? kind : ": the file looks like " + kind;
}

void fill_numel(std::vector<TensorInfo>& tensors) {
  for (auto& tensor : tensors) {
    tensor.numel = 1;
    for (const uint64_t dim : tensor.shape) tensor.numel *= dim;  // overflow-checked above
  }
}

}  // namespace

Header parse_header(std::string_view header_json, uint64_t data_size,
                    const std::string& file_label) {
  if (!is_valid_utf8(header_json)) {
    throw Error(ErrorCode::InvalidHeader, file_label, "", "header is not valid UTF-8");
  }
  if (header_json.empty() || header_json.front() != '{') {
    throw Error(ErrorCode::InvalidHeaderStart, file_label, "", "header does not start with '{'");
  }
  Header header;
  header.header_size = header_json.size();
  header.data_size = data_size;
  HeaderBuilder builder(header, file_label);
  // The JSON starts with '{' and parses: the header is an object.
  detail::parse_header_entries(header_json, file_label, builder);
  builder.throw_first_error();
  // Offsets order; 0-byte tensors share a begin, so the name keeps the order stable.
  sort_by_index(header.tensors, [](const TensorInfo& a, const TensorInfo& b) {
    return std::tie(a.begin, a.end, a.name) < std::tie(b.begin, b.end, b.name);
  });
  const uint64_t data_end = validate_tiling(header.tensors, file_label);
  if (data_end < data_size) {
    throw Error(ErrorCode::MetadataIncompleteBuffer, file_label, "",
                std::to_string(data_size - data_end) + " trailing bytes after the last tensor " +
                    "(tensors end at data offset " + std::to_string(data_end) + ")");
  }
  if (data_end > data_size) {
    throw Error(ErrorCode::MetadataIncompleteBuffer, file_label, "",
                "file is truncated: tensors end at data offset " + std::to_string(data_end) +
                    " but the data buffer holds " + std::to_string(data_size) + " bytes");
  }
  fill_numel(header.tensors);
  return header;
}

Header parse_file_image(const uint8_t* bytes, uint64_t size, const std::string& file_label) {
  if (size < 8) {
    throw Error(ErrorCode::HeaderTooSmall, file_label, "",
                "file is " + std::to_string(size) + " bytes, too small for the 8-byte header length");
  }
  uint64_t header_size = 0;
  for (int i = 7; i >= 0; --i) header_size = (header_size << 8) | bytes[i];  // little-endian
  if (header_size > kMaxHeaderSize) {
    throw Error(ErrorCode::HeaderTooLarge, file_label, "",
                "header length " + std::to_string(header_size) + " exceeds the limit of " +
                    std::to_string(kMaxHeaderSize) + " bytes" + looks_like(bytes, size));
  }
  if (header_size > size - 8) {
    throw Error(ErrorCode::InvalidHeaderLength, file_label, "",
                "header length " + std::to_string(header_size) + " runs past the end of the " +
                    std::to_string(size) + "-byte file" + looks_like(bytes, size));
  }
  const std::string_view header_json(reinterpret_cast<const char*>(bytes + 8), header_size);
  return parse_header(header_json, size - 8 - header_size, file_label);
}

}  // namespace qfp8
