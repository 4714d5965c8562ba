// test_background_sink.cpp — BackgroundWriteSink: the target receives exactly the bytes of
// the same calls made directly (pieces larger than a slot, zero-byte writes, overwrites of
// queued bytes), the first error a queued write throws reaches the caller and nothing after
// it reaches the target, a refused thread means direct calls, and an abandoned sink stops.
#include <catch2/catch.hpp>

#include <cstdint>
#include <functional>
#include <random>
#include <string>
#include <system_error>
#include <thread>
#include <vector>

#include "core/error.hpp"
#include "safetensors/background_sink.hpp"
#include "safetensors/byte_sink.hpp"

namespace {

using qfp8::BackgroundWriteSink;
using qfp8::ByteSink;
using qfp8::MemorySink;

// One call of a scripted sequence: an append, or an overwrite of bytes already appended.
struct Call {
  bool at_offset = false;
  uint64_t offset = 0;
  std::vector<uint8_t> bytes;
};

// Appends of sizes around the slot size (0, 1, slot - 1, slot, slot + 1, 2.5 slots) and
// overwrites of earlier bytes, some of which are still queued when they are overwritten.
std::vector<Call> scripted_calls(uint32_t seed) {
  std::mt19937 random(seed);
  const uint64_t slot = BackgroundWriteSink::kSlotBytes;
  const uint64_t sizes[] = {0, 1, 7, slot - 1, slot, slot + 1, slot * 5 / 2, 4096};
  std::vector<Call> calls;
  uint64_t written = 0;
  for (int i = 0; i < 40; ++i) {
    Call call;
    const uint64_t size = sizes[random() % (sizeof sizes / sizeof sizes[0])];
    if (written > 16 && random() % 3 == 0) {
      call.at_offset = true;
      call.offset = random() % (written - 16);
      call.bytes.resize(1 + random() % 16);
    } else {
      call.bytes.resize(size);
      written += size;
    }
    for (auto& byte : call.bytes) byte = static_cast<uint8_t>(random());
    calls.push_back(std::move(call));
  }
  return calls;
}

void play(const std::vector<Call>& calls, ByteSink& sink) {
  for (const Call& call : calls) {
    if (call.at_offset) {
      sink.write_at(call.offset, call.bytes.data(), call.bytes.size());
    } else {
      sink.write(call.bytes.data(), call.bytes.size());
    }
  }
  sink.commit();
}

// Records every call it receives, and throws WriteFailed from the `fail_at`-th (1-based).
class FailingSink final : public ByteSink {
 public:
  explicit FailingSink(int fail_at) : fail_at_(fail_at) {}
  void write(const void*, uint64_t) override { count(); }
  void write_at(uint64_t, const void*, uint64_t) override { count(); }
  void commit() override { committed = true; }
  int calls = 0;
  bool committed = false;

 private:
  void count() {
    if (++calls == fail_at_) {
      throw qfp8::Error(qfp8::ErrorCode::WriteFailed, "out.safetensors", "",
                        "cannot write: No space left on device");
    }
  }
  int fail_at_;
};

std::thread refuse_thread(std::function<void()>) {
  throw std::system_error(std::make_error_code(std::errc::resource_unavailable_try_again));
}

}  // namespace

TEST_CASE("background sink: the target gets the bytes of the same calls made directly",
          "[safetensors][background_sink]") {
  for (uint32_t seed = 1; seed <= 4; ++seed) {
    const std::vector<Call> calls = scripted_calls(seed);
    MemorySink direct;
    play(calls, direct);
    MemorySink target;
    {
      BackgroundWriteSink background(target);
      play(calls, background);
    }
    INFO("seed " << seed);
    CHECK(target.committed());
    CHECK(target.bytes() == direct.bytes());
  }
}

TEST_CASE("background sink: a refused thread means direct calls, same bytes",
          "[safetensors][background_sink]") {
  const std::vector<Call> calls = scripted_calls(9);
  MemorySink direct;
  play(calls, direct);
  MemorySink target;
  BackgroundWriteSink background(target, refuse_thread);
  play(calls, background);
  CHECK(target.committed());
  CHECK(target.bytes() == direct.bytes());
}

TEST_CASE("background sink: a failed write reaches the caller, nothing after it the target",
          "[safetensors][background_sink]") {
  FailingSink target(3);
  BackgroundWriteSink background(target);
  const std::vector<uint8_t> piece(1000, 0x5A);
  bool thrown = false;
  try {
    // Many more calls than the queue holds: one of them, or the commit, must throw.
    for (int i = 0; i < 100; ++i) background.write(piece.data(), piece.size());
    background.commit();
  } catch (const qfp8::Error& error) {
    thrown = true;
    CHECK(error.code() == qfp8::ErrorCode::WriteFailed);
    CHECK(std::string(error.what()).find("No space left on device") != std::string::npos);
  }
  CHECK(thrown);
  // Once failed, every later call throws too, and the target is never committed.
  CHECK_THROWS_AS(background.commit(), qfp8::Error);
  CHECK_THROWS_AS(background.write(piece.data(), piece.size()), qfp8::Error);
  CHECK_FALSE(target.committed);
  CHECK(target.calls == 3);
}

TEST_CASE("background sink: abandoned with writes queued, it stops without committing",
          "[safetensors][background_sink]") {
  MemorySink target;
  {
    BackgroundWriteSink background(target);
    const std::vector<uint8_t> piece(BackgroundWriteSink::kSlotBytes, 0x11);
    for (int i = 0; i < 6; ++i) background.write(piece.data(), piece.size());
  }
  CHECK_FALSE(target.committed());
  CHECK(target.bytes().size() <= 6 * BackgroundWriteSink::kSlotBytes);
}
