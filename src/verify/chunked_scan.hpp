// chunked_scan.hpp — runs a per-chunk function over [0, numel) on a few threads with a
// FIXED chunking (independent of the thread count), so per-chunk partial results combined
// in chunk order give the same doubles whatever --threads says.
#pragma once

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <thread>
#include <vector>

namespace qfp8::verify {

// 64 Ki elements: large enough that thread hand-off is negligible, small enough that a
// 3072x3072 layer still splits into 144 chunks for the workers to share.
inline constexpr uint64_t kScanChunk = uint64_t{1} << 16;

/// Number of worker threads for a request (0 = hardware concurrency, at least 1).
inline unsigned resolve_threads(unsigned requested) {
  if (requested != 0) return requested;
  return std::max(1u, std::thread::hardware_concurrency());
}

/// Calls scan(begin, end) for every chunk and returns the partial results in chunk order.
/// `scan` must not throw and must only read shared state.
template <typename Partial, typename Scan>
std::vector<Partial> scan_chunks(uint64_t numel, unsigned threads, Scan scan) {
  const uint64_t chunk_count = (numel + kScanChunk - 1) / kScanChunk;
  std::vector<Partial> partials(static_cast<std::size_t>(chunk_count));
  std::atomic<uint64_t> next{0};
  auto worker = [&]() {
    for (uint64_t chunk = next++; chunk < chunk_count; chunk = next++) {
      const uint64_t begin = chunk * kScanChunk;
      partials[static_cast<std::size_t>(chunk)] = scan(begin, std::min(numel, begin + kScanChunk));
    }
  };
  const unsigned helpers =
      static_cast<unsigned>(std::min<uint64_t>(resolve_threads(threads), chunk_count));
  std::vector<std::thread> pool;
  for (unsigned i = 1; i < helpers; ++i) pool.emplace_back(worker);
  worker();
  for (auto& thread : pool) thread.join();
  return partials;
}

}  // namespace qfp8::verify
