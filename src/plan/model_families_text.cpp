// model_families_text.cpp — the registry's text encoders: one entry per family, in the key
// naming of the files ComfyUI's text-encoder loader reads (docs/models.md#families).
#include "plan/model_family_groups.hpp"

namespace qfp8 {

std::vector<ModelFamily> text_encoder_families() {
  return {};
}

}  // namespace qfp8
