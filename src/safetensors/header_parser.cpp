// header_parser.cpp — the safetensors reader's rules (spec §1), in the reference reader's
// order: length prefix, size cap, UTF-8, leading '{', JSON structure, then the tiling of the
// data buffer by the tensors sorted by offset, with overflow-checked sizes.
#include "safetensors/header_parser.hpp"

#include <algorithm>
#include <cstring>
#include <tuple>

#include "core/error.hpp"
#include "core/text_format.hpp"
#include "safetensors/header_json.hpp"

namespace qfp8 {
namespace {

using nlohmann::json;

std::string offsets_text(uint64_t begin, uint64_t end) {
  return "data_offsets [" + std::to_string(begin) + ", " + std::to_string(end) + "]";
}


// serde's usize accepts exactly the non-negative integers (nlohmann keeps them unsigned).
bool read_index(const json& value, uint64_t& out) {
  if (!value.is_number_unsigned()) return false;
  out = value.get<uint64_t>();
  return true;
}

std::vector<uint64_t> read_index_array(const json& entry, const char* field,
                                       const std::string& file_label, const std::string& name) {
  const auto it = entry.find(field);
  const auto fail = [&](const std::string& why) {
    return Error(ErrorCode::InvalidHeaderDeserialization, file_label, name,
                 std::string("'") + field + "' " + why);
  };
  if (it == entry.end()) throw fail("is missing");
  if (!it->is_array()) throw fail("is not an array");
  std::vector<uint64_t> values;
  values.reserve(it->size());
  for (const auto& element : *it) {
    uint64_t value = 0;
    if (!read_index(element, value)) throw fail("holds something other than a non-negative integer");
    values.push_back(value);
  }
  return values;
}

Dtype read_dtype(const json& entry, const std::string& file_label, const std::string& name) {
  const auto it = entry.find("dtype");
  if (it == entry.end() || !it->is_string()) {
    throw Error(ErrorCode::InvalidHeaderDeserialization, file_label, name,
                "'dtype' is missing or not a string");
  }
  const auto text = it->get<std::string>();
  const auto dtype = dtype_from_name(text);
  if (!dtype) {
    throw Error(ErrorCode::InvalidHeaderDeserialization, file_label, name,
                "unknown dtype '" + text + "'");
  }
  if (dtype_size(*dtype) == 0) {
    throw Error(ErrorCode::UnsupportedDtype, file_label, name,
                "dtype " + text + " packs several elements per byte, which is not supported");
  }
  return *dtype;
}

TensorInfo read_tensor(const std::string& name, const json& entry, const std::string& file_label) {
  if (!entry.is_object()) {
    throw Error(ErrorCode::InvalidHeaderDeserialization, file_label, name,
                "header entry is not an object");
  }
  TensorInfo tensor;
  tensor.name = name;
  tensor.dtype = read_dtype(entry, file_label, name);
  tensor.shape = read_index_array(entry, "shape", file_label, name);
  const auto offsets = read_index_array(entry, "data_offsets", file_label, name);
  if (offsets.size() != 2) {
    throw Error(ErrorCode::InvalidHeaderDeserialization, file_label, name,
                "'data_offsets' holds " + std::to_string(offsets.size()) +
                    " numbers instead of 2");
  }
  tensor.begin = offsets[0];
  tensor.end = offsets[1];
  return tensor;
}

void read_metadata(const json& value, Header& header, const std::string& file_label) {
  if (value.is_null()) return;  // the reference's Option<HashMap>: null means none
  if (!value.is_object()) {
    throw Error(ErrorCode::InvalidHeaderDeserialization, file_label, "",
                "'__metadata__' is not an object of strings");
  }
  header.has_metadata = true;
  for (const auto& [key, text] : value.items()) {
    if (!text.is_string()) {
      throw Error(ErrorCode::InvalidHeaderDeserialization, file_label, "",
                  "'__metadata__' value for key '" + key + "' is not a string");
    }
    header.metadata.emplace(key, text.get<std::string>());
  }
}

// Checks the offsets chain and the sizes of `tensors`, already sorted by offsets.
uint64_t validate_tiling(const std::vector<TensorInfo>& tensors, const std::string& file_label) {
  uint64_t expected_begin = 0;
  for (const auto& tensor : tensors) {
    const auto fail = [&](ErrorCode code, const std::string& why) {
      return Error(code, file_label, tensor.name, why);
    };
    const auto offsets = offsets_text(tensor.begin, tensor.end);
    if (tensor.end < tensor.begin) throw fail(ErrorCode::InvalidOffset, offsets + " end before they begin");
    if (tensor.begin < expected_begin) {
      throw fail(ErrorCode::InvalidOffset, offsets + " overlap the previous tensor");
    }
    if (tensor.begin > expected_begin) {
      throw fail(ErrorCode::InvalidOffset,
                 offsets + " leave a gap after offset " + std::to_string(expected_begin));
    }
    uint64_t numel = 1;
    for (const uint64_t dim : tensor.shape) {
      if (__builtin_mul_overflow(numel, dim, &numel)) {
        throw fail(ErrorCode::ValidationOverflow,
                   "shape " + shape_text(tensor.shape) + " has more than 2^64 elements");
      }
    }
    uint64_t bytes = 0;
    if (__builtin_mul_overflow(numel, uint64_t{dtype_size(tensor.dtype)}, &bytes)) {
      throw fail(ErrorCode::ValidationOverflow,
                 "shape " + shape_text(tensor.shape) + " has more than 2^64 bytes");
    }
    if (tensor.end - tensor.begin != bytes) {
      throw fail(ErrorCode::TensorInvalidInfo,
                 offsets + " hold " + std::to_string(tensor.end - tensor.begin) +
                     " bytes but shape " + shape_text(tensor.shape) + " of " +
                     std::string(dtype_name(tensor.dtype)) + " needs " + std::to_string(bytes));
    }
    expected_begin = tensor.end;
  }
  return expected_begin;
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
  const json document = detail::parse_header_json(header_json, file_label);
  if (!document.is_object()) {
    throw Error(ErrorCode::InvalidHeaderDeserialization, file_label, "",
                "header is not a JSON object");
  }
  Header header;
  header.header_size = header_json.size();
  header.data_size = data_size;
  for (const auto& [key, value] : document.items()) {
    if (key == "__metadata__") {
      read_metadata(value, header, file_label);
    } else {
      header.tensors.push_back(read_tensor(key, value, file_label));
    }
  }
  // Offsets order; 0-byte tensors share a begin, so the name keeps the order stable.
  std::sort(header.tensors.begin(), header.tensors.end(),
            [](const TensorInfo& a, const TensorInfo& b) {
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
                    std::to_string(kMaxHeaderSize) + " bytes");
  }
  if (header_size > size - 8) {
    throw Error(ErrorCode::InvalidHeaderLength, file_label, "",
                "header length " + std::to_string(header_size) + " runs past the end of the " +
                    std::to_string(size) + "-byte file");
  }
  const std::string_view header_json(reinterpret_cast<const char*>(bytes + 8), header_size);
  return parse_header(header_json, size - 8 - header_size, file_label);
}

}  // namespace qfp8
