// writer.hpp — streams tensor bytes into a sink in the layout's order, after writing the
// header up front. Never holds the output: each call goes straight to the sink.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "safetensors/byte_sink.hpp"
#include "safetensors/layout.hpp"

namespace qfp8 {

class SafetensorsWriter {
 public:
  /// Writes the header to `sink` at once.
  SafetensorsWriter(const SafetensorsLayout& layout, ByteSink& sink);

  /// Name of the tensor whose bytes come next; empty when all are written.
  const std::string& next_tensor() const;
  /// Appends bytes of the current tensor; may be called in chunks. Throws Internal if
  /// `size` runs past the current tensor's end.
  void append(const void* data, uint64_t size);
  /// Writes one whole tensor, which must be the next in layout order.
  void write_tensor(const std::string& name, const void* data, uint64_t size);
  /// Reserves the next tensor's bytes (zeros) to be filled later with fill_deferred():
  /// scales precede their weights in the layout but are known only after them.
  void defer_tensor(const std::string& name);
  void fill_deferred(const std::string& name, const void* data, uint64_t size);
  /// Checks every byte was written and every deferred tensor filled, then commits the sink.
  void finish();

 private:
  const SafetensorsLayout& layout_;
  ByteSink& sink_;
  std::size_t current_ = 0;          // index of the tensor being written
  uint64_t written_in_current_ = 0;  // bytes of it written so far
  std::vector<std::size_t> pending_deferred_;
};

}  // namespace qfp8
