// checkpoint_kind.cpp — the signatures of the files that are no conversion target
// (docs/models.md#files-that-are-not-models): adapter tensor suffixes as ComfyUI's LoRA
// loader looks them up (comfy/lora.py, comfy/weight_adapter/), the VAE keys ComfyUI's VAE
// class tests (comfy/sd.py), and the companion tensors of quantization formats
// (bitsandbytes, ComfyUI's NVFP4 in comfy/quant_ops.py, GPTQ/AWQ, MX block scales), and the
// diffusers names of the transformers ComfyUI renames on load (comfy/model_detection.py).
#include "plan/checkpoint_kind.hpp"

#include <cstring>
#include <map>
#include <optional>
#include <set>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "core/error.hpp"
#include "plan/name_prefix.hpp"

namespace qfp8 {
namespace {

bool ends_with(std::string_view text, std::string_view suffix) {
  return text.size() >= suffix.size() &&
         text.compare(text.size() - suffix.size(), suffix.size(), suffix) == 0;
}

bool starts_with(std::string_view text, std::string_view prefix) {
  return text.compare(0, prefix.size(), prefix) == 0;
}

/// The tensors that carry one signature: how many, and the byte-wise first (the example
/// a message shows, the same whatever the file order).
struct Evidence {
  std::string first;
  std::size_t count = 0;
  void add(const std::string& name) {
    if (count == 0 || name < first) first = name;
    ++count;
  }
};

/// Name -> tensor, built on the first look-up: only a file with a quantization candidate
/// (an integer weight, `.SCB`, `.qweight`) needs one, and a plain model with a million
/// tensors should not pay for it.
class NameIndex {
 public:
  explicit NameIndex(const Header& header) : header_(header) {}

  const TensorInfo* sibling(std::string_view base, const char* suffix) {
    if (index_.empty()) {
      index_.reserve(header_.tensors.size());
      for (const auto& tensor : header_.tensors) index_.emplace(tensor.name, &tensor);
    }
    const auto found = index_.find(std::string(base) + suffix);
    return found == index_.end() ? nullptr : found->second;
  }

 private:
  const Header& header_;
  std::unordered_map<std::string_view, const TensorInfo*> index_;
};

// ---- Adapters: LoRA and LyCORIS ------------------------------------------------------------

/// One naming of adapter layers, and the parts a layer must have to be one (bits of
/// AdapterSuffix::part): a LoRA layer is an up AND a down matrix, a LoHa layer four
/// Hadamard factors, and so on. A lone `lora_up` is not enough.
struct AdapterFormat {
  const char* name;
  CheckpointKind kind;
  unsigned required;
};

enum AdapterFormatIndex { kKohya, kDiffusers, kPeft, kLoha, kLokr, kOft, kGlora, kFormatCount };

constexpr AdapterFormat kAdapterFormats[kFormatCount] = {
    {"kohya", CheckpointKind::LoraAdapter, 0b11},
    {"diffusers", CheckpointKind::LoraAdapter, 0b11},
    {"PEFT", CheckpointKind::LoraAdapter, 0b11},
    {"LoHa", CheckpointKind::LycorisAdapter, 0b1111},
    {"LoKr", CheckpointKind::LycorisAdapter, 0b11},
    {"OFT", CheckpointKind::LycorisAdapter, 0b1},
    {"GLoRA", CheckpointKind::LycorisAdapter, 0b1111},
};

/// A tensor-name suffix ComfyUI's loader reads for a layer; part 0 = optional. Checked in
/// order, first match wins (no suffix here ends another one).
struct AdapterSuffix {
  const char* suffix;
  AdapterFormatIndex format;
  unsigned part;
};

constexpr AdapterSuffix kAdapterSuffixes[] = {
    {".lora_up.weight", kKohya, 0b01},
    {".lora_down.weight", kKohya, 0b10},
    {".lora_mid.weight", kKohya, 0},
    {"_lora.up.weight", kDiffusers, 0b01},
    {"_lora.down.weight", kDiffusers, 0b10},
    {".lora.up.weight", kDiffusers, 0b01},
    {".lora.down.weight", kDiffusers, 0b10},
    {".lora_linear_layer.up.weight", kDiffusers, 0b01},
    {".lora_linear_layer.down.weight", kDiffusers, 0b10},
    {".lora_B.weight", kPeft, 0b01},
    {".lora_A.weight", kPeft, 0b10},
    {".lora_B.default.weight", kPeft, 0b01},
    {".lora_A.default.weight", kPeft, 0b10},
    {".lora_B", kPeft, 0b01},  // Mochi trainer: no `.weight`
    {".lora_A", kPeft, 0b10},
    {".hada_w1_a", kLoha, 0b0001},
    {".hada_w1_b", kLoha, 0b0010},
    {".hada_w2_a", kLoha, 0b0100},
    {".hada_w2_b", kLoha, 0b1000},
    {".hada_t1", kLoha, 0},
    {".hada_t2", kLoha, 0},
    {".lokr_w1", kLokr, 0b01},
    {".lokr_w1_a", kLokr, 0b01},
    {".lokr_w1_b", kLokr, 0b01},
    {".lokr_w2", kLokr, 0b10},
    {".lokr_w2_a", kLokr, 0b10},
    {".lokr_w2_b", kLokr, 0b10},
    {".lokr_t2", kLokr, 0},
    {".oft_blocks", kOft, 0b1},
    {".a1.weight", kGlora, 0b0001},
    {".a2.weight", kGlora, 0b0010},
    {".b1.weight", kGlora, 0b0100},
    {".b2.weight", kGlora, 0b1000},
};

/// Per-layer extras comfy/lora.py reads next to any adapter (`L.alpha`, DoRA's
/// `L.dora_scale`, OFT's `L.rescale`, full-difference patches). They count for an adapter
/// only beside a complete adapter layer: `alpha` alone is an ordinary parameter name.
constexpr const char* kAdapterSidecars[] = {".alpha",  ".dora_scale", ".rescale",
                                            ".diff",   ".diff_b",     ".w_norm",
                                            ".b_norm", ".reshape_weight", ".set_weight"};

struct AdapterLayer {
  unsigned parts = 0;
  std::vector<const std::string*> tensors;
};

struct AdapterScan {
  std::map<std::pair<std::string, AdapterFormatIndex>, AdapterLayer> layers;
  std::vector<std::pair<std::string, const std::string*>> sidecars;  // layer, tensor name
};

AdapterScan scan_adapter_names(const Header& header) {
  AdapterScan scan;
  for (const auto& tensor : header.tensors) {
    bool matched = false;
    for (const auto& entry : kAdapterSuffixes) {
      if (!ends_with(tensor.name, entry.suffix)) continue;
      const std::string layer =
          tensor.name.substr(0, tensor.name.size() - std::strlen(entry.suffix));
      AdapterLayer& found = scan.layers[{layer, entry.format}];
      found.parts |= entry.part;
      found.tensors.push_back(&tensor.name);
      matched = true;
      break;
    }
    if (matched) continue;
    for (const char* suffix : kAdapterSidecars) {
      if (!ends_with(tensor.name, suffix)) continue;
      scan.sidecars.emplace_back(tensor.name.substr(0, tensor.name.size() - std::strlen(suffix)),
                                 &tensor.name);
      break;
    }
  }
  return scan;
}

KindVerdict classify_adapter(const Header& header) {
  const AdapterScan scan = scan_adapter_names(header);
  Evidence per_format[kFormatCount];
  std::set<std::string> complete;
  for (const auto& [key, layer] : scan.layers) {
    const unsigned required = kAdapterFormats[key.second].required;
    if ((layer.parts & required) != required) continue;
    complete.insert(key.first);
    for (const std::string* name : layer.tensors) per_format[key.second].add(*name);
  }
  if (complete.empty()) return {};
  std::size_t adapter_tensors = 0;
  std::size_t per_kind[2] = {0, 0};  // LoRA, LyCORIS
  for (int f = 0; f < kFormatCount; ++f) {
    adapter_tensors += per_format[f].count;
    per_kind[kAdapterFormats[f].kind == CheckpointKind::LoraAdapter ? 0 : 1] += per_format[f].count;
  }
  for (const auto& sidecar : scan.sidecars) adapter_tensors += complete.count(sidecar.first);
  // What the file mostly is: a model with a few adapter-named tensors (an unmerged
  // fine-tune's leftovers) is still a model; a real adapter is almost all adapter tensors.
  if (adapter_tensors * 2 < header.tensors.size()) return {};

  const CheckpointKind kind =
      per_kind[1] > per_kind[0] ? CheckpointKind::LycorisAdapter : CheckpointKind::LoraAdapter;
  int best = -1;
  for (int f = 0; f < kFormatCount; ++f) {
    if (kAdapterFormats[f].kind != kind || per_format[f].count == 0) continue;
    if (best < 0 || per_format[f].count > per_format[best].count) best = f;
  }
  KindVerdict verdict;
  verdict.kind = kind;
  verdict.format = std::string(kAdapterFormats[best].name) + " names";
  verdict.example = per_format[best].first;
  verdict.count = adapter_tensors;
  verdict.reason = std::string("not a model: ComfyUI applies ") +
                   (kind == CheckpointKind::LoraAdapter ? "a LoRA" : "a LyCORIS adapter") +
                   " to a model it has loaded (its LoRA loader, comfy/lora.py) and reads the "
                   "adapter's matrices without FP8 scales; convert the base model instead";
  return verdict;
}

// ---- VAEs ----------------------------------------------------------------------------------

/// The keys comfy/sd.py's VAE class tests to recognise a VAE state dict, with the family
/// each selects; `also` (when set) refines a family that shares the first key.
struct VaeSignature {
  const char* key;
  const char* also;
  const char* family;
};

constexpr VaeSignature kVaeSignatures[] = {
    {"decoder.middle.0.residual.0.gamma", "decoder.upsamples.0.upsamples.0.residual.2.weight",
     "Wan 2.2 VAE"},
    {"decoder.middle.0.residual.0.gamma", nullptr, "Wan 2.1 / Qwen-Image VAE"},
    {"decoder.up_blocks.0.res_blocks.0.conv1.conv.weight", nullptr, "LTX-Video VAE"},
    {"decoder.conv_in.conv.weight", nullptr, "HunyuanVideo VAE"},
    {"decoder.unpatcher3d.wavelets", nullptr, "Cosmos VAE"},
    {"decoder.mid.block_1.mix_factor", nullptr, "video AutoencoderKL (SVD)"},
    {"decoder.up_blocks.0.resnets.0.norm1.weight", nullptr, "diffusers AutoencoderKL"},
    {"decoder.conv_in.weight", nullptr, "AutoencoderKL (SD, SDXL, SD3, Flux)"},
    {"taesd_decoder.1.weight", nullptr, "TAESD"},
};

bool is_vae_tensor(const std::string& name) {
  for (const char* root : {"encoder.", "decoder.", "taesd_encoder.", "taesd_decoder."}) {
    if (starts_with(name, root)) return true;
  }
  return false;
}

/// The first signature of kVaeSignatures the header has, or nullptr. One pass; only names
/// under `decoder.`/`taesd_decoder.` are compared with the table.
const VaeSignature* vae_signature_of(const Header& header) {
  std::set<std::string_view> present;
  for (const auto& tensor : header.tensors) {
    const std::string& name = tensor.name;
    if (!starts_with(name, "decoder.") && !starts_with(name, "taesd_decoder.")) continue;
    for (const auto& candidate : kVaeSignatures) {
      if (name == candidate.key || (candidate.also != nullptr && name == candidate.also)) {
        present.insert(name);
      }
    }
  }
  for (const auto& candidate : kVaeSignatures) {
    if (present.count(candidate.key) == 0) continue;
    if (candidate.also != nullptr && present.count(candidate.also) == 0) continue;
    return &candidate;
  }
  return nullptr;
}

KindVerdict classify_vae(const Header& header) {
  const VaeSignature* signature = vae_signature_of(header);
  if (signature == nullptr) return {};
  std::size_t vae_tensors = 0;
  for (const auto& tensor : header.tensors) vae_tensors += is_vae_tensor(tensor.name) ? 1 : 0;
  // A VAE alone: its few other tensors are the latent convolutions (`quant_conv`,
  // `post_quant_conv`, Wan's `conv1`/`conv2`: 4 of ~250). A model that bundles a VAE at
  // the top level has hundreds of other tensors and is converted.
  if (vae_tensors * 10 < header.tensors.size() * 9) return {};
  KindVerdict verdict;
  verdict.kind = CheckpointKind::Vae;
  verdict.format = signature->family;
  verdict.example = signature->key;
  verdict.count = vae_tensors;
  verdict.reason =
      "not a diffusion model or text encoder: ComfyUI's VAE loader (comfy/sd.py, class VAE) "
      "loads plain weights and ignores FP8 scales, so an FP8 VAE would decode with unscaled "
      "weights; keep the VAE in its original precision";
  return verdict;
}

// ---- Transformers in diffusers names ---------------------------------------------------------

/// A transformer as diffusers names it, which ComfyUI's diffusion-model loader renames to its
/// own layout (comfy/sd.py load_diffusion_model_state_dict -> model_detection.py
/// convert_diffusers_mmdit -> utils.py flux_to_diffusers / mmdit_to_diffusers). Those maps
/// list `.weight`/`.bias` names only and fuse to_q/to_k/to_v into one qkv: a layer's
/// `.weight_scale` and `.comfy_quant` are left behind, so ComfyUI would build the model
/// without FP8 scaling and use the codes as values. Checked in order: the first whose keys
/// are all present names the model.
struct DiffusersLayout {
  const char* model;
  std::vector<const char*> keys;
  const char* renamer;  // the comfy/utils.py map ComfyUI renames it with
  const char* instead;  // the ComfyUI-format file to convert
};

const std::vector<DiffusersLayout>& diffusers_layouts() {
  static const std::vector<DiffusersLayout> layouts = {
      {"Flux.2", {"x_embedder.weight", "transformer_blocks.0.attn.to_q.weight",
                  "double_stream_modulation_img.linear.weight"},
       "flux_to_diffusers", "flux2-dev.safetensors from black-forest-labs/FLUX.2-dev"},
      {"Chroma", {"x_embedder.weight", "transformer_blocks.0.attn.to_q.weight",
                  "distilled_guidance_layer.in_proj.weight"},
       "flux_to_diffusers", "the single-file Chroma checkpoint from lodestones/Chroma"},
      // ComfyUI's own test for a diffusers Flux is `x_embedder.weight`; the block name keeps
      // Lumina 2 / Z-Image (their ComfyUI names have an x_embedder too) out.
      {"Flux.1", {"x_embedder.weight", "transformer_blocks.0.attn.to_q.weight"},
       "flux_to_diffusers",
       "flux1-dev.safetensors (or flux1-schnell, flux1-kontext-dev, flux1-krea-dev) from "
       "black-forest-labs, or Comfy-Org's repackaged single file"},
      // ComfyUI's own test for a diffusers SD3; Qwen-Image (whose ComfyUI names are the
      // diffusers ones) has add_q_proj but no pos_embed.
      {"SD 3.5", {"pos_embed.proj.weight", "transformer_blocks.0.attn.add_q_proj.weight"},
       "mmdit_to_diffusers",
       "sd3.5_large.safetensors or sd3.5_medium.safetensors from stabilityai (the single "
       "file, not the transformer/ folder)"},
  };
  return layouts;
}

/// The tensor `name`, bare or under `model.diffusion_model.` (ComfyUI strips that prefix
/// before it tries either naming), or nullptr.
const TensorInfo* find_model_tensor(const Header& header, const std::string& name) {
  if (const TensorInfo* bare = header.find(name)) return bare;
  return header.find(std::string(kDiffusionModelPrefix) + name);
}

KindVerdict classify_diffusers_layout(const Header& header) {
  for (const auto& layout : diffusers_layouts()) {
    std::vector<const TensorInfo*> found;
    for (const char* key : layout.keys) {
      if (const TensorInfo* tensor = find_model_tensor(header, key)) found.push_back(tensor);
    }
    if (found.size() != layout.keys.size()) continue;
    Evidence evidence;
    for (const TensorInfo* tensor : found) evidence.add(tensor->name);
    KindVerdict verdict;
    verdict.kind = CheckpointKind::DiffusersTransformer;
    verdict.format = std::string(layout.model) + " in diffusers names";
    verdict.example = evidence.first;
    verdict.count = evidence.count;
    verdict.reason =
        std::string("not in ComfyUI's names: ComfyUI renames a diffusers transformer as it "
                    "loads it (comfy/utils.py, ") +
        layout.renamer +
        "), fusing to_q/to_k/to_v and dropping every .weight_scale and .comfy_quant, so its "
        "FP8 weights would be used unscaled; convert the ComfyUI-format file instead: " +
        layout.instead;
    return verdict;
  }
  return {};
}

// ---- Other quantization formats -------------------------------------------------------------

constexpr const char* kMxFormat = "MX (F8_E8M0 block scales)";

bool is_integer(Dtype dtype) {
  return dtype == Dtype::U8 || dtype == Dtype::I8 || dtype == Dtype::U16 || dtype == Dtype::I16 ||
         dtype == Dtype::U32 || dtype == Dtype::I32;
}

/// The quantization format tensor `tensor` is a mark of, or nullopt. FP8 E4M3FN scaled
/// (ours, ComfyUI's float8_e4m3fn) is left to the planner's AlreadyQuantized check.
std::optional<std::string> quantized_format_of(const TensorInfo& tensor, NameIndex& index) {
  const std::string& name = tensor.name;
  // bitsandbytes 4-bit: QuantState serialized as `W.weight.quant_state.bitsandbytes__nf4`.
  if (ends_with(name, ".quant_state.bitsandbytes__nf4")) return std::string("bitsandbytes NF4");
  if (ends_with(name, ".quant_state.bitsandbytes__fp4")) return std::string("bitsandbytes FP4");
  if (ends_with(name, ".SCB")) {  // bitsandbytes LLM.int8: I8 weight + per-row scales
    const std::string_view layer = std::string_view(name).substr(0, name.size() - 4);
    const TensorInfo* weight = index.sibling(layer, ".weight");
    if (weight != nullptr && weight->dtype == Dtype::I8) return std::string("bitsandbytes int8");
  }
  // OCP microscaling (MXFP8/MXFP4): power-of-two block scales, one byte each.
  if (tensor.dtype == Dtype::F8_E8M0) return std::string(kMxFormat);
  const bool weight = ends_with(name, ".weight");
  if (weight && (tensor.dtype == Dtype::F8_E5M2 || tensor.dtype == Dtype::F8_E4M3FNUZ ||
                 tensor.dtype == Dtype::F8_E5M2FNUZ)) {
    return "FP8 " + std::string(dtype_name(tensor.dtype)) + " weights";
  }
  if (ends_with(name, ".qweight") &&
      index.sibling(std::string_view(name).substr(0, name.size() - 8), ".scales") != nullptr) {
    return std::string("GPTQ/AWQ packed integers");
  }
  if (!weight || !is_integer(tensor.dtype) || tensor.shape.size() < 2) return std::nullopt;
  const std::string_view layer = std::string_view(name).substr(0, name.size() - 7);
  // ComfyUI's nvfp4: U8 pairs of 4-bit codes, block scales and a per-tensor `weight_scale_2`.
  if (tensor.dtype == Dtype::U8 && index.sibling(layer, ".weight_scale_2") != nullptr) {
    return std::string("NVFP4");
  }
  for (const char* suffix : {".weight_scale", ".weight_scale_inv", ".scale", ".scales"}) {
    if (const TensorInfo* scale = index.sibling(layer, suffix)) {
      if (scale->dtype == Dtype::F8_E8M0) return std::string(kMxFormat);
      return std::string(dtype_name(tensor.dtype)) + " weights with scales";
    }
  }
  return std::nullopt;
}

KindVerdict classify_quantized(const Header& header) {
  NameIndex index(header);
  std::map<std::string, Evidence> formats;
  for (const auto& tensor : header.tensors) {
    if (auto format = quantized_format_of(tensor, index)) formats[*format].add(tensor.name);
  }
  if (formats.empty()) return {};
  auto best = formats.begin();
  for (auto it = formats.begin(); it != formats.end(); ++it) {
    if (it->second.count > best->second.count) best = it;
  }
  std::size_t total = 0;
  for (const auto& entry : formats) total += entry.second.count;
  KindVerdict verdict;
  verdict.kind = CheckpointKind::Quantized;
  verdict.format = best->first;
  verdict.example = best->second.first;
  verdict.count = total;
  verdict.reason =
      "not a BF16/F16/F32 model: its weights are quantized codes already, and quantizing "
      "them again would add error on top of error; convert the original BF16/F16/F32 "
      "checkpoint instead";
  return verdict;
}

const char* evidence_noun(CheckpointKind kind) {
  switch (kind) {
    case CheckpointKind::LoraAdapter:
    case CheckpointKind::LycorisAdapter: return "adapter tensors";
    case CheckpointKind::Vae: return "encoder/decoder tensors";
    case CheckpointKind::Quantized: return "quantization tensors";
    case CheckpointKind::DiffusersTransformer: return "signature tensors";
    case CheckpointKind::Model: break;
  }
  return "tensors";
}

}  // namespace

const char* checkpoint_kind_name(CheckpointKind kind) noexcept {
  switch (kind) {
    case CheckpointKind::Model: return "model";
    case CheckpointKind::LoraAdapter: return "LoRA adapter";
    case CheckpointKind::LycorisAdapter: return "LyCORIS adapter";
    case CheckpointKind::Vae: return "VAE";
    case CheckpointKind::Quantized: return "already-quantized checkpoint";
    case CheckpointKind::DiffusersTransformer: return "diffusers-format transformer";
  }
  return "unknown";
}

KindVerdict classify_checkpoint(const Header& header) {
  // Quantized first: a quantized adapter or VAE is refused for its codes either way, and
  // the message then names the format.
  KindVerdict verdict = classify_quantized(header);
  if (verdict.kind == CheckpointKind::Model) verdict = classify_adapter(header);
  if (verdict.kind == CheckpointKind::Model) verdict = classify_vae(header);
  if (verdict.kind == CheckpointKind::Model) verdict = classify_diffusers_layout(header);
  return verdict;
}

std::string describe_kind(const KindVerdict& verdict) {
  std::string text = checkpoint_kind_name(verdict.kind);
  if (verdict.kind == CheckpointKind::Model) return text;
  text += " (" + verdict.format + ": '" + verdict.example + "'";
  if (verdict.count > 1) {
    text += " and " + std::to_string(verdict.count - 1) + " more " + evidence_noun(verdict.kind);
  }
  return text + ")";
}

void require_conversion_target(const Header& header, const std::string& file_label) {
  const KindVerdict verdict = classify_checkpoint(header);
  if (verdict.kind == CheckpointKind::Model) return;
  const std::string article = verdict.kind == CheckpointKind::Quantized ? "an " : "a ";
  throw Error(ErrorCode::NotAConversionTarget, file_label, {},
              "'" + file_label + "' is " + article + describe_kind(verdict) + ", " +
                  verdict.reason);
}

}  // namespace qfp8
