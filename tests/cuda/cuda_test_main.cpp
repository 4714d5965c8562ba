// cuda_test_main.cpp — Catch2 main of the GPU tests: without a usable CUDA device it exits
// 77, which CTest reports as skipped (never as passed).
#define CATCH_CONFIG_RUNNER
#include <catch2/catch.hpp>
#include <cstdio>

#include "cuda_backend.hpp"

int main(int argc, char** argv) {
  if (qfp8::cuda_usable_device_count() == 0) {
    std::printf("no CUDA device: GPU tests skipped\n");
    return 77;
  }
  return Catch::Session().run(argc, argv);
}
