// format_rules.cpp — --format, --format-for and --layer-config (docs/usage.md#formats).
#include "plan/format_rules.hpp"

#include <algorithm>
#include <fstream>
#include <sstream>

#include <nlohmann/json.hpp>

#include "core/error.hpp"
#include "platform/path.hpp"

namespace qfp8 {
namespace {

std::optional<QuantFormat> format_or_keep(const std::string& name, const std::string& where) {
  if (name == "keep") return std::nullopt;
  if (const auto format = quant_format_from_name(name)) return format;
  throw Error(ErrorCode::Usage, where + ": unknown format '" + name + "' (expected " +
                                    quant_format_list() + " or keep)");
}

std::string describe(const FormatRule& rule) {
  if (rule.origin == "--format-for") return "--format-for '" + rule.pattern + "'";
  return rule.origin + " ('" + rule.pattern + "')";
}

}  // namespace

FormatRule format_rule_from_flag(const std::string& text) {
  const std::size_t equals = text.rfind('=');
  if (equals == std::string::npos || equals == 0) {
    throw Error(ErrorCode::Usage, "invalid --format-for '" + text +
                                      "': expected REGEX=FORMAT (FORMAT: " + quant_format_list() +
                                      " or keep)");
  }
  const std::string pattern = text.substr(0, equals);
  return {pattern, format_or_keep(text.substr(equals + 1), "--format-for '" + text + "'"),
          "--format-for"};
}

std::vector<FormatRule> format_rules_from_file(const std::string& path) {
  std::ifstream file(platform::fs_path(path), std::ios::binary);
  if (!file) {
    throw Error(ErrorCode::Usage, path, {}, "cannot read --layer-config: no such file or not readable");
  }
  std::stringstream text;
  text << file.rdbuf();
  nlohmann::ordered_json json;
  try {
    json = nlohmann::ordered_json::parse(text.str());
  } catch (const nlohmann::json::parse_error& error) {
    throw Error(ErrorCode::Usage, path, {}, std::string("invalid --layer-config JSON: ") + error.what());
  }
  std::vector<FormatRule> rules;
  const auto add = [&](const nlohmann::ordered_json& pattern, const nlohmann::ordered_json& format) {
    const std::string where = "rule " + std::to_string(rules.size() + 1);
    if (!pattern.is_string() || !format.is_string()) {
      throw Error(ErrorCode::Usage, path, {},
                  "invalid --layer-config " + where + ": the regex and the format must be strings");
    }
    rules.push_back({pattern.get<std::string>(),
                     format_or_keep(format.get<std::string>(), path + " " + where),
                     path + " " + where});
  };
  if (json.is_object()) {
    for (const auto& item : json.items()) add(nlohmann::ordered_json(item.key()), item.value());
  } else if (json.is_array()) {
    for (const auto& item : json) {
      if (!item.is_object() || !item.contains("match") || !item.contains("format") || item.size() != 2) {
        throw Error(ErrorCode::Usage, path, {},
                    "invalid --layer-config rule " + std::to_string(rules.size() + 1) +
                        ": expected {\"match\": REGEX, \"format\": FORMAT}");
      }
      add(item["match"], item["format"]);
    }
  } else {
    throw Error(ErrorCode::Usage, path, {},
                "invalid --layer-config: expected a JSON array of {\"match\": REGEX, \"format\": "
                "FORMAT} or an object {REGEX: FORMAT}");
  }
  return rules;
}

FormatRules::FormatRules(QuantFormat default_format, const std::vector<FormatRule>& rules)
    : default_format_(default_format) {
  for (const auto& rule : rules) {
    try {
      rules_.push_back({rule, std::regex(rule.pattern, std::regex::ECMAScript)});
    } catch (const std::regex_error& error) {
      throw Error(ErrorCode::Usage, "invalid " + describe(rule) + " regex: " + error.what());
    }
  }
}

FormatChoice FormatRules::choose(const std::string& tensor_name) const {
  for (const auto& compiled : rules_) {
    if (!std::regex_search(tensor_name, compiled.regex)) continue;
    FormatChoice choice;
    choice.keep = !compiled.rule.format.has_value();
    choice.format = compiled.rule.format.value_or(default_format_);
    choice.why = describe(compiled.rule);
    return choice;
  }
  return {false, default_format_, "--format"};
}

bool FormatRules::only_default_format() const {
  if (default_format_ != QuantFormat::Float8E4m3fn) return false;
  for (const auto& compiled : rules_) {
    if (compiled.rule.format && *compiled.rule.format != QuantFormat::Float8E4m3fn) return false;
  }
  return true;
}

std::vector<QuantFormat> FormatRules::formats() const {
  std::vector<QuantFormat> formats{default_format_};
  for (const auto& compiled : rules_) {
    const auto format = compiled.rule.format;
    if (format && std::find(formats.begin(), formats.end(), *format) == formats.end()) {
      formats.push_back(*format);
    }
  }
  return formats;
}

}  // namespace qfp8
