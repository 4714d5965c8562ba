// output_target.cpp — refusing outputs that must not be replaced, and NAME_MAX-safe names
// beside the target.
#include "safetensors/output_target.hpp"

#include <cerrno>
#include <climits>
#include <cstdint>
#include <cstdio>
#include <sys/stat.h>

#include "core/error.hpp"

namespace qfp8 {
namespace {

// What a file that is neither regular nor a symbolic link is, for the message; null for
// the two kinds an output may replace.
const char* special_kind(mode_t mode) {
  if (S_ISCHR(mode)) return "a character device";
  if (S_ISBLK(mode)) return "a block device";
  if (S_ISFIFO(mode)) return "a FIFO";
  if (S_ISSOCK(mode)) return "a socket";
  if (S_ISDIR(mode)) return "a directory";
  if (S_ISREG(mode) || S_ISLNK(mode)) return nullptr;
  return "not a regular file";
}

std::string file_name_of(const std::string& path) {
  const auto slash = path.rfind('/');
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
  const auto slash = path.rfind('/');
  if (slash == std::string::npos) return ".";
  if (slash == 0) return "/";
  return path.substr(0, slash);
}

void check_output_target(const std::string& target, bool overwrite) {
  if (target.empty() || target.back() == '/') {
    throw Error(ErrorCode::OpenFailed, target, "",
                "cannot write '" + target + "': it names a directory, not a file");
  }
  struct stat info {};
  if (::lstat(target.c_str(), &info) != 0) return;  // absent (or unreachable: the sink says why)
  if (const char* kind = special_kind(info.st_mode)) {
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
  constexpr std::size_t kNameMax = NAME_MAX;  // 255 bytes on every Linux file system we write
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
