// format_recorder.hpp — a QuantizedConsumer that keeps what a backend delivers for jobs of
// any format: the per-tensor scale, the data bytes in order and the blocked scales, checking
// that the scales come once, after all the data (backends/backend.hpp).
#pragma once

#include <catch2/catch.hpp>

#include <cstdint>
#include <vector>

#include "backends/backend.hpp"

namespace qfp8::test {

class FormatRecorder : public QuantizedConsumer {
 public:
  struct Delivered {
    float scale = -1.0f;
    std::vector<uint8_t> data;
    std::vector<uint8_t> scales;
    int block_scale_calls = 0;
    bool ended = false;
  };

  void begin_tensor(std::size_t job, float scale) override {
    REQUIRE(job == results.size());
    if (!results.empty()) REQUIRE(results.back().ended);
    results.push_back({});
    results.back().scale = scale;
  }
  void tensor_bytes(std::size_t job, const uint8_t* data, uint64_t count) override {
    REQUIRE(job + 1 == results.size());
    REQUIRE(results.back().block_scale_calls == 0);  // scales come after all the data
    results.back().data.insert(results.back().data.end(), data, data + count);
  }
  void block_scales(std::size_t job, const uint8_t* codes, uint64_t count) override {
    REQUIRE(job + 1 == results.size());
    ++results.back().block_scale_calls;
    results.back().scales.assign(codes, codes + count);
  }
  void end_tensor(std::size_t job) override {
    REQUIRE(job + 1 == results.size());
    results.back().ended = true;
  }

  std::vector<Delivered> results;
};

}  // namespace qfp8::test
