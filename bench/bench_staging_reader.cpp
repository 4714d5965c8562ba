// bench_staging_reader.cpp — how fast StagingReader threads copy a memory-mapped input into
// staging slots: the host's share of every CUDA upload, measured without a GPU. The input
// file (written once, so the page cache is warm as for a second conversion) is mapped
// afresh for each run, as convert maps its input, so page faults are paid as convert pays
// them. The "transfer" is free (WaitSlotFree returns at once), so the figure is the ceiling
// the readers put on `convert --device cuda` whatever the PCIe link.
//   bench_staging_reader [MiB=1024] [max_threads=4] [slot_MiB=32]
// Prints GB/s per thread count (median of 3 runs); each run checks that every chunk holds
// its source bytes (first and last byte: a full compare would cost as much as the copy).
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "backends/cuda/staging_reader.hpp"
#include "safetensors/mapped_file.hpp"

namespace {

constexpr uint64_t kMiB = uint64_t{1} << 20;
// Jobs the size of a large Qwen-Image Linear weight ([3072, 12288] BF16 is 72 MiB).
constexpr uint64_t kJobBytes = 72 * kMiB;

std::string write_input(uint64_t bytes) {
  const char* dir = std::getenv("TMPDIR");
  std::string path = std::string(dir != nullptr && *dir != '\0' ? dir : "/tmp") +
                     "/bench_staging_reader." + std::to_string(::getpid());
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
  if (fd < 0) throw std::runtime_error("cannot create " + path);
  std::vector<uint8_t> block(kMiB);
  for (uint64_t done = 0; done < bytes; done += block.size()) {
    for (std::size_t i = 0; i < block.size(); ++i) {
      block[i] = static_cast<uint8_t>((done + i) * 2654435761u >> 13);
    }
    const auto size = static_cast<std::size_t>(std::min<uint64_t>(block.size(), bytes - done));
    if (::write(fd, block.data(), size) != static_cast<ssize_t>(size)) {
      ::close(fd);
      throw std::runtime_error("cannot write " + path);
    }
  }
  ::close(fd);
  return path;
}

// Removes the input file however main() ends.
struct RemovedAtExit {
  std::string path;
  ~RemovedAtExit() {
    if (!path.empty()) ::unlink(path.c_str());
  }
};

// One run: every chunk taken in order and released at once. Returns seconds.
double run_once(const std::string& path, unsigned threads, uint64_t slot_bytes) {
  const qfp8::MappedFile input(path);
  std::vector<qfp8::QuantizeJob> jobs;
  for (uint64_t offset = 0; offset < input.size(); offset += kJobBytes) {
    const uint64_t bytes = std::min(kJobBytes, input.size() - offset) / 2 * 2;
    jobs.push_back({"t" + std::to_string(jobs.size()), qfp8::Dtype::BF16, input.data() + offset,
                    bytes / 2});
  }
  std::vector<std::vector<uint8_t>> storage(threads + 1, std::vector<uint8_t>(slot_bytes, 1));
  std::vector<uint8_t*> slots;
  for (auto& slot : storage) slots.push_back(slot.data());

  const auto start = std::chrono::steady_clock::now();
  qfp8::StagingReader reader(slots, slot_bytes, jobs, [](std::size_t) {}, threads);
  while (const auto chunk = reader.take()) {
    const uint8_t* source = jobs[chunk->job].source + chunk->offset;
    const uint8_t* staged = slots[chunk->slot];
    if (staged[0] != source[0] || staged[chunk->size - 1] != source[chunk->size - 1]) {
      throw std::runtime_error("a staged chunk differs from its source");
    }
    reader.release(chunk->slot);
  }
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

}  // namespace

int main(int argc, char** argv) {
  const uint64_t mib = argc > 1 ? std::strtoull(argv[1], nullptr, 10) : 1024;
  const unsigned max_threads = argc > 2 ? static_cast<unsigned>(std::atoi(argv[2])) : 4;
  const uint64_t slot_bytes = (argc > 3 ? std::strtoull(argv[3], nullptr, 10) : 32) * kMiB;
  if (mib == 0 || max_threads == 0 || slot_bytes == 0) {
    std::fprintf(stderr, "usage: bench_staging_reader [MiB=1024] [max_threads=4] [slot_MiB=32]\n");
    return 1;
  }
  try {
    RemovedAtExit input;
    input.path = write_input(mib * kMiB);
    const std::string& path = input.path;
    std::printf("staging reader: %llu MiB mapped input (page cache warm), %llu MiB slots, "
                "%u hardware threads\n",
                static_cast<unsigned long long>(mib),
                static_cast<unsigned long long>(slot_bytes / kMiB),
                std::thread::hardware_concurrency());
    for (unsigned threads = 1; threads <= max_threads; ++threads) {
      std::vector<double> seconds;
      for (int run = 0; run < 3; ++run) seconds.push_back(run_once(path, threads, slot_bytes));
      std::sort(seconds.begin(), seconds.end());
      std::printf("%u reader thread(s): %6.2f GB/s (median of 3; %.3f-%.3f s)\n", threads,
                  static_cast<double>(mib * kMiB) / 1e9 / seconds[1], seconds[0], seconds[2]);
    }
  } catch (const std::exception& error) {
    std::fprintf(stderr, "bench_staging_reader: %s\n", error.what());
    return 1;
  }
  return 0;
}
