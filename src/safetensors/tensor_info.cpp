// tensor_info.cpp — Header::find (a linear search; SafetensorsFile keeps an index).
#include "safetensors/tensor_info.hpp"

namespace qfp8 {

const TensorInfo* Header::find(const std::string& name) const {
  for (const auto& tensor : tensors) {
    if (tensor.name == name) return &tensor;
  }
  return nullptr;
}

}  // namespace qfp8
