// model_shapes.hpp — one shape table per model that `synth --model` knows (each in its own
// <model>_shapes.cpp). Each returns every tensor of the model in ComfyUI's key naming, for a
// config whose blocks (> 0) and width_div synth_models.cpp has already checked.
#pragma once

#include <vector>

#include "synth/synth_tensor.hpp"

namespace qfp8 {

std::vector<SynthTensor> qwen_image_tensors(const SynthConfig& config);
std::vector<SynthTensor> wan_tensors(const SynthConfig& config);
std::vector<SynthTensor> hunyuan_video_tensors(const SynthConfig& config);
std::vector<SynthTensor> hunyuan_video_15_tensors(const SynthConfig& config);
std::vector<SynthTensor> ltxv_tensors(const SynthConfig& config);
std::vector<SynthTensor> ltx2_tensors(const SynthConfig& config);
// Z-Image and Lumina Image 2.0: ComfyUI's NextDiT in two configs (nextdit_shapes.cpp).
std::vector<SynthTensor> z_image_tensors(const SynthConfig& config);
std::vector<SynthTensor> lumina2_tensors(const SynthConfig& config);
std::vector<SynthTensor> flux1_tensors(const SynthConfig& config);
std::vector<SynthTensor> flux2_tensors(const SynthConfig& config);
std::vector<SynthTensor> chroma_tensors(const SynthConfig& config);
std::vector<SynthTensor> hidream_tensors(const SynthConfig& config);
std::vector<SynthTensor> sd35_tensors(const SynthConfig& config);

// Text encoders (text_encoder_shapes.hpp builds them).
std::vector<SynthTensor> t5xxl_tensors(const SynthConfig& config);
std::vector<SynthTensor> umt5xxl_tensors(const SynthConfig& config);
std::vector<SynthTensor> qwen25_vl_7b_tensors(const SynthConfig& config);
std::vector<SynthTensor> qwen3_4b_tensors(const SynthConfig& config);
std::vector<SynthTensor> llama31_8b_tensors(const SynthConfig& config);
std::vector<SynthTensor> mistral_small_3_tensors(const SynthConfig& config);
std::vector<SynthTensor> gemma_tensors(const SynthConfig& config);

}  // namespace qfp8
