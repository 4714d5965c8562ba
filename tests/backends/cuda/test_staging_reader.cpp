// test_staging_reader.cpp — the CUDA backend's staging threads, run on the CPU with a fake
// transfer, with one reader thread and several: every byte of every job arrives once, in
// order, in bounded chunks; a slot is refilled only after its wait-for-free, by one thread
// at a time; several threads really work at once; chunks of a later job can be taken early
// without blocking; errors of a thread reach the caller; stopping half-way never hangs;
// threads the system refuses leave fewer readers (none at all: ThreadStartFailed).
#include <catch2/catch.hpp>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <condition_variable>
#include <cstring>
#include <functional>
#include <memory>
#include <mutex>
#include <random>
#include <stdexcept>
#include <string>
#include <system_error>
#include <thread>
#include <vector>

#include "backends/cuda/staging_reader.hpp"
#include "core/error.hpp"
#include "support/forked_check.hpp"
#include "support/refused_threads.hpp"

using qfp8::Dtype;
using qfp8::QuantizeJob;
using qfp8::StagedChunk;
using qfp8::StagingReader;
using qfp8::test::refuse_after;

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

/// Takes up to `count` chunks into `held`, appending their bytes to `received`; false once
/// the reader has no chunk left.
bool take_some(StagingReader& reader, const Ring& ring, std::size_t count,
               std::vector<StagedChunk>& held, std::vector<std::vector<uint8_t>>& received) {
  while (held.size() < count) {
    const auto chunk = reader.take();
    if (!chunk) return false;
    const uint8_t* data = ring.slots[chunk->slot];
    received[chunk->job].insert(received[chunk->job].end(), data, data + chunk->size);
    held.push_back(*chunk);
  }
  return true;
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
  // Once job 0's chunk is filled (it is first in order), asking for job 1 gives nothing,
  // without blocking.
  for (int tries = 0; tries < 10000 && reader.totals().bytes < 16; ++tries) {
    std::this_thread::sleep_for(std::chrono::microseconds(100));
  }
  REQUIRE(reader.totals().bytes >= 16);
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

TEST_CASE("staging reader: a caller may hold every slot and release them in any order",
          "[staging]") {
  const Sources sources = make_sources({1000, 0, 333});  // 2666 bytes: 42 chunks of 64
  for (const unsigned threads : {1u, 2u, 4u}) {
    INFO(threads << " reader thread(s)");
    Ring ring(4, 64);
    StagingReader reader(ring.slots, 64, sources.jobs, [](std::size_t) {}, threads);
    std::vector<std::vector<uint8_t>> received(sources.jobs.size());
    bool more = true;
    while (more) {
      std::vector<StagedChunk> held;  // up to all 4 slots, then released last-first
      more = take_some(reader, ring, 4, held, received);
      for (auto chunk = held.rbegin(); chunk != held.rend(); ++chunk) reader.release(chunk->slot);
    }
    for (std::size_t j = 0; j < sources.jobs.size(); ++j) CHECK(received[j] == sources.bytes[j]);
  }
}

TEST_CASE("staging reader refuses a take() that would wait for a slot the caller holds",
          "[staging]") {
  const Sources sources = make_sources({24});  // 48 bytes: 3 chunks of 16 in 2 slots
  Ring ring(2, 16);
  StagingReader reader(ring.slots, 16, sources.jobs, [](std::size_t) {}, 2);
  const auto first = reader.take();
  const auto second = reader.take();
  REQUIRE(first);
  REQUIRE(second);
  // Chunk 2 goes to slot 0, still taken: waiting would be forever.
  CHECK_THROWS_AS(reader.take(), qfp8::Error);
  CHECK_FALSE(reader.try_take(0).has_value());
  reader.release(first->slot);
  const auto third = reader.take();
  REQUIRE(third);
  CHECK(third->offset == 32);
  CHECK(std::memcmp(ring.slots[third->slot], sources.bytes[0].data() + 32, 16) == 0);
}

TEST_CASE("staging reader: bad arguments are errors, and nothing to stage ends at once",
          "[staging]") {
  const Sources sources = make_sources({8});
  Ring ring(2, 16);
  const auto no_wait = [](std::size_t) {};
  CHECK_THROWS_AS(StagingReader({}, 16, sources.jobs, no_wait), qfp8::Error);
  CHECK_THROWS_AS(StagingReader(ring.slots, 0, sources.jobs, no_wait), qfp8::Error);
  CHECK_THROWS_AS(StagingReader(ring.slots, 16, sources.jobs, nullptr), qfp8::Error);
  for (const std::vector<uint64_t>& numels : {std::vector<uint64_t>{}, {0, 0}}) {
    const Sources empty = make_sources(numels);
    StagingReader reader(ring.slots, 16, empty.jobs, no_wait, 2);
    CHECK_FALSE(reader.take().has_value());
    CHECK_FALSE(reader.take().has_value());
    CHECK(reader.totals().bytes == 0);
  }
}

TEST_CASE("staging reader stays right under random rings and callers with failures", "[staging]") {
  // Each round: 1-5 slots of 1-40 bytes, 1-5 threads, up to 6 jobs (some empty or of a
  // dtype not staged), a caller holding 1..slots chunks at a time and releasing them in a
  // random order, a WaitSlotFree that sometimes sleeps and sometimes fails, and sometimes
  // an early stop. Counted on the reader threads, checked here (Catch is not thread-safe).
  for (int round = 0; round < 300; ++round) {
    INFO("round " << round);
    std::mt19937 random(static_cast<unsigned>(round));  // a round's set-up depends on it alone
    const auto uniform = [&](int low, int high) {
      return std::uniform_int_distribution<int>(low, high)(random);
    };
    const auto slot_count = static_cast<std::size_t>(uniform(1, 5));
    const auto slot_bytes = static_cast<uint64_t>(uniform(1, 40));
    std::vector<uint64_t> numels;
    for (int job = uniform(0, 6); job > 0; --job) {
      numels.push_back(static_cast<uint64_t>(uniform(0, 60)));
    }
    Sources sources = make_sources(numels);
    if (!sources.jobs.empty() && uniform(0, 3) == 0) sources.jobs[0].dtype = Dtype::I32;
    const int failing_wait = uniform(0, 3) == 0 ? uniform(1, 8) : -1;  // the n-th wait throws
    const int stop_after = uniform(0, 2) == 0 ? uniform(0, 20) : -1;   // chunks, then destroy
    Ring ring(slot_count, slot_bytes);
    std::mutex mutex;
    std::vector<int> released(slot_count, 0);
    std::vector<int> waited(slot_count, 0);
    std::vector<int> waiting(slot_count, 0);
    int waits = 0;
    int broken_rules = 0;
    std::vector<std::vector<uint8_t>> received(sources.jobs.size());
    bool failed = false;
    {
      StagingReader reader(
          ring.slots, slot_bytes, sources.jobs,
          [&](std::size_t slot) {
            bool sleep = false;
            {
              const std::lock_guard<std::mutex> lock(mutex);
              if (waiting[slot]++ > 0 || waited[slot] >= released[slot]) ++broken_rules;
              if (++waits == failing_wait) {
                --waiting[slot];
                throw std::runtime_error("transfer failed");
              }
              sleep = waits % 3 == 0;
            }
            if (sleep) std::this_thread::sleep_for(std::chrono::microseconds(50));
            const std::lock_guard<std::mutex> lock(mutex);
            --waiting[slot];
            ++waited[slot];
          },
          static_cast<unsigned>(uniform(1, 5)));
      int taken = 0;
      try {
        bool more = true;
        while (more && taken != stop_after) {
          std::vector<StagedChunk> held;
          int hold = uniform(1, static_cast<int>(slot_count));
          if (stop_after >= 0) hold = std::min(hold, stop_after - taken);
          more = take_some(reader, ring, static_cast<std::size_t>(hold), held, received);
          taken += static_cast<int>(held.size());
          std::shuffle(held.begin(), held.end(), random);
          for (const StagedChunk& chunk : held) {
            {
              const std::lock_guard<std::mutex> lock(mutex);
              ++released[chunk.slot];
            }
            reader.release(chunk.slot);
          }
        }
      } catch (const std::runtime_error& error) {
        failed = true;
        CHECK(std::string(error.what()) == "transfer failed");
      }
    }  // the destructor returns, whatever state the round left
    const std::lock_guard<std::mutex> lock(mutex);
    CHECK(broken_rules == 0);
    // A failed wait was for a chunk the caller goes on to need: its take() throws.
    if (stop_after < 0) CHECK(failed == (failing_wait > 0 && waits >= failing_wait));
    if (failed || stop_after >= 0) continue;  // a partial run: nothing more to compare
    uint64_t chunks = 0;
    for (std::size_t j = 0; j < sources.jobs.size(); ++j) {
      const uint64_t staged = qfp8::staged_bytes(sources.jobs[j]);
      chunks += (staged + slot_bytes - 1) / slot_bytes;
      CHECK(received[j] == (staged > 0 ? sources.bytes[j] : std::vector<uint8_t>{}));
    }
    // Every refill, and only a refill, waited for its slot.
    CHECK(static_cast<uint64_t>(waits) == (chunks > slot_count ? chunks - slot_count : 0));
  }
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

namespace {

// In a child (no Catch there): 4 readers asked, `allowed` granted; every byte must arrive.
// 0 = right, else which check failed.
int stage_with_refused_threads(unsigned allowed) {
  const Sources sources = make_sources({3000, 0, 777, 5000});
  Ring ring(4, 256);
  StagingReader reader(ring.slots, 256, sources.jobs, [](std::size_t) {}, 4,
                       refuse_after(allowed));
  if (reader.totals().threads != allowed) return 1;
  std::vector<std::vector<uint8_t>> received(sources.jobs.size());
  while (const auto chunk = reader.take()) {
    const uint8_t* data = ring.slots[chunk->slot];
    received[chunk->job].insert(received[chunk->job].end(), data, data + chunk->size);
    reader.release(chunk->slot);
  }
  for (std::size_t j = 0; j < sources.jobs.size(); ++j) {
    if (received[j] != sources.bytes[j]) return 2;
  }
  return 0;
}

}  // namespace

TEST_CASE("staging reader: refused threads leave fewer readers that stage every byte",
          "[staging][threads]") {
  for (const unsigned allowed : {1u, 2u, 3u}) {
    INFO(allowed << " of 4 readers allowed");
    CHECK(qfp8::test::run_forked([allowed] { return stage_with_refused_threads(allowed); }, 5) ==
          0);
  }
}

TEST_CASE("staging reader: no reader thread at all is ThreadStartFailed, exit 3",
          "[staging][threads]") {
  // In a child with a time bound: a wrong error path may hang.
  const int status = qfp8::test::run_forked(
      [] {
        const Sources sources = make_sources({3000});
        Ring ring(2, 256);
        try {
          StagingReader reader(ring.slots, 256, sources.jobs, [](std::size_t) {}, 2,
                               refuse_after(0));
        } catch (const qfp8::Error& error) {
          const std::string text = error.what();
          const bool named = text.find("cannot start a staging reader thread") == 0;
          return error.code() == qfp8::ErrorCode::ThreadStartFailed &&
                         qfp8::exit_code_for(error.code()) == 3 && named
                     ? 0
                     : 1;
        }
        return 2;  // no error at all
      },
      5);
  CHECK(status == 0);
}
