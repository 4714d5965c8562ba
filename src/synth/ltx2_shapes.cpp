// ltx2_shapes.cpp — LTX-2 19B audio-video in ComfyUI's names (comfy/ldm/lightricks/av_model.py
// LTXAVModel with its defaults): 48 blocks, a video stream of width 4096 (32 heads x 128) and
// an audio stream of width 2048 (32 x 64), Gemma 3 text (3840). The diffusion model only: the
// text connectors, VAEs and vocoder of a full checkpoint are not part of it.
#include "synth/ltx_layers.hpp"
#include "synth/model_shapes.hpp"

namespace qfp8 {
namespace {

constexpr uint64_t kVideo = 4096;
constexpr uint64_t kAudio = 2048;
constexpr uint64_t kCaption = 3840;     // Gemma 3 12B hidden states
constexpr uint64_t kAudioLatent = 128;  // 8 channels x 16 frequency bins: not narrowed

void add_block(SynthTable& table, unsigned index, uint64_t video, uint64_t audio) {
  const std::string block = "transformer_blocks." + std::to_string(index) + ".";
  ltx::attention(table, block + "attn1", video, video, video);
  ltx::attention(table, block + "audio_attn1", audio, audio, audio);
  ltx::attention(table, block + "attn2", video, video, video);
  ltx::attention(table, block + "audio_attn2", audio, audio, audio);
  // Cross-modal attention runs at the audio width (audio heads and head size).
  ltx::attention(table, block + "audio_to_video_attn", video, audio, audio);
  ltx::attention(table, block + "video_to_audio_attn", audio, video, audio);
  ltx::feed_forward(table, block + "ff", video);
  ltx::feed_forward(table, block + "audio_ff", audio);
  ltx::scale_shift_table(table, block + "scale_shift_table", 6, video);
  ltx::scale_shift_table(table, block + "audio_scale_shift_table", 6, audio);
  ltx::scale_shift_table(table, block + "scale_shift_table_a2v_ca_audio", 5, audio);
  ltx::scale_shift_table(table, block + "scale_shift_table_a2v_ca_video", 5, video);
}

}  // namespace

std::vector<SynthTensor> ltx2_tensors(const SynthConfig& config) {
  const uint64_t div = config.width_div;
  const uint64_t video = kVideo / div;
  const uint64_t audio = kAudio / div;

  std::vector<SynthTensor> tensors;
  SynthTable table(config, tensors);
  table.linear("patchify_proj", video, ltx::kLatent);
  ltx::adaln_single(table, "adaln_single", video, 6);
  ltx::caption_projection(table, "caption_projection", video, kCaption / div);
  table.linear("audio_patchify_proj", audio, kAudioLatent);
  ltx::adaln_single(table, "audio_adaln_single", audio, 6);
  // Cross-attention modulation: 4 scale/shift vectors, 1 gate, per direction.
  ltx::adaln_single(table, "av_ca_video_scale_shift_adaln_single", video, 4);
  ltx::adaln_single(table, "av_ca_a2v_gate_adaln_single", video, 1);
  ltx::adaln_single(table, "av_ca_audio_scale_shift_adaln_single", audio, 4);
  ltx::adaln_single(table, "av_ca_v2a_gate_adaln_single", audio, 1);
  ltx::caption_projection(table, "audio_caption_projection", audio, kCaption / div);
  for (unsigned block = 0; block < config.blocks; ++block) add_block(table, block, video, audio);
  ltx::scale_shift_table(table, "scale_shift_table", 2, video);
  table.linear("proj_out", ltx::kLatent, video);
  ltx::scale_shift_table(table, "audio_scale_shift_table", 2, audio);
  table.linear("audio_proj_out", kAudioLatent, audio);
  return tensors;
}

}  // namespace qfp8
