// model_families.hpp — the model-family registry (docs/models.md#families): per family, the
// tensor names that identify it, the layers its preset keeps in high precision and why, and
// where each fact comes from. `--preset auto` applies a family only when exactly one matches;
// `--preset list` prints the table. Names may carry the full-checkpoint prefix
// `model.diffusion_model.`: signatures and keep rules see them without it.
#pragma once

#include <cstdint>
#include <optional>
#include <ostream>
#include <string>
#include <vector>

#include "safetensors/tensor_info.hpp"

namespace qfp8 {

/// One layer, or a whole subtree of layers, that a family keeps in high precision.
struct KeepEntry {
  // Layer name without `.weight` and without the prefix; a `*` segment stands for any one
  // segment (a block index): "layers.*.adaLN_modulation.0" covers that layer of every block.
  const char* layer;
  bool subtree;       // true: every layer under `layer.` (shown "layer.*"); false: `layer` only
  const char* why;    // the layer's role, and why FP8 would hurt it
};

/// A label for a variant of a family (shown in the detection line, never changes decisions):
/// applies when `tensor` is present (or absent, when `when_absent`), and with `dim` >= 0 only
/// when the tensor's shape[dim] == `dim_value`.
struct VariantRule {
  const char* tensor;
  bool when_absent;
  int dim;
  uint64_t dim_value;
  const char* label;
};

struct ModelFamily {
  const char* name;    // the --preset value: "qwen-image", "flux1", ...
  const char* models;  // the published models it covers
  // Every clause must be present; a clause is satisfied by any one of its names. A name may
  // carry one shape condition, `NAME[DIM]=VALUE`: the tensor counts only when its
  // shape[DIM] == VALUE (models ComfyUI tells apart by a width, not a name).
  std::vector<std::vector<const char*>> signature;
  // None of these may be present (shape conditions as above): they mark a different model
  // with the same layout.
  std::vector<const char*> unless;
  std::vector<VariantRule> variants;
  std::vector<KeepEntry> keep;
  const char* detection_source;  // where the signature comes from
  const char* keep_source;       // where the keep list comes from
};

/// The registry, in --preset list order.
const std::vector<ModelFamily>& model_families();

/// The family named `name`, or nullptr.
const ModelFamily* find_model_family(const std::string& name);

/// True for the text encoders (model_families_text.cpp): ComfyUI loads them with its
/// text-encoder loader, whose scaled-FP8 support decides their output layout
/// (docs/models.md#text-encoder-layout).
bool is_text_encoder_family(const ModelFamily& family);

/// "qwen-image, flux1, ...": every family name, for messages.
std::string model_family_names();

/// One family whose signature the header satisfies, with the tensors (as named in the file)
/// that satisfied it and the variant labels that apply.
struct FamilyMatch {
  const ModelFamily* family = nullptr;
  std::vector<std::string> evidence;
  std::vector<std::string> variants;
};

/// Every family that matches; the model is identified only when exactly one does.
struct FamilyDetection {
  std::vector<FamilyMatch> matches;
  const FamilyMatch* unique() const { return matches.size() == 1 ? &matches.front() : nullptr; }
};

FamilyDetection detect_model_family(const Header& header);

/// "qwen-image from txt_norm.weight" (+ " (variant: ...)").
std::string describe_match(const FamilyMatch& match);

/// The keep entry of `family` that covers tensor `name` (a `.weight`, bare or prefixed), as
/// shown in the reason: "img_in" or "time_text_embed.*"; nullopt when the family lets it be
/// quantized.
std::optional<std::string> family_keep_rule(const ModelFamily& family, const std::string& name);

/// `--preset list`: per family what it matches, what it keeps and why.
void print_model_families(std::ostream& out);

}  // namespace qfp8
