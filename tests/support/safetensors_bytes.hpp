// safetensors_bytes.hpp — a tiny byte builder for hand-made safetensors files in tests.
// It knows nothing of the rules: it writes exactly the header text and data you give it,
// so tests can build both valid files and every kind of broken one.
//
//   auto image = test::safetensors_image(R"({"a":{"dtype":"U8","shape":[2],"data_offsets":[0,2]}})",
//                                        {0x01, 0x02});
//   test::write_file(test::temp_path("a.safetensors"), image);
//
// safetensors_image() prefixes the 8-byte little-endian length of `header` (as given: pad
// it yourself, or use padded()). image_with_length() lets a test lie about that length.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <iterator>
#include <stdexcept>
#include <filesystem>
#include <string>
#include <system_error>
#include <vector>

#include "support/process_scratch.hpp"

namespace qfp8::test {

using Bytes = std::vector<uint8_t>;

/// 8 bytes, little-endian.
inline Bytes le64(uint64_t value) {
  Bytes out(8);
  for (auto& byte : out) {
    byte = static_cast<uint8_t>(value & 0xFFu);
    value >>= 8;
  }
  return out;
}

/// `header` right-padded with spaces to a multiple of 8, as the reference writer pads it.
inline std::string padded(std::string header) {
  header.append((8 - header.size() % 8) % 8, ' ');
  return header;
}

/// length prefix (any value) + header text + data, with no checks at all.
inline Bytes image_with_length(uint64_t length, const std::string& header, const Bytes& data = {}) {
  // Sized once and filled with copies: GCC 12's -Warray-bounds misfires on the
  // equivalent chain of vector::insert calls at -O2.
  Bytes out(8 + header.size() + data.size());
  const Bytes prefix = le64(length);
  std::copy(prefix.begin(), prefix.end(), out.begin());
  std::copy(header.begin(), header.end(), out.begin() + 8);
  std::copy(data.begin(), data.end(), out.begin() + 8 + static_cast<std::ptrdiff_t>(header.size()));
  return out;
}

/// A file image with the true header length: le64(header.size()) + header + data.
inline Bytes safetensors_image(const std::string& header, const Bytes& data = {}) {
  return image_with_length(header.size(), header, data);
}

/// The bytes of a trivially-copyable value, little-endian on the hosts we build for.
template <typename T>
Bytes bytes_of(const T& value) {
  Bytes out(sizeof value);
  std::memcpy(out.data(), &value, sizeof value);
  return out;
}

/// A scratch path in this process's own directory; `name` may not contain '/'.
inline std::string temp_path(const std::string& name) {
  return process_scratch_root() + "/" + name;
}

/// Writes `bytes` to `path`, replacing it. Throws std::runtime_error on failure.
inline void write_file(const std::string& path, const Bytes& bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
  if (!out) throw std::runtime_error("cannot write test file " + path);
}

/// The whole content of `path`. Throws std::runtime_error when it cannot be read.
inline Bytes read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error("cannot read test file " + path);
  return Bytes(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

/// True when something (file, directory, link) exists at `path`.
inline bool path_exists(const std::string& path) {
  std::error_code error;  // a dangling symbolic link exists too (lstat)
  return std::filesystem::symlink_status(path, error).type() != std::filesystem::file_type::not_found &&
         !error;
}

/// Removes `path` if it exists (a file; ignores errors).
inline void remove_path(const std::string& path) { std::remove(path.c_str()); }

}  // namespace qfp8::test
