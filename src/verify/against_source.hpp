// against_source.hpp — verify --against: re-derives every quantized layer from the source
// with the shared numerics (docs/format.md#numerics) and demands identical FP8 bytes and scale
// bits; every other tensor must be the source's, byte for byte; nothing lost, nothing added beyond
// the layers' companions. Measures each layer's quantization quality on the way, and counts
// each layer weight's non-finite codes for the format rule (check_codes_finite).
#pragma once

#include <vector>

#include "core/progress_meter.hpp"
#include "safetensors/reader.hpp"
#include "verify/findings.hpp"
#include "verify/format_checker.hpp"
#include "verify/nonfinite_codes.hpp"

namespace qfp8::verify {

void check_against_source(const SafetensorsFile& output, const SafetensorsFile& source,
                          const Fp8Layout& inventory, unsigned threads, FindingList& findings,
                          std::vector<LayerQuality>& quality, NonfiniteCounts& nan_counts,
                          ProgressMeter* progress = nullptr);

}  // namespace qfp8::verify
