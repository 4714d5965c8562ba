// bench_writer.cpp — how fast an output reaches the disk, by three ways of writing it: the
// converter's writer (AtomicFileSink: one thread, sequential pwrite, writeback started every
// 64 MiB, fsync and rename), several threads each writing every k-th 8 MiB chunk at its
// offset (the whole layout is known before the first byte, so this is open to the
// converter), and O_DIRECT from 1 and 4 threads (page cache bypassed; aligned 8 MiB writes).
// Each file is read back and compared with what was written before its time counts; every
// time is from open to a completed fsync, so it includes what the disk still owed.
//
// usage: bench_writer [MiB=2048] [directory=.] [rounds=3]
// Linux only (O_DIRECT, sync_file_range).
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <memory>
#include <random>
#include <string>
#include <system_error>
#include <thread>
#include <vector>

#include "core/error.hpp"
#include "platform/output_file.hpp"
#include "safetensors/byte_sink.hpp"

namespace {

constexpr uint64_t kChunk = uint64_t{8} << 20;     // the size of one write
constexpr uint64_t kPattern = uint64_t{64} << 20;  // source bytes, reused chunk after chunk
constexpr uint64_t kWritebackStep = uint64_t{64} << 20;

struct AlignedFree {
  void operator()(uint8_t* p) const { std::free(p); }
};
using Buffer = std::unique_ptr<uint8_t, AlignedFree>;

/// The bytes of chunk `c`: a window of the pattern that moves with c, so that no two
/// neighbouring chunks are equal and a misplaced one shows in the check.
const uint8_t* chunk_bytes(const uint8_t* pattern, uint64_t c) {
  return pattern + (c * 4096) % (kPattern - kChunk);
}

[[noreturn]] void fail(const std::string& what) {
  std::fprintf(stderr, "bench_writer: %s: %s\n", what.c_str(), std::strerror(errno));
  std::exit(3);
}

/// A failed platform call ends the benchmark with its reason.
void check(const std::error_code& error, const char* what) {
  if (!error) return;
  std::fprintf(stderr, "bench_writer: %s: %s\n", what, error.message().c_str());
  std::exit(3);
}

/// The converter's own calls (src/platform/output_file.hpp) on a descriptor opened here.
void pwrite_all(int fd, const uint8_t* data, uint64_t size, uint64_t offset) {
  check(qfp8::platform::write_all_at(fd, offset, data, size), "pwrite");
}

void fsync_all(int fd) { check(qfp8::platform::sync_file(fd), "fsync"); }

/// The converter's writer: AtomicFileSink, chunk after chunk, then commit (fsync, rename).
void write_with_sink(const std::string& path, const uint8_t* pattern, uint64_t chunks) {
  qfp8::AtomicFileSink sink(path);
  for (uint64_t c = 0; c < chunks; ++c) sink.write(chunk_bytes(pattern, c), kChunk);
  sink.commit();
}

/// `threads` threads, thread t writing chunks t, t + threads, ... at their offsets, each
/// starting writeback of its own bytes every 64 MiB it has written; one fsync at the end.
void write_with_threads(const std::string& path, const uint8_t* pattern, uint64_t chunks,
                        unsigned threads) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) fail("open " + path);
  if (::ftruncate(fd, static_cast<off_t>(chunks * kChunk)) != 0) fail("ftruncate");
  std::vector<std::thread> workers;
  for (unsigned t = 0; t < threads; ++t) {
    workers.emplace_back([=] {
      uint64_t unsynced = 0;
      for (uint64_t c = t; c < chunks; c += threads) {
        pwrite_all(fd, chunk_bytes(pattern, c), kChunk, c * kChunk);
        unsynced += kChunk;
        if (unsynced >= kWritebackStep) {
          qfp8::platform::start_writeback(fd, c * kChunk, kChunk);
          unsynced = 0;
        }
      }
    });
  }
  for (auto& worker : workers) worker.join();
  fsync_all(fd);
  ::close(fd);
}

/// Whether the file system under `directory` takes O_DIRECT (tmpfs, for one, does not).
bool direct_io_works(const std::string& directory) {
  const std::string probe = directory + "/bench_writer.probe";
  const int fd = ::open(probe.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_DIRECT, 0644);
  if (fd >= 0) ::close(fd);
  std::remove(probe.c_str());
  return fd >= 0;
}

/// O_DIRECT from `threads` threads (thread t: chunks t, t + threads, ...): each chunk copied
/// into an aligned buffer (the converter's chunks come from wherever the cast put them) and
/// written past the page cache, `threads` writes in flight.
void write_direct(const std::string& path, const uint8_t* pattern, uint64_t chunks,
                  unsigned threads) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_DIRECT, 0644);
  if (fd < 0) fail("open with O_DIRECT " + path);
  std::vector<std::thread> workers;
  for (unsigned t = 0; t < threads; ++t) {
    workers.emplace_back([=] {
      Buffer aligned(static_cast<uint8_t*>(std::aligned_alloc(4096, kChunk)));
      if (!aligned) fail("aligned_alloc");
      for (uint64_t c = t; c < chunks; c += threads) {
        std::memcpy(aligned.get(), chunk_bytes(pattern, c), kChunk);
        pwrite_all(fd, aligned.get(), kChunk, c * kChunk);
      }
    });
  }
  for (auto& worker : workers) worker.join();
  fsync_all(fd);
  ::close(fd);
}

/// True when the file holds exactly the chunks written.
bool holds_the_chunks(const std::string& path, const uint8_t* pattern, uint64_t chunks) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) fail("open " + path);
  std::vector<uint8_t> back(kChunk);
  bool same = ::lseek(fd, 0, SEEK_END) == static_cast<off_t>(chunks * kChunk);
  for (uint64_t c = 0; same && c < chunks; ++c) {
    same = ::pread(fd, back.data(), kChunk, static_cast<off_t>(c * kChunk)) ==
               static_cast<ssize_t>(kChunk) &&
           std::memcmp(back.data(), chunk_bytes(pattern, c), kChunk) == 0;
  }
  ::close(fd);
  return same;
}

double seconds_of(const std::function<void()>& work) {
  const auto start = std::chrono::steady_clock::now();
  work();
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

struct Way {
  std::string name;
  std::function<void(const std::string&)> write;
  std::vector<double> seconds;
};

}  // namespace

int main(int argc, char** argv) {
  const uint64_t mib = argc > 1 ? std::strtoull(argv[1], nullptr, 10) : 2048;
  const std::string directory = argc > 2 ? argv[2] : ".";
  const int rounds = argc > 3 ? std::atoi(argv[3]) : 3;
  const uint64_t chunks = std::max<uint64_t>(1, (mib << 20) / kChunk);
  Buffer pattern(static_cast<uint8_t*>(std::aligned_alloc(4096, kPattern)));
  if (!pattern) fail("aligned_alloc");
  std::mt19937_64 random(5);
  for (uint64_t i = 0; i < kPattern; i += 8) {
    const uint64_t word = random();
    std::memcpy(pattern.get() + i, &word, 8);
  }
  const uint8_t* source = pattern.get();
  const std::string path = directory + "/bench_writer.out";
  std::vector<Way> ways;
  ways.push_back({"sequential (the converter's writer)",
                  [&](const std::string& p) { write_with_sink(p, source, chunks); }, {}});
  for (const unsigned threads : {2u, 4u}) {
    ways.push_back({std::to_string(threads) + " threads at their offsets",
                    [&, threads](const std::string& p) {
                      write_with_threads(p, source, chunks, threads);
                    },
                    {}});
  }
  if (direct_io_works(directory)) {
    for (const unsigned threads : {1u, 4u}) {
      ways.push_back({"O_DIRECT, " + std::to_string(threads) + " thread(s)",
                      [&, threads](const std::string& p) {
                        write_direct(p, source, chunks, threads);
                      },
                      {}});
    }
  } else {
    std::printf("O_DIRECT: not taken by the file system under %s; left out\n",
                directory.c_str());
  }
  try {
    // Validate every way once, untimed; then the rounds, the ways alternating.
    for (auto& way : ways) {
      way.write(path);
      if (!holds_the_chunks(path, source, chunks)) {
        std::printf("FAIL: %s wrote other bytes; not timing\n", way.name.c_str());
        return 2;
      }
      std::remove(path.c_str());
    }
    for (int round = 0; round < rounds; ++round) {
      for (auto& way : ways) {
        ::sync();
        way.seconds.push_back(seconds_of([&] { way.write(path); }));
        std::remove(path.c_str());
      }
    }
  } catch (const qfp8::Error& error) {
    std::fprintf(stderr, "bench_writer: %s\n", error.what());
    return 3;
  }
  std::printf("writer: %llu MiB to %s in 8 MiB writes, open to fsync, median of %d "
              "(alternating); validated first\n",
              static_cast<unsigned long long>(chunks * 8), directory.c_str(), rounds);
  const double bytes = static_cast<double>(chunks * kChunk);
  double baseline = 0;
  for (auto& way : ways) {
    std::sort(way.seconds.begin(), way.seconds.end());
    const double median = way.seconds[way.seconds.size() / 2];
    if (baseline == 0) baseline = median;
    std::printf("%-36s %6.2f GB/s  %6.3f s (%.3f-%.3f)  %.2fx the sequential time\n",
                way.name.c_str(), bytes / median / 1e9, median, way.seconds.front(),
                way.seconds.back(), median / baseline);
  }
  return 0;
}
