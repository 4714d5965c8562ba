// format_rules.hpp — which format each quantized layer is written in (docs/usage.md#formats):
// `--format F` for every layer, and ordered rules REGEX -> format or `keep` from
// `--format-for REGEX=F` (command line, in order) and `--layer-config FILE` (after them). The
// first rule whose regex is found in the input tensor name decides; no match: `--format`.
#pragma once

#include <optional>
#include <regex>
#include <string>
#include <vector>

#include "core/quant_format.hpp"

namespace qfp8 {

/// One rule as the user wrote it. `format` empty means `keep` (the layer stays in its dtype).
struct FormatRule {
  std::string pattern;
  std::optional<QuantFormat> format;
  std::string origin;  // "--format-for" or "<file> rule 3", for reasons and errors
};

/// Parses one `--format-for REGEX=FORMAT` (split at the LAST '='; FORMAT one of the
/// formats or `keep`); throws Error(Usage) naming the bad part.
FormatRule format_rule_from_flag(const std::string& text);

/// Parses a layer-config file: a JSON array of {"match": REGEX, "format": FORMAT} objects,
/// or a JSON object {REGEX: FORMAT, ...} read in file order. Throws Error(Usage) naming the
/// file and the rule for anything else.
std::vector<FormatRule> format_rules_from_file(const std::string& path);

/// What the rules chose for one layer.
struct FormatChoice {
  bool keep = false;
  QuantFormat format = QuantFormat::Float8E4m3fn;
  std::string why;  // "--format", "--format-for 'blocks'", "layers.json rule 2 ('img_in')"
};

/// The rules compiled once; throws Error(Usage) naming a bad regex.
class FormatRules {
 public:
  FormatRules(QuantFormat default_format, const std::vector<FormatRule>& rules);
  FormatChoice choose(const std::string& tensor_name) const;
  /// True when every layer gets float8_e4m3fn whatever its name.
  bool only_default_format() const;
  /// Every format a layer may get: --format's and the rules', each once.
  std::vector<QuantFormat> formats() const;

 private:
  struct Compiled {
    FormatRule rule;
    std::regex regex;
  };
  QuantFormat default_format_;
  std::vector<Compiled> rules_;
};

}  // namespace qfp8
