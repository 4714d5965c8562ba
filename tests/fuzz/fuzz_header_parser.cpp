// fuzz_header_parser.cpp — libFuzzer target: any byte string given to the safetensors
// validator must either parse into a self-consistent header or throw qfp8::Error. Anything
// else (a crash, a sanitizer report, another exception type) is a bug.
#include <cstddef>
#include <cstdint>
#include <cstdlib>

#include "core/error.hpp"
#include "safetensors/header_parser.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  try {
    const qfp8::Header header = qfp8::parse_file_image(data, size, "fuzz.safetensors");
    // Accepted files must satisfy the invariants the converter relies on.
    uint64_t expected_begin = 0;
    for (const auto& tensor : header.tensors) {
      if (tensor.begin != expected_begin || tensor.end < tensor.begin) std::abort();
      expected_begin = tensor.end;
    }
    if (expected_begin != header.data_size) std::abort();
    if (header.data_offset() + header.data_size != size) std::abort();
  } catch (const qfp8::Error&) {
    // Rejected with a named rule: the expected outcome for malformed input.
  }
  return 0;
}
