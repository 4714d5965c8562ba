// checkpoint_kind.hpp — what a safetensors file is, judged from its header alone (names,
// dtypes, shapes): a model to convert, or a file that is no conversion target — a LoRA or
// LyCORIS adapter, a VAE, weights already quantized in a format other than FP8 E4M3FN
// scaled, or a transformer in diffusers names that ComfyUI renames without its FP8 scales.
// The signatures come from how ComfyUI and the quantizers name their tensors;
// docs/models.md#files-that-are-not-models lists each one and its source.
#pragma once

#include <cstddef>
#include <string>

#include "safetensors/tensor_info.hpp"

namespace qfp8 {

enum class CheckpointKind { Model, LoraAdapter, LycorisAdapter, Vae, Quantized, DiffusersTransformer };

/// "model", "LoRA adapter", "LyCORIS adapter", "VAE", "already-quantized checkpoint",
/// "diffusers-format transformer".
const char* checkpoint_kind_name(CheckpointKind kind) noexcept;

/// The decision and its evidence. For a Model every other field is empty: the planner
/// decides the rest.
struct KindVerdict {
  CheckpointKind kind = CheckpointKind::Model;
  std::string format;   // the naming or format: "kohya names", "Wan 2.2 VAE", "NVFP4", ...
  std::string example;  // the byte-wise first tensor that carries the signature
  std::size_t count = 0;  // tensors that carry it, `example` included
  std::string reason;   // why it is not converted and what to convert instead
};

/// Classifies `header`. Specific by design: an adapter must make up at least half the
/// file, a VAE at least 90 % of it under `encoder.`/`decoder.`, so a model that merely
/// holds one `...alpha` tensor, a T5 `encoder.` stack or a bundled VAE stays a Model.
KindVerdict classify_checkpoint(const Header& header);

/// "LoRA adapter (kohya names: 'x.lora_up.weight' and 191 more adapter tensors)"; "model"
/// for a Model.
std::string describe_kind(const KindVerdict& verdict);

/// Throws NotAConversionTarget (exit 2) unless `header` is a Model:
/// "'x.safetensors' is a LoRA adapter (...), not a model: ...".
void require_conversion_target(const Header& header, const std::string& file_label);

}  // namespace qfp8
