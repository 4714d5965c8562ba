// reader.cpp — SafetensorsFile: a MappedFile validated by parse_file_image, plus a name index.
#include "safetensors/reader.hpp"

#include "safetensors/header_parser.hpp"

namespace qfp8 {

SafetensorsFile::SafetensorsFile(const std::string& path)
    : file_(path), header_(parse_file_image(file_.data(), file_.size(), path)) {
  index_.reserve(header_.tensors.size());
  for (std::size_t i = 0; i < header_.tensors.size(); ++i) {
    index_.emplace(header_.tensors[i].name, i);
  }
}

const TensorInfo* SafetensorsFile::find(const std::string& name) const {
  const auto it = index_.find(name);
  return it == index_.end() ? nullptr : &header_.tensors[it->second];
}

ByteView SafetensorsFile::bytes(const TensorInfo& tensor) const {
  return ByteView{file_.data() + header_.data_offset() + tensor.begin, tensor.byte_size()};
}

void SafetensorsFile::prefetch(const TensorInfo& tensor) const {
  file_.prefetch(header_.data_offset() + tensor.begin, tensor.byte_size());
}

void SafetensorsFile::release(const TensorInfo& tensor) const {
  file_.release_around(header_.data_offset() + tensor.begin, tensor.byte_size());
}

void SafetensorsFile::prefetch_part(const TensorInfo& tensor, uint64_t offset,
                                    uint64_t length) const {
  file_.prefetch(header_.data_offset() + tensor.begin + offset, length);
}

void SafetensorsFile::release_part(const TensorInfo& tensor, uint64_t offset,
                                   uint64_t length) const {
  file_.release(header_.data_offset() + tensor.begin + offset, length);
}

}  // namespace qfp8
