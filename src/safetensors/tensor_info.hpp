// tensor_info.hpp — one tensor's entry in a safetensors header, and the parsed header.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "core/dtype.hpp"

namespace qfp8 {

struct TensorInfo {
  std::string name;
  Dtype dtype = Dtype::U8;
  std::vector<uint64_t> shape;
  uint64_t begin = 0;  // byte offsets relative to the start of the data buffer
  uint64_t end = 0;
  uint64_t numel = 1;  // product of shape; 1 for a 0-d tensor

  uint64_t byte_size() const { return end - begin; }
};

/// A validated header. Tensors are in file order (ascending begin offset), which is also
/// the order the reference writer laid them out in.
struct Header {
  uint64_t header_size = 0;  // N: the JSON bytes after the 8-byte length, padding included
  uint64_t data_size = 0;    // bytes of the data buffer
  std::vector<TensorInfo> tensors;
  bool has_metadata = false;  // `__metadata__` present (possibly empty)
  std::map<std::string, std::string> metadata;

  uint64_t data_offset() const { return 8 + header_size; }
  /// nullptr when absent. A linear search: SafetensorsFile::find keeps an index.
  const TensorInfo* find(const std::string& name) const;
};

}  // namespace qfp8
