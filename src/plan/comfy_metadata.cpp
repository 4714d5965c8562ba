// comfy_metadata.cpp — ComfyUI layer names and json.dumps-exact metadata strings
// (docs/format.md#layer-comfy-quant, #metadata).
#include "plan/comfy_metadata.hpp"

#include <algorithm>
#include <cstdint>

#include "core/error.hpp"

namespace qfp8 {
namespace {

void append_u_escape(std::string& out, uint32_t unit) {
  static constexpr char kHex[] = "0123456789abcdef";  // Python writes lowercase
  out += "\\u";
  for (int shift = 12; shift >= 0; shift -= 4) out += kHex[(unit >> shift) & 0xFu];
}

/// Bytes in the UTF-8 sequence led by `lead`; 1 for ASCII and for stray bytes.
std::size_t sequence_length(unsigned char lead) {
  if (lead >= 0xC0 && lead < 0xE0) return 2;
  if (lead >= 0xE0 && lead < 0xF0) return 3;
  if (lead >= 0xF0 && lead < 0xF8) return 4;
  return 1;
}

/// Decodes the code point starting at text[i] and advances i. The reader validated the
/// UTF-8 already; a stray byte is taken as the code point of its value rather than lost.
uint32_t next_code_point(const std::string& text, std::size_t& i) {
  static constexpr unsigned char kLeadBits[5] = {0, 0x7F, 0x1F, 0x0F, 0x07};
  const auto lead = static_cast<unsigned char>(text[i]);
  const std::size_t length = sequence_length(lead);
  if (length == 1 || i + length > text.size()) {
    ++i;
    return lead;
  }
  uint32_t code = lead & kLeadBits[length];
  for (std::size_t k = 1; k < length; ++k) {
    code = (code << 6) | (static_cast<unsigned char>(text[i + k]) & 0x3Fu);
  }
  i += length;
  return code;
}

void append_escaped_code_point(std::string& out, uint32_t code) {
  switch (code) {
    case '"': out += "\\\""; return;
    case '\\': out += "\\\\"; return;
    case '\n': out += "\\n"; return;
    case '\r': out += "\\r"; return;
    case '\t': out += "\\t"; return;
    case '\b': out += "\\b"; return;
    case '\f': out += "\\f"; return;
    default: break;
  }
  // json.dumps keeps printable ASCII (0x20..0x7E) raw and escapes everything else.
  if (code >= 0x20 && code <= 0x7E) {
    out += static_cast<char>(code);
  } else if (code <= 0xFFFF) {
    append_u_escape(out, code);
  } else {
    // UTF-16 surrogate pair, as Python writes code points past the BMP.
    const uint32_t offset = code - 0x10000u;
    append_u_escape(out, 0xD800u + (offset >> 10));
    append_u_escape(out, 0xDC00u + (offset & 0x3FFu));
  }
}

}  // namespace

bool has_suffix(const std::string& name, const std::string& suffix) {
  return name.size() >= suffix.size() &&
         name.compare(name.size() - suffix.size(), suffix.size(), suffix) == 0;
}

std::string layer_name_of(const std::string& weight_name) {
  if (!has_suffix(weight_name, kWeightSuffix)) {
    throw Error(ErrorCode::InvalidPlan, {}, weight_name, "cannot name a layer: not a .weight");
  }
  return weight_name.substr(0, weight_name.size() - std::string(kWeightSuffix).size());
}

std::string layer_config_json(QuantFormat format, bool full_precision_mm) {
  std::string config = std::string(R"({"format": ")") + quant_format_name(format) + '"';
  if (full_precision_mm) config += R"(, "full_precision_matrix_mult": true)";
  return config + "}";
}

std::string layer_config_json(bool full_precision_mm) {
  return layer_config_json(QuantFormat::Float8E4m3fn, full_precision_mm);
}

std::string json_quote_ascii(const std::string& utf8) {
  std::string out = "\"";
  for (std::size_t i = 0; i < utf8.size();) append_escaped_code_point(out, next_code_point(utf8, i));
  out += '"';
  return out;
}

std::string quantization_metadata_json_of(std::vector<QuantizedWeightName> weights,
                                       bool full_precision_mm) {
  // std::string orders by char_traits<char>::lt, which compares as unsigned char: byte-wise.
  std::sort(weights.begin(), weights.end(),
            [](const auto& a, const auto& b) { return a.name < b.name; });
  std::string out = R"({"format_version": "1.0", "layers": {)";
  for (std::size_t i = 0; i < weights.size(); ++i) {
    if (i > 0) out += ", ";
    out += json_quote_ascii(layer_name_of(weights[i].name));
    out += ": ";
    out += layer_config_json(weights[i].format, full_precision_mm);
  }
  out += "}}";
  return out;
}

std::string quantization_metadata_json(const std::vector<std::string>& weight_names,
                                       bool full_precision_mm) {
  std::vector<QuantizedWeightName> weights;
  weights.reserve(weight_names.size());
  for (const auto& name : weight_names) weights.push_back({name, QuantFormat::Float8E4m3fn});
  return quantization_metadata_json_of(std::move(weights), full_precision_mm);
}

}  // namespace qfp8
