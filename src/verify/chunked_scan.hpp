// chunked_scan.hpp — runs a per-chunk function over [0, numel) on a few threads with a
// FIXED chunking (independent of the thread count), so per-chunk partial results combined
// in chunk order give the same doubles whatever --threads says, and whatever number of
// threads the system lets it start (the calling thread scans too, so none is needed).
#pragma once

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <functional>
#include <thread>
#include <vector>

#include "core/cpu_count.hpp"
#include "core/thread_start.hpp"

namespace qfp8::verify {

// 64 Ki elements: large enough that thread hand-off is negligible, small enough that a
// 3072x3072 layer still splits into 144 chunks for the workers to share.
inline constexpr uint64_t kScanChunk = uint64_t{1} << 16;

/// Number of worker threads for a request (0 = the CPUs this process may use).
inline unsigned resolve_threads(unsigned requested) { return resolve_thread_count(requested); }

/// What scan_chunks_with_state returns: the chunks' partial results in chunk order, and the
/// state of each worker (those that got no chunk keep their initial one).
template <typename Partial, typename State>
struct ChunkScan {
  std::vector<Partial> partials;
  std::vector<State> states;
};

/// A scan's slabs: `chunks` chunks each (0: the whole range in one), `done` told [begin, end)
/// of what a slab covered once every chunk of it is scanned. The caller drops the slab's
/// mapped pages there, so that a scan holds one slab of a tensor, not the whole tensor (a
/// 1 GB layer would otherwise stay resident until its end). A slab of a few MiB takes
/// milliseconds; starting its threads, microseconds.
struct Slabs {
  uint64_t chunks = 0;
  std::function<void(uint64_t begin, uint64_t end)> done;
};

/// Calls scan(state, begin, end) for every chunk, `state` being the calling worker's own
/// (each a copy of `initial`, made before any thread starts, so that the scans need not
/// allocate): for totals whose order of addition does not matter (integer counts), kept
/// across a worker's chunks instead of per chunk. Which chunks a worker gets varies from run
/// to run, so combine the states only order-independently. `scan` must not throw and must only
/// read shared state. The chunks go slab by slab (`slabs`). `starter` creates the helper
/// threads (empty: std::thread); those the system refuses are left out, with a warning.
template <typename Partial, typename State, typename Scan>
ChunkScan<Partial, State> scan_chunks_with_state(uint64_t numel, unsigned threads,
                                                 const State& initial, Scan scan,
                                                 const Slabs& slabs = {},
                                                 const ThreadStarter& starter = {}) {
  const uint64_t chunk_count = (numel + kScanChunk - 1) / kScanChunk;
  const uint64_t slab_chunks = slabs.chunks == 0 ? chunk_count : slabs.chunks;
  const unsigned workers =
      static_cast<unsigned>(std::min<uint64_t>(resolve_threads(threads), chunk_count));
  ChunkScan<Partial, State> result;
  result.partials.resize(static_cast<std::size_t>(chunk_count));
  result.states.assign(std::max(workers, 1u), initial);
  bool warned = false;
  for (uint64_t first = 0; first < chunk_count; first += slab_chunks) {
    const uint64_t last = std::min(chunk_count, first + slab_chunks);
    std::atomic<uint64_t> next{first};
    auto worker = [&](unsigned index) {
      State& state = result.states[index];
      for (uint64_t chunk = next++; chunk < last; chunk = next++) {
        const uint64_t begin = chunk * kScanChunk;
        result.partials[static_cast<std::size_t>(chunk)] =
            scan(state, begin, std::min(numel, begin + kScanChunk));
      }
    };
    const unsigned helpers = static_cast<unsigned>(std::min<uint64_t>(workers, last - first));
    std::vector<std::thread> pool;
    try {
      const unsigned extra = helpers > 1 ? helpers - 1 : 0;
      const StartedThreads started =
          start_threads(pool, extra, [&](unsigned i) { worker(i + 1); }, starter);
      if (started.started < extra && !warned) {
        warn_fewer_threads("the scans", started.started + 1, helpers, started.failure);
        warned = true;
      }
    } catch (...) {  // not a refused thread (that is no error): the started ones finish alone
      for (auto& thread : pool) thread.join();
      throw;
    }
    worker(0);
    for (auto& thread : pool) thread.join();
    if (slabs.done) slabs.done(first * kScanChunk, std::min(numel, last * kScanChunk));
  }
  return result;
}

/// Calls scan(begin, end) for every chunk and returns the partial results in chunk order
/// (scan_chunks_with_state without a state).
template <typename Partial, typename Scan>
std::vector<Partial> scan_chunks(uint64_t numel, unsigned threads, Scan scan,
                                 const Slabs& slabs = {}, const ThreadStarter& starter = {}) {
  struct NoState {};
  return scan_chunks_with_state<Partial, NoState>(
             numel, threads, NoState{},
             [&scan](NoState&, uint64_t begin, uint64_t end) { return scan(begin, end); },
             slabs, starter)
      .partials;
}

}  // namespace qfp8::verify
