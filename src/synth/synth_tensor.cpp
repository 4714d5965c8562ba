// synth_tensor.cpp — the table builder every model's shape table uses.
#include "synth/synth_tensor.hpp"

namespace qfp8 {

uint64_t SynthTensor::numel() const {
  uint64_t count = 1;
  for (uint64_t dim : shape) count *= dim;
  return count;
}

SynthTable::SynthTable(const SynthConfig& config, std::vector<SynthTensor>& out)
    : prefix_(config.prefix ? kSynthModelPrefix : ""), out_(out) {}

void SynthTable::linear(const std::string& layer, uint64_t out_features, uint64_t in_features,
                        bool bias, bool zero) {
  tensor(layer + ".weight", {out_features, in_features}, zero ? SynthKind::Zero : SynthKind::LinearWeight);
  if (bias) tensor(layer + ".bias", {out_features}, zero ? SynthKind::Zero : SynthKind::Bias);
}

void SynthTable::norm(const std::string& layer, uint64_t width, const char* suffix) {
  tensor(layer + suffix, {width}, SynthKind::NormWeight);
}

void SynthTable::tensor(std::string name, std::vector<uint64_t> shape, SynthKind kind) {
  SynthTensor entry;
  entry.name = prefix_ + name;
  entry.base_name = std::move(name);
  entry.shape = std::move(shape);
  entry.kind = kind;
  out_.push_back(std::move(entry));
}

}  // namespace qfp8
