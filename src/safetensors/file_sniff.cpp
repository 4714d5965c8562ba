// file_sniff.cpp — magic numbers of the files users mistake for safetensors.
#include "safetensors/file_sniff.hpp"

#include <algorithm>
#include <cctype>
#include <cstring>
#include <string_view>

namespace qfp8 {
namespace {

// Enough of the file to judge it as text: a web page's <head> or a README's first lines.
constexpr uint64_t kTextSample = 512;

bool starts_with(const uint8_t* bytes, uint64_t size, std::string_view magic) {
  return size >= magic.size() && std::memcmp(bytes, magic.data(), magic.size()) == 0;
}

// Pickle protocol 2 to 5 opens with PROTO (0x80) and the protocol number: torch.save
// before PyTorch 1.6 wrote one (protocol 2), and so do many .ckpt files. An opcode follows
// (never 0x00), which tells it from a truncated safetensors file of header length 0x0280.
bool is_pickle(const uint8_t* bytes, uint64_t size) {
  return size >= 3 && bytes[0] == 0x80 && bytes[1] >= 2 && bytes[1] <= 5 && bytes[2] != 0;
}

bool is_html(const uint8_t* bytes, uint64_t size) {
  const uint64_t end = std::min(size, kTextSample);
  uint64_t i = 0;
  while (i < end && std::isspace(bytes[i]) != 0) ++i;
  std::string start;
  for (uint64_t k = i; k < end && start.size() < 9; ++k) {
    start += static_cast<char>(std::tolower(bytes[k]));
  }
  return start.rfind("<!doctype", 0) == 0 || start.rfind("<html", 0) == 0;
}

bool is_text_byte(uint8_t byte) {
  return (byte >= 0x20 && byte < 0x7F) || byte == '\t' || byte == '\n' || byte == '\r';
}

// Mostly printable ASCII: at least 95 % of the sample is printable, tab, CR or LF (a few
// UTF-8 letters do not make a text file binary), and so are the 8 bytes read as the
// length: a safetensors file whose header is mostly spaces has binary ones.
bool is_text(const uint8_t* bytes, uint64_t size) {
  const uint64_t end = std::min(size, kTextSample);
  if (end < 8 || !std::all_of(bytes, bytes + 8, is_text_byte)) return false;
  const auto printable = std::count_if(bytes, bytes + end, is_text_byte);
  return static_cast<uint64_t>(printable) * 100 >= end * 95;
}

}  // namespace

std::string describe_file_start(const uint8_t* bytes, uint64_t size) {
  if (starts_with(bytes, size, "PK\x03\x04")) {
    return "a PyTorch zip archive (.pt/.ckpt), not safetensors";
  }
  if (is_pickle(bytes, size)) return "a Python pickle (old PyTorch .pt/.ckpt)";
  if (starts_with(bytes, size, "GGUF")) {
    return "a GGUF file (llama.cpp / ComfyUI-GGUF), not safetensors";
  }
  if (is_html(bytes, size)) return "an HTML page (a download that saved a web page?)";
  if (is_text(bytes, size)) return "a text file";
  return "";
}

}  // namespace qfp8
