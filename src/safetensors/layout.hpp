// layout.hpp — the reference writer's layout (docs/format.md#container-writer): tensors sorted by
// dtype descending then name byte-wise, contiguous offsets from 0, compact serde_json-style header
// with sorted `__metadata__` first, space-padded to a multiple of 8.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "safetensors/tensor_info.hpp"

namespace qfp8 {

/// What the caller plans to write: name, dtype, shape (offsets are computed).
struct PlannedTensor {
  std::string name;
  Dtype dtype = Dtype::U8;
  std::vector<uint64_t> shape;
};

class SafetensorsLayout {
 public:
  /// Sorts, assigns offsets and serialises the header. Throws Internal on duplicate names,
  /// sub-byte dtypes or size overflow (the reader and the plan rule these out), InvalidPlan
  /// on a name `__metadata__` or a header past kMaxHeaderSize (options can cause both: a
  /// --strip-prefix/--add-prefix, a header near the limit). An empty `metadata` map writes no
  /// `__metadata__` unless `always_write_metadata`.
  SafetensorsLayout(std::vector<PlannedTensor> tensors,
                    std::map<std::string, std::string> metadata,
                    bool always_write_metadata = false);

  /// Tensors in layout (= write) order, with begin/end/numel filled in.
  const std::vector<TensorInfo>& tensors() const { return tensors_; }
  /// For each of tensors(), its index in the vector the layout was made from.
  const std::vector<std::size_t>& planned_order() const { return planned_order_; }
  /// The 8-byte little-endian length followed by the padded JSON header.
  const std::string& header_bytes() const { return header_bytes_; }
  uint64_t data_size() const { return data_size_; }
  uint64_t file_size() const { return header_bytes_.size() + data_size_; }
  /// Index into tensors(), or throws Internal for an unknown name. O(dtypes * log n):
  /// a binary search in each run of one dtype, which the layout order keeps name-sorted.
  std::size_t index_of(const std::string& name) const;

 private:
  std::vector<TensorInfo> tensors_;
  std::vector<std::size_t> planned_order_;
  std::vector<std::size_t> dtype_run_starts_;  // first index of each run of one dtype
  std::string header_bytes_;
  uint64_t data_size_ = 0;
};

/// serde_json's compact string escaping (docs/format.md#container-writer): \" \\ \b \f \n \r \t,
/// other controls as \u00xx (lowercase hex), everything else raw UTF-8. Returns the quoted string.
std::string json_quote_compact(const std::string& text);

}  // namespace qfp8
