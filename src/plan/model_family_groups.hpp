// model_family_groups.hpp — the registry's parts, one file each (image models, video models,
// text encoders); model_families() lists them in this order, which is the --preset list order.
#pragma once

#include <vector>

#include "plan/model_families.hpp"

namespace qfp8 {

std::vector<ModelFamily> image_model_families();
std::vector<ModelFamily> video_model_families();
std::vector<ModelFamily> text_encoder_families();

}  // namespace qfp8
