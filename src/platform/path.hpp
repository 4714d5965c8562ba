// path.hpp — path text in UTF-8 on every system. Windows takes '\' and '/' as separators;
// std::filesystem paths are built from and read back as UTF-8 (std::filesystem::path of a
// narrow string would use the ANSI code page there).
#pragma once

#include <filesystem>
#include <string>

namespace qfp8::platform {

#ifdef _WIN32
inline constexpr const char* kPathSeparators = "/\\";
#else
inline constexpr const char* kPathSeparators = "/";
#endif

inline bool is_path_separator(char c) {
  for (const char* s = kPathSeparators; *s != '\0'; ++s) {
    if (*s == c) return true;
  }
  return false;
}

/// Where the last path component starts (0 when there is no separator).
inline std::string::size_type last_separator(const std::string& path) {
  return path.find_last_of(kPathSeparators);
}

/// A std::filesystem path from UTF-8 text, and back (the identity on POSIX).
inline std::filesystem::path fs_path(const std::string& utf8) {
  return std::filesystem::u8path(utf8);
}
inline std::string utf8_of(const std::filesystem::path& path) { return path.u8string(); }

}  // namespace qfp8::platform
