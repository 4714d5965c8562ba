// batch.cpp — many inputs, one backend, one result per input (see batch.hpp).
#include "convert/batch.hpp"

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>

#include "core/error.hpp"
#include "core/log.hpp"
#include "core/text_format.hpp"
#include "platform/path.hpp"

namespace qfp8 {
namespace {

namespace fs = std::filesystem;

bool ends_with(const std::string& text, const std::string& suffix) {
  return text.size() >= suffix.size() &&
         text.compare(text.size() - suffix.size(), suffix.size(), suffix) == 0;
}

std::string trimmed(const std::string& text) {
  const auto first = text.find_first_not_of(" \t\r");
  if (first == std::string::npos) return {};
  return text.substr(first, text.find_last_not_of(" \t\r") - first + 1);
}

}  // namespace

std::string batch_format_tag(QuantFormat format, bool mixed) {
  std::string tag;
  switch (format) {
    case QuantFormat::Float8E4m3fn: tag = "fp8-e4m3fn"; break;
    case QuantFormat::Float8E5m2: tag = "fp8-e5m2"; break;
    case QuantFormat::Mxfp8: tag = "mxfp8"; break;
    case QuantFormat::Nvfp4: tag = "nvfp4"; break;
  }
  return mixed ? tag + "-mixed" : tag;
}

std::string batch_output_name(const std::string& input, const std::string& tag) {
  // "dir/" and "dir" name the same directory; the stem is its own name.
  fs::path path = platform::fs_path(input);
  while (path.has_parent_path() && !path.has_filename()) path = path.parent_path();
  std::string stem = platform::utf8_of(path.filename());
  std::error_code error;
  if (ends_with(stem, ".index.json")) {
    stem = platform::utf8_of(path.parent_path().filename());
    if (stem.empty()) stem = platform::utf8_of(fs::absolute(path, error).parent_path().filename());
  } else if (fs::is_directory(path, error)) {
    if (stem.empty() || stem == "." || stem == "..") {
      stem = platform::utf8_of(fs::absolute(path, error).lexically_normal().filename());
    }
  } else if (ends_with(stem, ".safetensors")) {
    stem.resize(stem.size() - std::string(".safetensors").size());
  } else if (platform::fs_path(stem).has_extension()) {
    stem = platform::utf8_of(platform::fs_path(stem).stem());
  }
  if (stem.empty()) stem = "model";
  return stem + "-" + tag + ".safetensors";
}

std::vector<BatchItem> plan_batch(const std::vector<std::string>& inputs,
                                  const std::string& output_dir, const std::string& tag) {
  std::vector<BatchItem> items;
  std::map<std::string, std::string> input_of;  // output -> input
  for (const auto& input : inputs) {
    const std::string output =
        platform::utf8_of(platform::fs_path(output_dir) / platform::fs_path(batch_output_name(input, tag)));
    const auto [found, inserted] = input_of.emplace(output, input);
    if (!inserted) {
      throw Error(ErrorCode::Usage, "cannot convert both '" + found->second + "' and '" + input +
                                        "': both would write '" + output + "'");
    }
    items.push_back({input, output});
  }
  return items;
}

void make_output_dir(const std::string& dir) {
  std::error_code error;
  fs::create_directories(platform::fs_path(dir), error);
  if (error || !fs::is_directory(platform::fs_path(dir), error)) {
    throw Error(ErrorCode::OpenFailed,
                "cannot create '" + dir + "': " + (error ? error.message() : "not a directory"));
  }
}

std::vector<std::string> read_input_list(const std::string& path) {
  std::ifstream in(platform::fs_path(path));
  if (!in) throw Error(ErrorCode::OpenFailed, with_errno("cannot open '" + path + "'", errno));
  std::vector<std::string> inputs;
  std::string line;
  while (std::getline(in, line)) {
    const std::string entry = trimmed(line);
    if (!entry.empty() && entry[0] != '#') inputs.push_back(entry);
  }
  if (in.bad()) throw Error(ErrorCode::ReadFailed, with_errno("cannot read '" + path + "'", errno));
  return inputs;
}

std::vector<BatchResult> run_batch(const std::vector<BatchItem>& items,
                                   const std::function<ConvertSummary(const BatchItem&)>& convert_one) {
  std::vector<BatchResult> results;
  for (std::size_t i = 0; i < items.size(); ++i) {
    BatchResult result;
    result.item = items[i];
    log_info("[{}/{}] '{}' -> '{}'", i + 1, items.size(), items[i].input, items[i].output);
    const auto start = std::chrono::steady_clock::now();
    try {
      result.summary = convert_one(items[i]);
      result.ok = true;
    } catch (const Error& error) {
      result.exit_code = exit_code_for(error.code());
      result.message = error_message(error);
    } catch (const std::bad_alloc&) {
      result.exit_code = kExitIo;
      result.message = "out of memory";
    } catch (const std::exception& error) {
      result.exit_code = kExitIo;
      result.message = std::string("unexpected error: ") + error.what();
    }
    result.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    if (!result.ok) log_error("{}", result.message);
    results.push_back(std::move(result));
  }
  return results;
}

int batch_exit_code(const std::vector<BatchResult>& results) {
  int code = kExitOk;
  for (const auto& result : results) {
    if (!result.ok) code = std::max(code, result.exit_code);
  }
  return code;
}

}  // namespace qfp8
