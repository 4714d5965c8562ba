// test_file_sniff.cpp — files that are not safetensors (PyTorch zip or pickle checkpoints,
// GGUF, a saved web page, text) keep their rule's error (HeaderTooLarge: their first 8
// bytes read as a length far past the cap) and say what the file looks like.
#include <catch2/catch.hpp>

#include <string>

#include "core/error.hpp"
#include "safetensors/header_parser.hpp"
#include "support/child_process.hpp"
#include "support/convert_checks.hpp"
#include "support/safetensors_bytes.hpp"

namespace {

using qfp8::ErrorCode;
using qfp8::test::Bytes;

Bytes bytes_of_text(const std::string& text) { return Bytes(text.begin(), text.end()); }

// A string literal's bytes, NULs included.
template <std::size_t N>
Bytes literal(const char (&text)[N]) {
  return Bytes(text, text + N - 1);
}

// The error parse_file_image throws for `image`, which must carry `code`.
std::string rejection_detail(const Bytes& image, ErrorCode code) {
  try {
    qfp8::parse_file_image(image.data(), image.size(), "model.ckpt");
  } catch (const qfp8::Error& error) {
    CHECK(std::string(qfp8::error_code_name(error.code())) == qfp8::error_code_name(code));
    return error.detail();
  }
  FAIL("accepted a file that is not safetensors");
  return "";
}

// The little-endian u64 of the first 8 bytes, as the reader computes it (independently).
std::string length_of(const Bytes& image) {
  unsigned long long value = 0;
  for (int i = 7; i >= 0; --i) value = (value << 8) | image[static_cast<std::size_t>(i)];
  return std::to_string(value);
}

std::string too_large(const Bytes& image, const std::string& kind) {
  return "header length " + length_of(image) +
         " exceeds the limit of 100000000 bytes: the file looks like " + kind;
}

}  // namespace

TEST_CASE("sniff: a PyTorch zip archive is named", "[safetensors][sniff]") {
  const Bytes image = literal("PK\x03\x04\x14\x00\x00\x00\x08\x00" "archive/data.pkl");
  CHECK(rejection_detail(image, ErrorCode::HeaderTooLarge) ==
        too_large(image, "a PyTorch zip archive (.pt/.ckpt), not safetensors"));
}

TEST_CASE("sniff: a pickle (protocol 2) is named", "[safetensors][sniff]") {
  const Bytes image = {0x80, 0x02, 0x8a, 0x0a, 0x6c, 0xfc, 0x9c, 0x46, 0xf9, 0x20, 0x6a, 0xa8};
  CHECK(rejection_detail(image, ErrorCode::HeaderTooLarge) ==
        too_large(image, "a Python pickle (old PyTorch .pt/.ckpt)"));
}

TEST_CASE("sniff: a GGUF file is named", "[safetensors][sniff]") {
  const Bytes image = {'G', 'G', 'U', 'F', 3, 0, 0, 0, 0x2a, 0, 0, 0, 0, 0, 0, 0};
  CHECK(rejection_detail(image, ErrorCode::HeaderTooLarge) ==
        too_large(image, "a GGUF file (llama.cpp / ComfyUI-GGUF), not safetensors"));
}

TEST_CASE("sniff: an HTML page is named, whatever the case, after whitespace",
          "[safetensors][sniff]") {
  for (const std::string page : {"<!DOCTYPE html><html><head><title>Sign in</title>",
                                  "\n  <html lang=\"en\"><head></head><body>",
                                  "<!doctype HTML>\n<html>"}) {
    const Bytes image = bytes_of_text(page);
    CHECK(rejection_detail(image, ErrorCode::HeaderTooLarge) ==
          too_large(image, "an HTML page (a download that saved a web page?)"));
  }
}

TEST_CASE("sniff: a text file is named", "[safetensors][sniff]") {
  const Bytes image = bytes_of_text("version https://git-lfs.github.com/spec/v1\noid sha256:0\n");
  CHECK(rejection_detail(image, ErrorCode::HeaderTooLarge) == too_large(image, "a text file"));
}

TEST_CASE("sniff: binary of no known kind keeps the plain message", "[safetensors][sniff]") {
  const Bytes image = {0xde, 0xad, 0xbe, 0xef, 0x01, 0x02, 0x03, 0x04, 0x05};
  CHECK(rejection_detail(image, ErrorCode::HeaderTooLarge) ==
        "header length " + length_of(image) + " exceeds the limit of 100000000 bytes");
  // A safetensors header of spaces is not "text": its 8 length bytes are binary.
  const Bytes spaces = qfp8::test::image_with_length(100'000'001, "{" + std::string(600, ' '));
  CHECK(rejection_detail(spaces, ErrorCode::HeaderTooLarge) ==
        "header length 100000001 exceeds the limit of 100000000 bytes");
}

TEST_CASE("sniff: the description also follows a length past the end of a small file",
          "[safetensors][sniff]") {
  // 0x80 0x02 0x7d: pickle PROTO 2, EMPTY_DICT; the u64 is under the cap but past the end.
  const Bytes image = {0x80, 0x02, 0x7d, 0x00, 0x00, 0x00, 0x00, 0x00, 0x2e};
  CHECK(rejection_detail(image, ErrorCode::InvalidHeaderLength) ==
        "header length 8192640 runs past the end of the 9-byte file: the file looks like a "
        "Python pickle (old PyTorch .pt/.ckpt)");
}

TEST_CASE("sniff: the CLI names a zip checkpoint and exits 2", "[safetensors][sniff]") {
  const std::string dir = qfp8::test::scratch_dir("sniff");
  const std::string path = dir + "/model.ckpt";
  const Bytes image = literal("PK\x03\x04\x14\x00\x00\x00\x08\x00" "archive/data.pkl");
  qfp8::test::write_file(path, image);
  const auto result = qfp8::test::run_child({QFP8_BINARY, "inspect", path}, dir);
  CHECK(result.exit_code == 2);
  CHECK(result.err.find(path + ": " + too_large(image, "a PyTorch zip archive (.pt/.ckpt), "
                                                        "not safetensors")) != std::string::npos);
}
