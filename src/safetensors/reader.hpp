// reader.hpp — an open, validated safetensors file with zero-copy tensor views.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>

#include "safetensors/mapped_file.hpp"
#include "safetensors/tensor_info.hpp"

namespace qfp8 {

struct ByteView {
  const uint8_t* data = nullptr;
  uint64_t size = 0;
};

class SafetensorsFile {
 public:
  /// Maps and validates `path`; throws qfp8::Error on any rule of docs/format.md#container-reader.
  explicit SafetensorsFile(const std::string& path);

  const std::string& path() const { return file_.path(); }
  const Header& header() const { return header_; }
  uint64_t file_size() const { return file_.size(); }

  /// nullptr when absent.
  const TensorInfo* find(const std::string& name) const;
  /// The tensor's bytes inside the mapping (valid while this object lives).
  ByteView bytes(const TensorInfo& tensor) const;
  /// Readahead for a tensor that is about to be read.
  void prefetch(const TensorInfo& tensor) const;
  /// Drops a processed tensor's pages from the resident set, with the neighbours' pages
  /// that reading it mapped (MappedFile::release_around).
  void release(const TensorInfo& tensor) const;
  /// Drops the pages fully inside bytes [offset, offset+length) of the tensor: a part of a
  /// large tensor that has been read while the rest still is.
  void release_part(const TensorInfo& tensor, uint64_t offset, uint64_t length) const;
  /// Readahead for bytes [offset, offset+length) of the tensor.
  void prefetch_part(const TensorInfo& tensor, uint64_t offset, uint64_t length) const;

 private:
  MappedFile file_;
  Header header_;
  // Views of header_'s names (never changed after construction; a move keeps the
  // vector's buffer): no second copy of every name.
  std::unordered_map<std::string_view, std::size_t> index_;
};

}  // namespace qfp8
