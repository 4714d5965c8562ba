// model_families.cpp — matching the registry (model_families_{image,video,text}.cpp) against a header:
// signatures and variants by tensor name (bare or `model.diffusion_model.`-prefixed), keep
// rules by layer name, and the `--preset list` text.
#include "plan/model_families.hpp"

#include <algorithm>
#include <string>

#include "plan/comfy_metadata.hpp"
#include "plan/model_family_groups.hpp"
#include "plan/name_prefix.hpp"

namespace qfp8 {
namespace {

bool starts_with(const std::string& text, const std::string& prefix) {
  return text.compare(0, prefix.size(), prefix) == 0;
}

std::string strip_model_prefix(const std::string& name) {
  return starts_with(name, kDiffusionModelPrefix)
             ? name.substr(std::string(kDiffusionModelPrefix).size())
             : name;
}

/// The tensor `name` (prefix-free), bare or prefixed, or nullptr.
const TensorInfo* find_either(const Header& header, const std::string& name) {
  if (const TensorInfo* bare = header.find(name)) return bare;
  return header.find(kDiffusionModelPrefix + name);
}

/// A signature or `unless` entry: a tensor name, optionally with one shape condition
/// `NAME[DIM]=VALUE` (the tensor's shape[DIM] must equal VALUE), for models that ComfyUI
/// tells apart by a width rather than a name (Qwen2.5-VL 7B from 3B by the k_proj bias).
struct TensorCondition {
  std::string name;
  std::optional<std::size_t> dim;
  uint64_t value = 0;
};

TensorCondition parse_condition(const std::string& text) {
  TensorCondition condition{text, std::nullopt, 0};
  const std::size_t open = text.rfind('[');
  const std::size_t close = text.find("]=", open == std::string::npos ? 0 : open);
  if (open == std::string::npos || close == std::string::npos || close + 2 >= text.size()) {
    return condition;
  }
  condition.name = text.substr(0, open);
  condition.dim = std::stoul(text.substr(open + 1, close - open - 1));
  condition.value = std::stoull(text.substr(close + 2));
  return condition;
}

/// The tensor that meets `text` (bare or prefixed), or nullptr.
const TensorInfo* find_meeting(const Header& header, const std::string& text) {
  const TensorCondition condition = parse_condition(text);
  const TensorInfo* tensor = find_either(header, condition.name);
  if (tensor == nullptr || !condition.dim) return tensor;
  const bool meets = *condition.dim < tensor->shape.size() &&
                     tensor->shape[*condition.dim] == condition.value;
  return meets ? tensor : nullptr;
}

/// The first entry of `clause` the header meets, as evidence (the tensor's name, with the
/// shape condition it met), or nullopt.
std::optional<std::string> first_present(const Header& header,
                                         const std::vector<const char*>& clause) {
  for (const char* text : clause) {
    if (const TensorInfo* tensor = find_meeting(header, text)) {
      const std::size_t open = std::string(text).rfind('[');
      const bool has_shape = parse_condition(text).dim.has_value();
      return tensor->name + (has_shape ? std::string(text).substr(open) : std::string());
    }
  }
  return std::nullopt;
}

bool variant_applies(const Header& header, const VariantRule& rule) {
  const TensorInfo* tensor = find_either(header, rule.tensor);
  if (rule.when_absent) return tensor == nullptr;
  if (tensor == nullptr) return false;
  if (rule.dim < 0) return true;
  const auto dim = static_cast<std::size_t>(rule.dim);
  return dim < tensor->shape.size() && tensor->shape[dim] == rule.dim_value;
}

/// The family's match, or nullopt when a clause is unmet or an `unless` tensor is present.
std::optional<FamilyMatch> match_family(const Header& header, const ModelFamily& family) {
  FamilyMatch match;
  match.family = &family;
  for (const auto& clause : family.signature) {
    std::optional<std::string> evidence = first_present(header, clause);
    if (!evidence) return std::nullopt;
    match.evidence.push_back(std::move(*evidence));
  }
  for (const char* text : family.unless) {
    if (find_meeting(header, text) != nullptr) return std::nullopt;
  }
  for (const auto& rule : family.variants) {
    if (variant_applies(header, rule)) match.variants.emplace_back(rule.label);
  }
  return match;
}

std::string joined(const std::vector<std::string>& parts, const char* separator) {
  std::string text;
  for (const auto& part : parts) {
    if (!text.empty()) text += separator;
    text += part;
  }
  return text;
}

std::vector<std::string> dotted_segments(const std::string& name) {
  std::vector<std::string> segments;
  std::size_t start = 0;
  for (std::size_t dot = name.find('.'); dot != std::string::npos; dot = name.find('.', start)) {
    segments.push_back(name.substr(start, dot - start));
    start = dot + 1;
  }
  segments.push_back(name.substr(start));
  return segments;
}

/// Segment by segment, `*` standing for any one segment (a block index): an exact entry
/// covers the layer of the same length, a subtree entry every longer one below it.
bool keep_entry_covers(const KeepEntry& entry, const std::vector<std::string>& layer) {
  const std::vector<std::string> pattern = dotted_segments(entry.layer);
  const bool length_fits = entry.subtree ? layer.size() > pattern.size() : layer.size() == pattern.size();
  if (!length_fits) return false;
  for (std::size_t i = 0; i < pattern.size(); ++i) {
    if (pattern[i] != "*" && pattern[i] != layer[i]) return false;
  }
  return true;
}

std::string keep_label(const KeepEntry& entry) {
  return entry.subtree ? std::string(entry.layer) + ".*" : std::string(entry.layer);
}

std::string signature_text(const ModelFamily& family) {
  std::vector<std::string> clauses;
  for (const auto& clause : family.signature) {
    std::vector<std::string> names(clause.begin(), clause.end());
    clauses.push_back(joined(names, " or "));
  }
  std::string text = joined(clauses, " + ");
  if (!family.unless.empty()) {
    std::vector<std::string> names(family.unless.begin(), family.unless.end());
    text += "; not with " + joined(names, ", ");
  }
  return text;
}

}  // namespace

const std::vector<ModelFamily>& model_families() {
  static const std::vector<ModelFamily> families = [] {
    std::vector<ModelFamily> all;
    for (auto group : {image_model_families(), video_model_families(), text_encoder_families()}) {
      for (auto& family : group) all.push_back(std::move(family));
    }
    return all;
  }();
  return families;
}

const ModelFamily* find_model_family(const std::string& name) {
  for (const auto& family : model_families()) {
    if (name == family.name) return &family;
  }
  return nullptr;
}

std::string model_family_names() {
  std::vector<std::string> names;
  for (const auto& family : model_families()) names.emplace_back(family.name);
  return joined(names, ", ");
}

FamilyDetection detect_model_family(const Header& header) {
  FamilyDetection detection;
  for (const auto& family : model_families()) {
    if (auto match = match_family(header, family)) detection.matches.push_back(std::move(*match));
  }
  return detection;
}

std::string describe_match(const FamilyMatch& match) {
  std::string text = std::string(match.family->name) + " from " + joined(match.evidence, ", ");
  if (!match.variants.empty()) text += " (variant: " + joined(match.variants, "; ") + ")";
  return text;
}

std::optional<std::string> family_keep_rule(const ModelFamily& family, const std::string& name) {
  if (!has_suffix(name, kWeightSuffix)) return std::nullopt;
  const std::vector<std::string> layer = dotted_segments(strip_model_prefix(layer_name_of(name)));
  for (const auto& entry : family.keep) {
    if (keep_entry_covers(entry, layer)) return keep_label(entry);
  }
  return std::nullopt;
}

void print_model_families(std::ostream& out) {
  out << "Model families (--preset NAME forces one; --preset auto applies the one whose\n"
         "signature matches, or the bare rule when none or several do):\n";
  for (const auto& family : model_families()) {
    out << "\n" << family.name << "  " << family.models << "\n";
    out << "  matches: " << signature_text(family) << "\n";
    out << "  keeps in high precision (.weight of):\n";
    std::size_t width = 0;
    for (const auto& entry : family.keep) width = std::max(width, keep_label(entry).size());
    for (const auto& entry : family.keep) {
      const std::string label = keep_label(entry);
      out << "    " << label << std::string(width - label.size() + 2, ' ') << entry.why << "\n";
    }
    out << "  detection: " << family.detection_source << "\n";
    out << "  keep list: " << family.keep_source << "\n";
  }
  out << "\nnone: the bare rule only (every 2-D float .weight of at least 4096 elements).\n";
}

}  // namespace qfp8
