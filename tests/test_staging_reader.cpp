// test_staging_reader.cpp — the CUDA backend's staging threads, run on the CPU with a fake
// transfer, with one reader thread and several: every byte of every job arrives once, in
// order, in bounded chunks; a slot is refilled only after its wait-for-free, by one thread
// at a time; several threads really work at once; chunks of a later job can be taken early
// without blocking; errors of a thread reach the caller; stopping half-way never hangs.
#include <catch2/catch.hpp>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstring>
#include <mutex>
#include <random>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "convert/staging_reader.hpp"
#include "core/error.hpp"

using qfp8::Dtype;
using qfp8::QuantizeJob;
using qfp8::StagedChunk;
using qfp8::StagingReader;

namespace {

struct Sources {
  std::vector<std::vector<uint8_t>> bytes;
  std::vector<QuantizeJob> jobs;
};

// BF16 jobs of the given element counts, each byte a function of (job, position).
Sources make_sources(const std::vector<uint64_t>& numels) {
  Sources sources;
  sources.bytes.reserve(numels.size());
  for (std::size_t j = 0; j < numels.size(); ++j) {
    std::vector<uint8_t> bytes(numels[j] * 2);
    for (std::size_t i = 0; i < bytes.size(); ++i) bytes[i] = static_cast<uint8_t>(i * 7 + j * 31);
    sources.bytes.push_back(std::move(bytes));
  }
  for (std::size_t j = 0; j < numels.size(); ++j) {
    sources.jobs.push_back({"t" + std::to_string(j), Dtype::BF16, sources.bytes[j].data(), numels[j]});
  }
  return sources;
}

struct Ring {
  std::vector<std::vector<uint8_t>> storage;
  std::vector<uint8_t*> slots;
  Ring(std::size_t count, uint64_t bytes) : storage(count, std::vector<uint8_t>(bytes)) {
    for (auto& slot : storage) slots.push_back(slot.data());
  }
};

/// Takes and releases every chunk of `reader`, checking their order and bounds against
/// `sources`; returns the bytes received per job and counts the chunks in `taken`.
std::vector<std::vector<uint8_t>> take_all(StagingReader& reader, const Ring& ring,
                                           const Sources& sources, uint64_t slot_bytes,
                                           uint64_t& taken) {
  std::vector<std::vector<uint8_t>> received(sources.jobs.size());
  std::size_t expected_job = 0;
  uint64_t expected_offset = 0;
  taken = 0;
  while (const auto chunk = reader.take()) {
    while (sources.bytes[expected_job].size() == expected_offset) {  // skip done/empty jobs
      ++expected_job;
      expected_offset = 0;
    }
    REQUIRE(chunk->job == expected_job);
    REQUIRE(chunk->offset == expected_offset);
    REQUIRE(chunk->size > 0);
    REQUIRE(chunk->size <= slot_bytes);
    REQUIRE(chunk->slot == taken % ring.slots.size());  // chunk k goes to slot k % slots
    CHECK(chunk->last_of_job == (chunk->offset + chunk->size == sources.bytes[chunk->job].size()));
    const uint8_t* data = ring.slots[chunk->slot];
    received[chunk->job].insert(received[chunk->job].end(), data, data + chunk->size);
    expected_offset += chunk->size;
    ++taken;
    reader.release(chunk->slot);
  }
  return received;
}

}  // namespace

TEST_CASE("staging reader delivers every byte of every job in order", "[staging]") {
  const Sources sources = make_sources({5, 0, 1, 64, 0, 300, 17});  // includes empty jobs
  for (const uint64_t slot_bytes : {uint64_t{1}, uint64_t{7}, uint64_t{128}, uint64_t{4096}}) {
    for (const std::size_t slot_count : {std::size_t{1}, std::size_t{2}, std::size_t{4}}) {
      for (const unsigned threads : {1u, 2u, 3u, 4u}) {
        INFO("slot bytes " << slot_bytes << ", slots " << slot_count << ", threads " << threads);
        Ring ring(slot_count, slot_bytes);
        std::atomic<int> waits{0};
        StagingReader reader(
            ring.slots, slot_bytes, sources.jobs, [&](std::size_t) { waits.fetch_add(1); },
            threads);
        uint64_t taken = 0;
        const auto received = take_all(reader, ring, sources, slot_bytes, taken);
        for (std::size_t j = 0; j < sources.jobs.size(); ++j) CHECK(received[j] == sources.bytes[j]);
        // Every refill of a slot waited for it first: chunks beyond the first round.
        CHECK(static_cast<uint64_t>(waits.load()) == (taken > slot_count ? taken - slot_count : 0));
        CHECK(reader.totals().threads == std::min<std::size_t>(threads, slot_count));
      }
    }
  }
}

TEST_CASE("staging reader refills a slot only after its wait-for-free, one thread per slot",
          "[staging]") {
  const Sources sources = make_sources({4000, 3000});
  const uint64_t slot_bytes = 512;
  for (const unsigned threads : {1u, 2u, 3u}) {
    INFO(threads << " reader thread(s)");
    Ring ring(3, slot_bytes);
    // The fake transfer: a released slot's bytes are read (checked) by a "device" some time
    // later; the reader's wait for that slot blocks until then. Overwriting it early would
    // change the bytes before the check. A wait must follow the slot's release, and no two
    // threads may wait for the same slot at once. (Counted here, checked on this thread:
    // Catch's assertions are not thread-safe.)
    std::mutex mutex;
    std::vector<StagedChunk> in_flight(3);
    std::vector<int> released(3, 0);
    std::vector<int> waited(3, 0);
    std::vector<int> waiting(3, 0);
    std::mt19937 random(5);
    int mismatches = 0;
    int early_waits = 0;
    int concurrent_waits = 0;
    StagingReader reader(
        ring.slots, slot_bytes, sources.jobs,
        [&](std::size_t slot) {
          std::chrono::microseconds delay{};
          {
            const std::lock_guard<std::mutex> lock(mutex);
            if (waiting[slot]++ > 0) ++concurrent_waits;
            if (waited[slot] >= released[slot]) ++early_waits;
            delay = std::chrono::microseconds(random() % 300);
          }
          std::this_thread::sleep_for(delay);
          const std::lock_guard<std::mutex> lock(mutex);
          const StagedChunk& chunk = in_flight[slot];
          if (std::memcmp(ring.slots[slot], sources.bytes[chunk.job].data() + chunk.offset,
                          chunk.size) != 0) {
            ++mismatches;
          }
          --waiting[slot];
          ++waited[slot];
        },
        threads);
    uint64_t total = 0;
    while (const auto chunk = reader.take()) {
      {
        const std::lock_guard<std::mutex> lock(mutex);
        in_flight[chunk->slot] = *chunk;
        ++released[chunk->slot];  // before release(): the reader may wait at once
      }
      total += chunk->size;
      reader.release(chunk->slot);
    }
    CHECK(total == 14000);
    const std::lock_guard<std::mutex> lock(mutex);
    CHECK(mismatches == 0);
    CHECK(early_waits == 0);
    CHECK(concurrent_waits == 0);
    // Every refill: 16 + 12 chunks of up to 512 bytes, the first 3 into free slots.
    CHECK(waited[0] + waited[1] + waited[2] == 16 + 12 - 3);
  }
}

TEST_CASE("staging reader threads work at once", "[staging]") {
  const Sources sources = make_sources({4096});  // 8 KiB: 8 chunks of 1 KiB in 4 slots
  Ring ring(4, 1024);
  // The first refills (chunks 4 and 5, of slots 0 and 1) each wait in WaitSlotFree until
  // another thread is there too: only two threads at work can meet. One thread would wait
  // 10 s for a partner that never comes, then stop trying.
  std::mutex mutex;
  std::condition_variable arrived;
  int inside = 0;
  bool met = false;
  bool gave_up = false;
  StagingReader reader(
      ring.slots, 1024, sources.jobs,
      [&](std::size_t) {
        std::unique_lock<std::mutex> lock(mutex);
        if (met || gave_up) return;
        if (++inside == 2) met = true;
        arrived.notify_all();
        if (!arrived.wait_for(lock, std::chrono::seconds(10), [&] { return met; })) gave_up = true;
        --inside;
      },
      2);
  uint64_t taken = 0;
  while (const auto chunk = reader.take()) {
    ++taken;
    reader.release(chunk->slot);
  }
  CHECK(taken == 8);
  CHECK(reader.totals().threads == 2);
  const std::lock_guard<std::mutex> lock(mutex);
  CHECK(met);
}

TEST_CASE("staging reader: one thread's error stops the others and reaches take()", "[staging]") {
  const Sources sources = make_sources({1 << 14});  // 32 KiB: 32 chunks of 1 KiB
  Ring ring(4, 1024);
  StagingReader reader(
      ring.slots, 1024, sources.jobs,
      [](std::size_t slot) {
        if (slot == 2) throw std::runtime_error("transfer failed");
      },
      3);
  uint64_t taken = 0;
  try {
    while (const auto chunk = reader.take()) {
      ++taken;
      reader.release(chunk->slot);
    }
    FAIL("every chunk was taken");
  } catch (const std::runtime_error& error) {
    CHECK(std::string(error.what()) == "transfer failed");
  }
  CHECK(taken <= 6);  // chunk 6 (slot 2's refill) was never filled
}  // the destructor returns: the other threads saw the error and stopped

TEST_CASE("staging reader: try_take only returns filled chunks of the job asked for",
          "[staging]") {
  const Sources sources = make_sources({8, 8});  // 16 bytes per job: one chunk each
  Ring ring(2, 16);
  StagingReader reader(ring.slots, 16, sources.jobs, [](std::size_t) {});
  // Job 0's chunk is first in order, so asking for job 1 gives nothing, without blocking.
  CHECK_FALSE(reader.try_take(1).has_value());
  const auto first = reader.take();
  REQUIRE(first);
  CHECK(first->job == 0);
  std::optional<StagedChunk> second;
  for (int tries = 0; tries < 10000 && !second; ++tries) {
    second = reader.try_take(1);
    if (!second) std::this_thread::sleep_for(std::chrono::microseconds(100));
  }
  REQUIRE(second);
  CHECK(second->job == 1);
  CHECK(std::memcmp(ring.slots[second->slot], sources.bytes[1].data(), 16) == 0);
  CHECK_FALSE(reader.take().has_value());
  CHECK_FALSE(reader.try_take(1).has_value());
  CHECK_THROWS_AS(reader.release(7), qfp8::Error);  // not a slot
  reader.release(first->slot);
  CHECK_THROWS_AS(reader.release(first->slot), qfp8::Error);  // not taken any more
}

TEST_CASE("staging reader passes the thread's error on to take(), not to try_take()",
          "[staging]") {
  const Sources sources = make_sources({100});
  Ring ring(1, 16);
  StagingReader reader(ring.slots, 16, sources.jobs,
                       [](std::size_t) { throw std::runtime_error("transfer failed"); });
  const auto first = reader.take();  // the first fill needs no wait
  REQUIRE(first);
  reader.release(first->slot);
  // The error belongs to the next chunk: a peek must not cut the current tensor short.
  for (int i = 0; i < 100; ++i) CHECK_FALSE(reader.try_take(0).has_value());
  CHECK_THROWS_WITH(reader.take(), "transfer failed");
}

TEST_CASE("staging reader stages nothing of a job the backends reject", "[staging]") {
  Sources sources = make_sources({3, 5});
  const std::vector<uint8_t> ints(400, 7);
  sources.jobs.insert(sources.jobs.begin() + 1, QuantizeJob{"ints", Dtype::I32, ints.data(), 100});
  CHECK(qfp8::staged_bytes(sources.jobs[1]) == 0);
  CHECK(qfp8::staged_bytes(sources.jobs[2]) == 10);
  Ring ring(2, 64);
  StagingReader reader(ring.slots, 64, sources.jobs, [](std::size_t) {});
  std::vector<std::size_t> jobs;
  while (const auto chunk = reader.take()) {
    jobs.push_back(chunk->job);
    reader.release(chunk->slot);
  }
  CHECK(jobs == std::vector<std::size_t>{0, 2});
}

TEST_CASE("staging reader stops cleanly with chunks left untaken", "[staging]") {
  const Sources sources = make_sources({1 << 16, 1 << 16});
  Ring ring(4, 1024);
  for (int taken = 0; taken < 6; ++taken) {  // 6: chunk 5 would need slot 1, kept taken
    StagingReader reader(
        ring.slots, 1024, sources.jobs, [](std::size_t) {}, 1 + taken % 4);
    for (int i = 0; i < taken; ++i) {
      const auto chunk = reader.take();
      REQUIRE(chunk);
      if (i % 2 == 0) reader.release(chunk->slot);  // some slots stay taken
    }
  }  // each destructor returns: the threads were waiting for a slot and saw the stop
  SUCCEED("no hang");
}

TEST_CASE("staging reader totals: bytes copied, and time spent waiting for free slots",
          "[staging]") {
  const Sources sources = make_sources({3000, 0, 1000});
  Ring ring(2, 1024);
  // 8 chunks in 2 slots: 6 refills, each after a 20 ms wait for the "transfer".
  StagingReader reader(ring.slots, 1024, sources.jobs, [](std::size_t) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  });
  while (const auto chunk = reader.take()) reader.release(chunk->slot);
  const StagingReader::Totals totals = reader.totals();
  CHECK(totals.bytes == 8000);
  CHECK(totals.slot_wait_seconds >= 6 * 0.020);
  CHECK(totals.copy_seconds >= 0.0);
  CHECK(totals.copy_seconds < totals.slot_wait_seconds);
}
