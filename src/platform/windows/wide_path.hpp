// wide_path.hpp (Windows, internal) — UTF-8 <-> UTF-16, and the path handed to the wide
// Windows APIs: a path whose full form reaches 248 UTF-16 units (CreateDirectoryW's limit;
// MAX_PATH is 260) gets the `\\?\` prefix, which lifts the limit to 32767 without the
// longPathAware manifest and registry setting.
#pragma once

#include <windows.h>

#include <string>

namespace qfp8::platform::windows {

inline std::wstring widen(const std::string& text) {
  if (text.empty()) return {};
  const int length = MultiByteToWideChar(CP_UTF8, 0, text.data(), static_cast<int>(text.size()),
                                         nullptr, 0);
  std::wstring wide(static_cast<std::size_t>(length), L'\0');
  MultiByteToWideChar(CP_UTF8, 0, text.data(), static_cast<int>(text.size()), wide.data(), length);
  return wide;
}

inline std::string narrow(const wchar_t* text, std::size_t size) {
  if (size == 0) return {};
  const int length = WideCharToMultiByte(CP_UTF8, 0, text, static_cast<int>(size), nullptr, 0,
                                         nullptr, nullptr);
  std::string utf8(static_cast<std::size_t>(length), '\0');
  WideCharToMultiByte(CP_UTF8, 0, text, static_cast<int>(size), utf8.data(), length, nullptr,
                      nullptr);
  return utf8;
}

inline std::wstring api_path(const std::string& utf8) {
  std::wstring path = widen(utf8);
  if (path.rfind(L"\\\\?\\", 0) == 0 || path.rfind(L"\\\\.\\", 0) == 0) return path;
  DWORD length = GetFullPathNameW(path.c_str(), 0, nullptr, nullptr);
  if (length == 0) return path;
  std::wstring full(length, L'\0');
  length = GetFullPathNameW(path.c_str(), length, full.data(), nullptr);
  full.resize(length);
  if (full.size() < 248) return path;  // short: as given (a relative path stays relative)
  // GetFullPathNameW has made it absolute, with '\' separators and no "." or ".."
  // components, which `\\?\` paths may not contain.
  if (full.rfind(L"\\\\", 0) == 0) return L"\\\\?\\UNC\\" + full.substr(2);
  return L"\\\\?\\" + full;
}

inline HANDLE handle_of(intptr_t file) { return reinterpret_cast<HANDLE>(file); }
inline intptr_t native_of(HANDLE handle) { return reinterpret_cast<intptr_t>(handle); }

}  // namespace qfp8::platform::windows
