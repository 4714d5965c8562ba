// synth_checkpoint.cpp — drives the writer: header first, then each tensor's values
// generated into one reused 2 MiB buffer and appended, so memory stays constant whatever
// the model size.
#include "synth/synth_checkpoint.hpp"

#include <algorithm>
#include <unordered_map>

#include "safetensors/writer.hpp"
#include "synth/synth_models.hpp"
#include "synth/synth_values.hpp"

namespace qfp8 {
namespace {

constexpr std::size_t kChunkElements = std::size_t{1} << 20;  // 2 MiB of BF16 per append
// On little-endian hosts (x86-64, aarch64) the uint16 buffer already holds the file bytes.
constexpr bool kHostIsLittleEndian = __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__;

void write_tensor_values(const SynthTensor& tensor, uint64_t seed, SafetensorsWriter& writer,
                         std::vector<uint16_t>& values, std::vector<uint8_t>& bytes) {
  const uint64_t key = synth_stream_key(seed, tensor.base_name);
  const uint64_t numel = tensor.numel();
  for (uint64_t first = 0; first < numel; first += kChunkElements) {
    const auto count = static_cast<std::size_t>(std::min<uint64_t>(kChunkElements, numel - first));
    synth_bf16_values(tensor.kind, key, first, values.data(), count);
    if (kHostIsLittleEndian) {
      writer.append(values.data(), 2 * uint64_t{count});
      continue;
    }
    // safetensors data is little-endian whatever the host.
    for (std::size_t i = 0; i < count; ++i) {
      bytes[2 * i] = static_cast<uint8_t>(values[i] & 0xFFu);
      bytes[2 * i + 1] = static_cast<uint8_t>(values[i] >> 8);
    }
    writer.append(bytes.data(), 2 * uint64_t{count});
  }
}

}  // namespace

SafetensorsLayout synth_layout(const std::vector<SynthTensor>& tensors) {
  std::vector<PlannedTensor> planned;
  planned.reserve(tensors.size());
  for (const auto& tensor : tensors) planned.push_back({tensor.name, Dtype::BF16, tensor.shape});
  return SafetensorsLayout(std::move(planned), {{"format", "pt"}});
}

SynthSummary synth_summary(const SynthConfig& config) {
  const std::vector<SynthTensor> tensors = synth_tensors(config);
  SynthSummary summary;
  summary.tensors = tensors.size();
  summary.file_size = synth_layout(tensors).file_size();
  for (const auto& tensor : tensors) summary.parameters += tensor.numel();
  return summary;
}

SynthSummary write_synth_checkpoint(const SynthConfig& config, ByteSink& sink,
                                    ProgressMeter* progress) {
  const std::vector<SynthTensor> tensors = synth_tensors(config);
  const SafetensorsLayout layout = synth_layout(tensors);
  std::unordered_map<std::string, const SynthTensor*> by_name;
  for (const auto& tensor : tensors) by_name.emplace(tensor.name, &tensor);

  SynthSummary summary;
  summary.tensors = tensors.size();
  summary.file_size = layout.file_size();
  std::vector<uint16_t> values(kChunkElements);
  std::vector<uint8_t> bytes(2 * kChunkElements);
  SafetensorsWriter writer(layout, sink);
  for (const auto& info : layout.tensors()) {
    const SynthTensor& tensor = *by_name.at(info.name);
    write_tensor_values(tensor, config.seed, writer, values, bytes);
    summary.parameters += tensor.numel();
    if (progress != nullptr) {
      progress->add_bytes(2 * tensor.numel());
      progress->tensor_done();
    }
  }
  writer.finish();
  return summary;
}

}  // namespace qfp8
