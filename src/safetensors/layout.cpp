// layout.cpp — the reference writer's layout and header serialisation
// (docs/format.md#container-writer): the order Rust's `prepare` sorts into and the bytes serde_json
// writes for `Metadata`.
#include "safetensors/layout.hpp"

#include <algorithm>
#include <numeric>
#include <string_view>
#include <unordered_set>

#include "core/checked_math.hpp"
#include "core/error.hpp"
#include "safetensors/header_parser.hpp"

namespace qfp8 {
namespace {

constexpr std::size_t kHeaderAlignment = 8;  // the reference pads N to a multiple of 8

uint64_t checked_byte_size(const PlannedTensor& planned, uint64_t& numel) {
  numel = 1;
  for (const uint64_t dim : planned.shape) {
    if (mul_overflow(numel, dim, &numel)) {
      throw Error(ErrorCode::Internal, "", planned.name, "shape overflows 64 bits");
    }
  }
  uint64_t bytes = 0;
  if (mul_overflow(numel, uint64_t{dtype_size(planned.dtype)}, &bytes)) {
    throw Error(ErrorCode::Internal, "", planned.name, "byte size overflows 64 bits");
  }
  return bytes;
}

void check_plan(const std::vector<PlannedTensor>& tensors) {
  std::unordered_set<std::string_view> names;  // views of the plan's names: no copies
  names.reserve(tensors.size());
  for (const auto& planned : tensors) {
    if (planned.name == "__metadata__") {
      throw Error(ErrorCode::InvalidPlan, "", planned.name, "name is reserved for metadata");
    }
    if (!names.insert(planned.name).second) {
      throw Error(ErrorCode::Internal, "", planned.name, "name is planned twice");
    }
    if (dtype_size(planned.dtype) == 0) {
      throw Error(ErrorCode::Internal, "", planned.name,
                  "sub-byte dtype " + std::string(dtype_name(planned.dtype)) +
                      " cannot be written");
    }
  }
}

// Rust `prepare`: dtype descending in enum order, then name ascending (byte-wise). The
// indices of `tensors` in that order, grouped by dtype first, keeping the plan's order:
// plans list tensors by name, so each group is usually sorted already and costs one pass
// (sorting a million records by dtype and name took more instructions than reading their
// header).
std::vector<std::size_t> layout_order(const std::vector<PlannedTensor>& tensors) {
  std::vector<std::size_t> order(tensors.size());
  std::iota(order.begin(), order.end(), std::size_t{0});
  std::stable_sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) {
    return tensors[a].dtype > tensors[b].dtype;
  });
  const auto by_name = [&](std::size_t a, std::size_t b) {
    return tensors[a].name < tensors[b].name;
  };
  for (auto first = order.begin(); first != order.end();) {
    const Dtype dtype = tensors[*first].dtype;
    const auto last = std::find_if(first, order.end(),
                                   [&](std::size_t i) { return tensors[i].dtype != dtype; });
    if (!std::is_sorted(first, last, by_name)) std::sort(first, last, by_name);
    first = last;
  }
  return order;
}

void append_entry(std::string& json, const TensorInfo& tensor) {
  json += json_quote_compact(tensor.name);
  json += ":{\"dtype\":\"";
  json += dtype_name(tensor.dtype);
  json += "\",\"shape\":[";
  for (std::size_t i = 0; i < tensor.shape.size(); ++i) {
    if (i > 0) json += ',';
    json += std::to_string(tensor.shape[i]);
  }
  json += "],\"data_offsets\":[" + std::to_string(tensor.begin) + "," +
          std::to_string(tensor.end) + "]}";
}

std::string header_json(const std::vector<TensorInfo>& tensors,
                        const std::map<std::string, std::string>& metadata,
                        bool always_write_metadata) {
  std::string json = "{";
  if (!metadata.empty() || always_write_metadata) {
    json += "\"__metadata__\":{";
    bool first = true;
    for (const auto& [key, value] : metadata) {  // std::map: byte-wise key order
      if (!first) json += ',';
      first = false;
      json += json_quote_compact(key) + ":" + json_quote_compact(value);
    }
    json += '}';
    if (!tensors.empty()) json += ',';
  }
  for (std::size_t i = 0; i < tensors.size(); ++i) {
    if (i > 0) json += ',';
    append_entry(json, tensors[i]);
  }
  json += '}';
  json.append((kHeaderAlignment - json.size() % kHeaderAlignment) % kHeaderAlignment, ' ');
  return json;
}

}  // namespace

std::string json_quote_compact(const std::string& text) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(text.size() + 2);
  out += '"';
  for (const char c : text) {
    const auto byte = static_cast<unsigned char>(c);
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\b': out += "\\b"; break;
      case '\f': out += "\\f"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      default:
        if (byte < 0x20) {
          out += "\\u00";
          out += kHex[byte >> 4];
          out += kHex[byte & 0xF];
        } else {
          out += c;  // 0x7F and UTF-8 stay raw, as serde_json writes them
        }
    }
  }
  out += '"';
  return out;
}

SafetensorsLayout::SafetensorsLayout(std::vector<PlannedTensor> tensors,
                                     std::map<std::string, std::string> metadata,
                                     bool always_write_metadata) {
  check_plan(tensors);
  planned_order_ = layout_order(tensors);
  tensors_.reserve(tensors.size());
  for (const std::size_t index : planned_order_) {
    PlannedTensor& planned = tensors[index];
    TensorInfo info;
    const uint64_t bytes = checked_byte_size(planned, info.numel);
    info.begin = data_size_;
    if (add_overflow(data_size_, bytes, &data_size_)) {
      throw Error(ErrorCode::Internal, "", planned.name, "data size overflows 64 bits");
    }
    info.end = data_size_;
    info.name = std::move(planned.name);
    info.dtype = planned.dtype;
    info.shape = std::move(planned.shape);
    if (tensors_.empty() || tensors_.back().dtype != info.dtype) {
      dtype_run_starts_.push_back(tensors_.size());
    }
    tensors_.push_back(std::move(info));
  }
  const std::string json = header_json(tensors_, metadata, always_write_metadata);
  if (json.size() > kMaxHeaderSize) {
    throw Error(ErrorCode::InvalidPlan, "header of " + std::to_string(json.size()) +
                                            " bytes exceeds the readers' limit");
  }
  uint64_t length = json.size();
  header_bytes_.reserve(8 + json.size());
  for (int i = 0; i < 8; ++i) {  // little-endian u64
    header_bytes_ += static_cast<char>(length & 0xFFu);
    length >>= 8;
  }
  header_bytes_ += json;
}

// A linear scan here made the writer quadratic in the tensor count
// (docs/benchmarks.md#per-tensor-cost).
std::size_t SafetensorsLayout::index_of(const std::string& name) const {
  for (std::size_t run = 0; run < dtype_run_starts_.size(); ++run) {
    const auto first = tensors_.begin() + static_cast<std::ptrdiff_t>(dtype_run_starts_[run]);
    const auto last = run + 1 < dtype_run_starts_.size()
                           ? tensors_.begin() + static_cast<std::ptrdiff_t>(dtype_run_starts_[run + 1])
                           : tensors_.end();
    const auto found = std::lower_bound(
        first, last, name, [](const TensorInfo& tensor, const std::string& key) { return tensor.name < key; });
    if (found != last && found->name == name) return static_cast<std::size_t>(found - tensors_.begin());
  }
  throw Error(ErrorCode::Internal, "", name, "tensor is not in the layout");
}

}  // namespace qfp8
