// output_target.cpp — refusing outputs that must not be replaced, and NAME_MAX-safe names
// beside the target.
#include "safetensors/output_target.hpp"

#include <cstdint>
#include <cstdio>

#include "core/error.hpp"
#include "platform/file_status.hpp"
#include "platform/path.hpp"

namespace qfp8 {
namespace {

// What a file that is neither regular nor a symbolic link is, for the message; null for
// the two kinds an output may replace.
const char* special_kind(platform::FileKind kind) {
  using platform::FileKind;
  switch (kind) {
    case FileKind::char_device: return "a character device";
    case FileKind::block_device: return "a block device";
    case FileKind::fifo: return "a FIFO";
    case FileKind::socket: return "a socket";
    case FileKind::directory: return "a directory";
    case FileKind::regular:
    case FileKind::symlink:
    case FileKind::missing: return nullptr;
    case FileKind::other: break;
  }
  return "not a regular file";
}

std::string file_name_of(const std::string& path) {
  const auto slash = platform::last_separator(path);
  return slash == std::string::npos ? path : path.substr(slash + 1);
}

// FNV-1a, 64 bits: a short, stable stand-in for the part of a name that had to be cut.
uint64_t name_hash(const std::string& text) {
  uint64_t hash = 14695981039346656037ull;
  for (const char c : text) {
    hash ^= static_cast<unsigned char>(c);
    hash *= 1099511628211ull;
  }
  return hash;
}

}  // namespace

std::string directory_of(const std::string& path) {
  const auto slash = platform::last_separator(path);
  if (slash == std::string::npos) return ".";
  if (slash == 0) return "/";
  return path.substr(0, slash);
}

void check_output_target(const std::string& target, bool overwrite) {
  if (target.empty() || platform::is_path_separator(target.back())) {
    throw Error(ErrorCode::OpenFailed, target, "",
                "cannot write '" + target + "': it names a directory, not a file");
  }
  const platform::FileKind kind_of_target = platform::link_kind(target);
  // absent (or unreachable: the sink says why)
  if (kind_of_target == platform::FileKind::missing) return;
  if (const char* kind = special_kind(kind_of_target)) {
    throw Error(ErrorCode::OutputExists, target, "",
                "'" + target + "' is " + kind + ": refusing to replace it");
  }
  if (!overwrite) {
    throw Error(ErrorCode::OutputExists, target, "",
                "output '" + target + "' already exists (use --force to replace it)");
  }
}

std::string sibling_path(const std::string& target, const std::string& prefix,
                         const std::string& suffix) {
  const std::string name = file_name_of(target);
  const std::string directory = target.substr(0, target.size() - name.size());  // keeps the '/'
  // 255 bytes on every Linux file system we write (NAME_MAX); Windows counts 255 UTF-16
  // units, which 255 UTF-8 bytes never exceed.
  constexpr std::size_t kNameMax = 255;
  if (prefix.size() + name.size() + suffix.size() <= kNameMax) {
    return directory + prefix + name + suffix;
  }
  char hash[18];
  std::snprintf(hash, sizeof hash, "~%016llx", static_cast<unsigned long long>(name_hash(name)));
  std::size_t keep = kNameMax - prefix.size() - suffix.size() - (sizeof hash - 1);
  // Do not end in the middle of a UTF-8 sequence: back off over continuation bytes.
  while (keep > 0 && (static_cast<unsigned char>(name[keep]) & 0xC0) == 0x80) --keep;
  return directory + prefix + name.substr(0, keep) + hash + suffix;
}

}  // namespace qfp8
