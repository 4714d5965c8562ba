// recording_consumer.hpp — a QuantizedConsumer that keeps everything a backend delivers and
// notes every breach of the consumer protocol of backends/backend.hpp (jobs strictly in
// order, begin before bytes, source reads contiguous). Used by `selftest` to compare a
// backend with the reference twins, and by the backend tests, which turn a breach into a
// test failure through `on_protocol_error`.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <stdexcept>
#include <string>
#include <vector>

#include "backends/backend.hpp"

namespace qfp8::selftest {

class RecordingConsumer : public QuantizedConsumer {
 public:
  struct Result {
    bool begun = false;
    bool ended = false;
    float scale = 0.0f;
    std::vector<uint8_t> bytes;
    std::vector<uint8_t> block_scales;  // block formats: the blocked scales, delivered once
    std::vector<uint64_t> chunk_sizes;
    uint64_t source_read = 0;       // bytes reported read, contiguous from 0
    uint64_t next_read_at_end = 0;  // the next job's source_read when this one ended
  };

  explicit RecordingConsumer(std::size_t jobs) : results(jobs) {}

  void begin_tensor(std::size_t job, float scale) override {
    expect(job < results.size() && job == next_ && !results[job].begun,
           "begin_tensor out of order");
    if (job >= results.size()) return;
    results[job].begun = true;
    results[job].scale = scale;
  }
  void tensor_bytes(std::size_t job, const uint8_t* fp8, uint64_t count) override {
    expect(job < results.size() && job == next_ && results[job].begun,
           "tensor_bytes out of order");
    if (job >= results.size()) return;
    results[job].bytes.insert(results[job].bytes.end(), fp8, fp8 + count);
    results[job].chunk_sizes.push_back(count);
    if (on_tensor_bytes) on_tensor_bytes(job);
  }
  void block_scales(std::size_t job, const uint8_t* codes, uint64_t count) override {
    expect(job < results.size() && job == next_ && results[job].begun &&
               results[job].block_scales.empty(),
           "block_scales out of order");
    if (job >= results.size()) return;
    results[job].block_scales.assign(codes, codes + count);
  }
  void end_tensor(std::size_t job) override {
    expect(job < results.size() && job == next_ && results[job].begun, "end_tensor out of order");
    if (job >= results.size()) return;
    results[job].ended = true;
    if (job + 1 < results.size()) results[job].next_read_at_end = results[job + 1].source_read;
    next_ = job + 1;
    if (throw_after_job == job) throw std::runtime_error("consumer gave up");
  }
  void source_read(std::size_t job, uint64_t offset, uint64_t length) override {
    // The CPU backend reads every source twice (absmax pass, cast pass), and says so.
    if (!single_pass_reads) return;
    // The upload of a tensor may run ahead by one: while the previous one is delivered.
    expect(job < results.size() && job <= next_ + 1, "source_read of a job out of order");
    if (job >= results.size()) return;
    expect(offset == results[job].source_read && length > 0, "source_read not contiguous");
    results[job].source_read += length;
  }

  std::vector<Result> results;
  std::vector<std::string> protocol_errors;
  std::size_t throw_after_job = SIZE_MAX;  // tests: the consumer fails after this job
  bool single_pass_reads = false;          // check that each source byte is read once
  std::function<void(std::size_t job)> on_tensor_bytes;          // after each chunk
  std::function<void(const std::string& breach)> on_protocol_error;  // tests: fail at once

 private:
  void expect(bool holds, const char* breach) {
    if (holds) return;
    protocol_errors.emplace_back(breach);
    if (on_protocol_error) on_protocol_error(breach);
  }

  std::size_t next_ = 0;
};

}  // namespace qfp8::selftest
