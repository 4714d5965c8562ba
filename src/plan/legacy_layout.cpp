// legacy_layout.cpp — the `scaled_fp8` marker of the legacy layout.
#include "plan/legacy_layout.hpp"

#include "plan/comfy_metadata.hpp"

namespace qfp8 {

std::vector<uint64_t> legacy_marker_shape(bool full_precision_mm) {
  return {full_precision_mm ? 2u : 0u};
}

std::string legacy_marker_bytes(bool full_precision_mm) {
  return std::string(full_precision_mm ? 2u : 0u, '\0');
}

bool is_legacy_marker_name(const std::string& name) {
  return name == kScaledFp8Marker || has_suffix(name, std::string(".") + kScaledFp8Marker);
}

}  // namespace qfp8
