// test_auto_device.cpp — --device auto's choice between a usable GPU and the CPU
// (backends/auto_device.hpp), against figures worked by hand from its documented costs:
// 1.2 GB/s of input per CPU thread, 0.4 s for the GPU to start, 6 GB/s of input where the
// disk becomes the limit.
#include <catch2/catch.hpp>

#include <string>

#include "backends/auto_device.hpp"

using qfp8::choose_auto_device;

TEST_CASE("auto device: the CPU when its threads outrun the disk", "[backends]") {
  // 5 threads: 6.0 GB/s, the disk-bound rate; any model size, unknown included.
  for (const uint64_t bytes : {uint64_t{0}, uint64_t{12} << 20, uint64_t{41} * 1000000000}) {
    const auto choice = choose_auto_device(5, bytes);
    CHECK_FALSE(choice.cuda);
    CHECK(choice.why.find("5 thread(s) cast about 6.0 GB/s, as fast as a disk") == 0);
  }
  CHECK_FALSE(choose_auto_device(16, uint64_t{41} * 1000000000).cuda);
  // 4 threads: 4.8 GB/s, below it.
  CHECK(choose_auto_device(4, 0).cuda);
}

TEST_CASE("auto device: the CPU for a model the GPU's start would not pay for",
          "[backends]") {
  // 2 threads, 2.4 GB/s: the CPU's cost beyond the disk is B / 2.4e9 - B / 6e9 = B / 4e9 s,
  // which reaches the 0.4 s start at B = 1.6 GB.
  const auto small = choose_auto_device(2, 12000000);
  CHECK_FALSE(small.cuda);
  CHECK(small.why == "2 thread(s) cast about 2.4 GB/s: a 0.01 GB model costs them about 0.00 s "
                     "more than the disk, less than the GPU's start (about 0.4 s)");
  CHECK_FALSE(choose_auto_device(2, 1500000000).cuda);
  const auto large = choose_auto_device(2, 40000000000);
  CHECK(large.cuda);
  CHECK(large.why == "2 thread(s) cast about 2.4 GB/s: a 40.00 GB model costs them about 10.0 s "
                     "more than the disk, more than the GPU's start (about 0.4 s)");
  CHECK(choose_auto_device(2, 1700000000).cuda);
  // 4 threads, 4.8 GB/s: B / 4.8e9 - B / 6e9 = B / 24e9 s; 0.4 s at B = 9.6 GB.
  CHECK_FALSE(choose_auto_device(4, 9500000000).cuda);
  CHECK(choose_auto_device(4, 9700000000).cuda);
  // 0 threads counts as one.
  CHECK(choose_auto_device(0, 0).why.find("1 thread(s) cast about 1.2 GB/s") == 0);
}
