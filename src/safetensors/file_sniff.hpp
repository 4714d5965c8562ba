// file_sniff.hpp — what a file that is not safetensors looks like, from its first bytes:
// a safetensors file opens with a plausible header length, so when the length is not
// plausible, the usual suspects (PyTorch zip or pickle checkpoints, GGUF, a saved web page,
// text) get named in the error instead of a 19-digit "header length".
#pragma once

#include <cstdint>
#include <string>

namespace qfp8 {

/// "a PyTorch zip archive (.pt/.ckpt), not safetensors", "a Python pickle (old PyTorch
/// .pt/.ckpt)", "a GGUF file (llama.cpp / ComfyUI-GGUF), not safetensors", "an HTML page
/// (a download that saved a web page?)", "a text file", or "" when it is none of these.
std::string describe_file_start(const uint8_t* bytes, uint64_t size);

}  // namespace qfp8
