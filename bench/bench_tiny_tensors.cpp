// bench_tiny_tensors.cpp — the per-tensor cost of every stage, on a file of N zero-size
// BF16 tensors (default 1,000,000: a 63 MB header, under the 100 MB cap) plus four 64x64
// BF16 weights of 1.0, so that there is something to quantize. Checks the converted file
// first (N + 12 tensors; each weight 0x7E = 448 with scale 1/448), then reports tensors
// per second for parse, plan, convert (to a file) and verify of the output.
//   bench_tiny_tensors [N]
#include <chrono>
#include <ctime>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <string>
#include <unistd.h>

#include <spdlog/spdlog.h>

#include "backends/cpu/backend_cpu.hpp"
#include "convert/pipeline.hpp"
#include "core/error.hpp"
#include "plan/conversion_plan.hpp"
#include "safetensors/reader.hpp"
#include "verify/verify.hpp"

namespace {

constexpr int kWeights = 4;
constexpr uint64_t kWeightElements = 64 * 64;  // 4096: the smallest quantized size
constexpr uint8_t kFp8Of448 = 0x7E;             // E4M3FN 448 = 1.0 / (1/448)

// The whole file is written from one header string; the data is the weights' bytes.
void write_input(const std::string& path, uint64_t tensors) {
  std::string header = "{";
  header.reserve(tensors * 64 + 512);
  char entry[160];
  const uint64_t weight_bytes = kWeightElements * 2;
  for (int i = 0; i < kWeights; ++i) {
    std::snprintf(entry, sizeof entry,
                  "\"layer%d.weight\":{\"dtype\":\"BF16\",\"shape\":[64,64],"
                  "\"data_offsets\":[%llu,%llu]},",
                  i, static_cast<unsigned long long>(i * weight_bytes),
                  static_cast<unsigned long long>((i + 1) * weight_bytes));
    header += entry;
  }
  const unsigned long long end = kWeights * weight_bytes;
  for (uint64_t i = 0; i < tensors; ++i) {
    std::snprintf(entry, sizeof entry,
                  "\"t%07llu\":{\"dtype\":\"BF16\",\"shape\":[0],\"data_offsets\":[%llu,%llu]},",
                  static_cast<unsigned long long>(i), end, end);
    header += entry;
  }
  header.back() = '}';
  header.append((8 - header.size() % 8) % 8, ' ');
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  uint64_t length = header.size();
  for (int i = 0; i < 8; ++i, length >>= 8) out.put(static_cast<char>(length & 0xFF));
  out << header;
  for (uint64_t i = 0; i < kWeights * kWeightElements; ++i) out.write("\x80\x3f", 2);  // 1.0
  if (!out) throw std::runtime_error("cannot write " + path);
}

// Wall and CPU seconds of one stage: on a shared machine the CPU time is the steadier.
struct Stage {
  double wall = 0;
  double cpu = 0;
};

class StageTimer {
 public:
  StageTimer() : wall_(std::chrono::steady_clock::now()), cpu_(std::clock()) {}
  Stage stop() const {
    return {std::chrono::duration<double>(std::chrono::steady_clock::now() - wall_).count(),
            static_cast<double>(std::clock() - cpu_) / CLOCKS_PER_SEC};
  }

 private:
  std::chrono::steady_clock::time_point wall_;
  std::clock_t cpu_;
};

// The output must hold every input tensor plus weight_scale and comfy_quant per layer.
bool output_is_right(const std::string& path, uint64_t tensors) {
  const qfp8::SafetensorsFile output(path);
  if (output.header().tensors.size() != tensors + kWeights * 3) return false;
  const qfp8::TensorInfo* empty = output.find("t0000000");
  if (tensors > 0 && (empty == nullptr || empty->byte_size() != 0)) return false;
  for (int i = 0; i < kWeights; ++i) {
    const std::string layer = "layer" + std::to_string(i);
    const auto* weight = output.find(layer + ".weight");
    const auto* scale = output.find(layer + ".weight_scale");
    if (weight == nullptr || scale == nullptr || weight->dtype != qfp8::Dtype::F8_E4M3) return false;
    const auto codes = output.bytes(*weight);
    for (uint64_t k = 0; k < codes.size; ++k) {
      if (codes.data[k] != kFp8Of448) return false;
    }
    float value = 0;
    std::memcpy(&value, output.bytes(*scale).data, 4);
    if (value != 1.0f / 448.0f) return false;
  }
  return true;
}

void report(const char* name, uint64_t tensors, Stage stage) {
  std::printf("%-8s %9llu tensors in %7.3f s (%7.3f s CPU): %9.0f tensors/s, %6.2f us each\n",
              name, static_cast<unsigned long long>(tensors), stage.wall, stage.cpu,
              static_cast<double>(tensors) / stage.wall,
              stage.wall * 1e6 / static_cast<double>(tensors));
}

}  // namespace

int main(int argc, char** argv) try {
  const uint64_t empties = argc > 1 ? std::strtoull(argv[1], nullptr, 10) : 1'000'000;
  const uint64_t tensors = empties + kWeights;
  spdlog::set_level(spdlog::level::warn);
  const std::string dir = std::getenv("TMPDIR") ? std::getenv("TMPDIR") : "/tmp";
  const std::string input_path = dir + "/bench_tiny_tensors." + std::to_string(::getpid());
  const std::string output_path = input_path + ".fp8";
  write_input(input_path, empties);

  StageTimer timer;
  const qfp8::SafetensorsFile input(input_path);
  const Stage parse = timer.stop();
  timer = StageTimer();
  const qfp8::ConversionPlan plan = qfp8::make_conversion_plan(input.header(), {}, input_path);
  const Stage planning = timer.stop();
  const auto backend = qfp8::make_cpu_backend(0);
  qfp8::OutputOptions options;
  options.overwrite = true;
  timer = StageTimer();
  qfp8::convert_to_file(input, plan, *backend, output_path, options, nullptr);
  const Stage convert = timer.stop();
  const bool right = output_is_right(output_path, empties);
  timer = StageTimer();
  const bool verified = qfp8::verify::verify_file(output_path, {}).passed();
  const Stage verify = timer.stop();
  std::remove(input_path.c_str());
  std::remove(output_path.c_str());
  if (!right || !verified) {
    std::fprintf(stderr, "validation failed: the output %s\n",
                 right ? "does not pass verify" : "misses tensors or holds wrong bytes");
    return 1;
  }
  std::printf("validated: %llu tensors converted, 4 layers of 448 x 1/448, verify passes\n",
              static_cast<unsigned long long>(tensors));
  report("parse", tensors, parse);
  report("plan", tensors, planning);
  report("convert", tensors, convert);
  report("verify", tensors + kWeights * 2, verify);
  report("total", tensors, {parse.wall + planning.wall + convert.wall,
                           parse.cpu + planning.cpu + convert.cpu});
  return 0;
} catch (const std::exception& error) {
  std::fprintf(stderr, "bench_tiny_tensors: %s\n", error.what());
  return 1;
}
