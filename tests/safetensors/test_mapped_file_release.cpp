// test_mapped_file_release.cpp — what MappedFile::release and release_around take out of
// the process's resident set, measured in /proc/self/smaps for the mapping itself: release
// drops at least the whole pages inside the range, release_around at least the range
// widened to fault_granule() boundaries (what one read fault may have mapped with it).
// "At least": where the kernel mapped a 2 MiB folio with one page-table entry, dropping
// part of it drops all of it.
#include <catch2/catch.hpp>

#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>

#include "safetensors/mapped_file.hpp"
#include "support/safetensors_bytes.hpp"

namespace {

constexpr uint64_t kMiB = uint64_t{1} << 20;

/// Rss of the mapping that starts at `start`, in bytes, from /proc/self/smaps.
uint64_t mapping_rss_bytes(const void* start) {
  char address[32];
  std::snprintf(address, sizeof address, "%lx-", reinterpret_cast<unsigned long>(start));
  std::ifstream smaps("/proc/self/smaps");
  std::string line;
  bool inside = false;
  while (std::getline(smaps, line)) {
    if (line.find('-') != std::string::npos && line.find(' ') > line.find('-') &&
        line.find(':') > line.find(' ')) {
      inside = line.rfind(address, 0) == 0;  // a mapping's first line starts "begin-end "
      continue;
    }
    if (inside && line.rfind("Rss:", 0) == 0) {
      std::istringstream fields(line.substr(4));
      uint64_t kib = 0;
      fields >> kib;
      return kib * 1024;
    }
  }
  FAIL("mapping not found in /proc/self/smaps");
  return 0;
}

/// Reads one byte per page so that every page of the mapping is resident.
void touch_all(const qfp8::MappedFile& file) {
  const auto page = static_cast<uint64_t>(::sysconf(_SC_PAGESIZE));
  volatile uint8_t sink = 0;
  for (uint64_t offset = 0; offset < file.size(); offset += page) sink ^= file.data()[offset];
  (void)sink;
}

}  // namespace

TEST_CASE("release drops the whole pages inside the range, release_around its granules",
          "[safetensors]") {
  const uint64_t granule = qfp8::MappedFile::fault_granule();
  const auto page = static_cast<uint64_t>(::sysconf(_SC_PAGESIZE));
  REQUIRE(granule >= page);
  REQUIRE(granule % page == 0);
  // Four granules of data: room for a range with whole granules on both sides.
  const uint64_t size = 4 * granule;
  if (size > 512 * kMiB) {
    WARN("fault granule of " << granule << " bytes: file too large for this test");
    return;
  }
  const std::string path = qfp8::test::temp_path("release.bin");
  qfp8::test::write_file(path, qfp8::test::Bytes(size, 0x5A));
  const qfp8::MappedFile file(path);
  touch_all(file);
  const uint64_t all = mapping_rss_bytes(file.data());
  REQUIRE(all == size);

  SECTION("release: only the pages wholly inside") {
    // From one byte into page 1 to one byte into page 4: pages 2 and 3 are inside.
    file.release(page + 1, 3 * page);
    CHECK(mapping_rss_bytes(file.data()) <= size - 2 * page);
  }
  SECTION("release_around: the granules the range touches") {
    // A few bytes just past the first granule boundary: that granule goes, nothing else.
    file.release_around(granule + 10, 100);
    CHECK(mapping_rss_bytes(file.data()) <= size - granule);
    // A range straddling the boundary between granules 2 and 3 takes both.
    touch_all(file);
    file.release_around(3 * granule - 8, 16);
    CHECK(mapping_rss_bytes(file.data()) <= size - 2 * granule);
  }
  SECTION("release_around past the end of the file stops at the mapping's end") {
    file.release_around(size - 1, 1000);
    CHECK(mapping_rss_bytes(file.data()) <= size - granule);
    touch_all(file);
    file.release_around(0, size);
    CHECK(mapping_rss_bytes(file.data()) == 0);
  }
  CHECK(file.data()[size - 1] == 0x5A);  // released pages read back from the page cache
  qfp8::test::remove_path(path);
}
