// test_read_ahead.cpp — ReadAhead's pacing: it reads the spans in order, in 2 MiB steps,
// never starting a step a window or more past what the scan has finished, queues 8 MiB past
// each step across tensor boundaries, moves on when told, and stops promptly when destroyed
// while it waits.
#include <catch2/catch.hpp>

#include <chrono>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "safetensors/read_ahead.hpp"
#include "support/fp8_file_builder.hpp"

using namespace qfp8;
using namespace qfp8::test;

namespace {

constexpr uint64_t kMiB = uint64_t{1} << 20;

struct Step {
  std::string tensor;
  uint64_t offset;
  uint64_t length;
  bool operator==(const Step& other) const {
    return tensor == other.tensor && offset == other.offset && length == other.length;
  }
};

std::ostream& operator<<(std::ostream& out, const Step& step) {
  return out << step.tensor << "@" << step.offset / kMiB << "MiB+" << step.length / kMiB << "MiB";
}

/// The steps a ReadAhead has taken, as its read step reports them.
class StepLog {
 public:
  /// Records each step as `tag` followed by the tensor's name.
  ReadAhead::ReadStep recorder(const std::string& tag = "") {
    return [this, tag](const ReadAhead::Span& span, uint64_t offset, uint64_t length) {
      const std::lock_guard<std::mutex> lock(mutex_);
      steps_.push_back({tag + span.tensor->name, offset, length});
    };
  }
  std::vector<Step> steps() {
    const std::lock_guard<std::mutex> lock(mutex_);
    return steps_;
  }
  /// Waits (up to 10 s) for `count` steps, then long enough for a wrong extra one to show.
  std::vector<Step> settle_at(std::size_t count) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (steps().size() < count && std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    return steps();
  }

 private:
  std::mutex mutex_;
  std::vector<Step> steps_;
};

TensorBlob bytes_tensor(const std::string& name, uint64_t size) {
  TensorBlob blob;
  blob.name = name;
  blob.shape = {size};
  blob.data.assign(size, 0x5A);
  return blob;
}

/// Tensors "a", "b" and "c" of 5, 3 and 6 MiB, in that order.
FileImage abc_image() {
  FileImage image;
  image.tensors.push_back(bytes_tensor("a", 5 * kMiB));
  image.tensors.push_back(bytes_tensor("b", 3 * kMiB));
  image.tensors.push_back(bytes_tensor("c", 6 * kMiB));
  return image;
}

std::vector<ReadAhead::Span> abc_spans(const SafetensorsFile& file) {
  std::vector<ReadAhead::Span> spans;
  for (const char* name : {"a", "b", "c"}) spans.push_back({&file, file.find(name)});
  return spans;
}

}  // namespace

TEST_CASE("read-ahead stays within its window of the finished spans", "[safetensors]") {
  const SafetensorsFile file(write_image(temp_path("read_ahead_window.safetensors"), abc_image()));
  const std::vector<ReadAhead::Span> spans = abc_spans(file);

  StepLog log;
  ReadAhead read_ahead(spans, 4 * kMiB, log.recorder());
  // Nothing finished: steps start at 0 and 2 MiB; the one at 4 MiB would start at the window.
  const std::vector<Step> first = {{"a", 0, 2 * kMiB}, {"a", 2 * kMiB, 2 * kMiB}};
  CHECK(log.settle_at(2) == first);

  // "a" (5 MiB) finished: the window ends at 9 MiB; "c" starts at 8 MiB, its second step at 10.
  read_ahead.done(1);
  std::vector<Step> second = first;
  second.push_back({"a", 4 * kMiB, 1 * kMiB});
  second.push_back({"b", 0, 2 * kMiB});
  second.push_back({"b", 2 * kMiB, 1 * kMiB});
  second.push_back({"c", 0, 2 * kMiB});
  CHECK(log.settle_at(6) == second);

  // Everything finished: the rest, and no step past the end.
  read_ahead.done(3);
  std::vector<Step> all = second;
  all.push_back({"c", 2 * kMiB, 2 * kMiB});
  all.push_back({"c", 4 * kMiB, 2 * kMiB});
  CHECK(log.settle_at(8) == all);
}

TEST_CASE("read-ahead stops when destroyed while it waits for the window", "[safetensors]") {
  FileImage image;
  image.tensors.push_back(bytes_tensor("a", 3 * kMiB));
  const SafetensorsFile file(write_image(temp_path("read_ahead_stop.safetensors"), image));
  StepLog log;
  const auto start = std::chrono::steady_clock::now();
  {
    // A window of 0: even the first step waits for done(), which never comes.
    ReadAhead read_ahead({{&file, file.find("a")}}, 0, log.recorder());
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  CHECK(log.steps().empty());
  CHECK(std::chrono::steady_clock::now() - start < std::chrono::seconds(5));
}

TEST_CASE("read-ahead queues 8 MiB past each step, across the spans' boundaries",
          "[safetensors]") {
  const SafetensorsFile file(write_image(temp_path("read_ahead_queue.safetensors"), abc_image()));
  const std::vector<ReadAhead::Span> spans = abc_spans(file);

  StepLog log;
  ReadAhead read_ahead(spans, 64 * kMiB, log.recorder("read "), log.recorder("queue "));
  // Spans at 0, 5 and 8 MiB of 14. Each step first queues up to 8 MiB past its own end
  // (what is not queued yet), then reads: the first step reaches into "b" and "c".
  const std::vector<Step> expected = {
      {"queue a", 0, 5 * kMiB},        {"queue b", 0, 3 * kMiB},
      {"queue c", 0, 2 * kMiB},        {"read a", 0, 2 * kMiB},
      {"queue c", 2 * kMiB, 2 * kMiB}, {"read a", 2 * kMiB, 2 * kMiB},
      {"queue c", 4 * kMiB, 1 * kMiB}, {"read a", 4 * kMiB, 1 * kMiB},
      {"queue c", 5 * kMiB, 1 * kMiB}, {"read b", 0, 2 * kMiB},
      {"read b", 2 * kMiB, 1 * kMiB},  {"read c", 0, 2 * kMiB},
      {"read c", 2 * kMiB, 2 * kMiB},  {"read c", 4 * kMiB, 2 * kMiB}};
  CHECK(log.settle_at(expected.size()) == expected);
}
