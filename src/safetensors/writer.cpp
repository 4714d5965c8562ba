// writer.cpp — SafetensorsWriter: header first, then each tensor's bytes in layout order,
// straight to the sink. Tensors of 0 bytes need no call: they are complete by definition,
// so next_tensor() never names one (write_tensor/defer_tensor accept them as no-ops).
#include "safetensors/writer.hpp"

#include <algorithm>
#include <vector>

#include "core/error.hpp"

namespace qfp8 {
namespace {

const std::string kNoTensor;
constexpr uint64_t kZeroChunk = 1 << 16;  // zeros written per call for a deferred tensor

}  // namespace

SafetensorsWriter::SafetensorsWriter(const SafetensorsLayout& layout, ByteSink& sink)
    : layout_(layout), sink_(sink) {
  sink_.write(layout_.header_bytes().data(), layout_.header_bytes().size());
  while (current_ < layout_.tensors().size() && layout_.tensors()[current_].byte_size() == 0) {
    ++current_;
  }
}

const std::string& SafetensorsWriter::next_tensor() const {
  return current_ < layout_.tensors().size() ? layout_.tensors()[current_].name : kNoTensor;
}

void SafetensorsWriter::append(const void* data, uint64_t size) {
  if (size == 0) return;
  if (current_ >= layout_.tensors().size()) {
    throw Error(ErrorCode::Internal, "", "", "cannot append: every tensor is written");
  }
  const TensorInfo& tensor = layout_.tensors()[current_];
  if (size > tensor.byte_size() - written_in_current_) {
    throw Error(ErrorCode::Internal, "", tensor.name,
                "cannot append " + std::to_string(size) + " bytes: only " +
                    std::to_string(tensor.byte_size() - written_in_current_) + " remain");
  }
  sink_.write(data, size);
  written_in_current_ += size;
  if (written_in_current_ < tensor.byte_size()) return;
  written_in_current_ = 0;
  ++current_;
  while (current_ < layout_.tensors().size() && layout_.tensors()[current_].byte_size() == 0) {
    ++current_;
  }
}

void SafetensorsWriter::write_tensor(const std::string& name, const void* data, uint64_t size) {
  const TensorInfo& tensor = layout_.tensors()[layout_.index_of(name)];
  if (size != tensor.byte_size()) {
    throw Error(ErrorCode::Internal, "", name,
                "got " + std::to_string(size) + " bytes, the layout holds " +
                    std::to_string(tensor.byte_size()));
  }
  if (size == 0) return;
  if (name != next_tensor() || written_in_current_ != 0) {
    throw Error(ErrorCode::Internal, "", name,
                "written out of order (next is '" + next_tensor() + "')");
  }
  append(data, size);
}

void SafetensorsWriter::defer_tensor(const std::string& name) {
  const std::size_t index = layout_.index_of(name);
  const uint64_t size = layout_.tensors()[index].byte_size();
  if (size == 0) return;
  if (index != current_ || written_in_current_ != 0) {
    throw Error(ErrorCode::Internal, "", name,
                "deferred out of order (next is '" + next_tensor() + "')");
  }
  const std::vector<uint8_t> zeros(std::min(size, kZeroChunk), 0);
  for (uint64_t left = size; left > 0;) {
    const uint64_t chunk = std::min(left, kZeroChunk);
    append(zeros.data(), chunk);
    left -= chunk;
  }
  pending_deferred_.push_back(index);
}

void SafetensorsWriter::fill_deferred(const std::string& name, const void* data, uint64_t size) {
  const std::size_t index = layout_.index_of(name);
  const TensorInfo& tensor = layout_.tensors()[index];
  if (tensor.byte_size() == 0 && size == 0) return;
  const auto pending = std::find(pending_deferred_.begin(), pending_deferred_.end(), index);
  if (pending == pending_deferred_.end()) {
    throw Error(ErrorCode::Internal, "", name, "was not deferred, or is already filled");
  }
  if (size != tensor.byte_size()) {
    throw Error(ErrorCode::Internal, "", name,
                "got " + std::to_string(size) + " bytes, the layout holds " +
                    std::to_string(tensor.byte_size()));
  }
  sink_.write_at(layout_.header_bytes().size() + tensor.begin, data, size);
  pending_deferred_.erase(pending);
}

void SafetensorsWriter::finish() {
  if (current_ < layout_.tensors().size()) {
    throw Error(ErrorCode::Internal, "", next_tensor(), "was never written");
  }
  if (!pending_deferred_.empty()) {
    throw Error(ErrorCode::Internal, "", layout_.tensors()[pending_deferred_.front()].name,
                "was deferred and never filled");
  }
  sink_.commit();
}

}  // namespace qfp8
