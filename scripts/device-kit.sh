#!/usr/bin/env bash
# device-kit.sh — packs what scripts/gpu-checks.sh needs on a GPU machine that has the CUDA
# toolkit but none of our -dev packages and no network: the binaries of the `ci` preset
# (CUDA backend for sm_75..sm_90 + PTX, Release, tests, the kernel, staging-reader and
# writer benchmarks),
# the shared libraries they link that a bare CUDA image lacks (spdlog, fmt), and GNU time
# for bench/run_benchmarks.sh. Build here, carry `build/device-kit` (~30 MB) with the call.
#
# usage: scripts/device-kit.sh        (then: run gpu-checks.sh there, see its header)
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$PATH:/usr/local/cuda/bin"
command -v nvcc >/dev/null || { echo "device-kit: nvcc not found" >&2; exit 1; }

bash scripts/install-deps.sh
cmake --preset ci > /dev/null
cmake --build --preset ci 2>&1 | grep -v '^\[ *[0-9]*%\] Building' || exit 1

kit=build/device-kit
rm -rf "$kit"
mkdir -p "$kit/lib"
cp build/ci/src/qfp8-cuda build/ci/tests/qfp8_cuda_tests build/ci/bench/bench_cuda_kernels \
   build/ci/bench/bench_staging_reader build/ci/bench/bench_writer "$kit/"
cp /usr/bin/time "$kit/time"
# The libraries the binaries resolve outside glibc, libstdc++ and the CUDA driver.
for binary in "$kit/qfp8-cuda" "$kit/qfp8_cuda_tests"; do
  ldd "$binary" | awk '/libspdlog|libfmt/ { print $3 }'
done | sort -u | while read -r library; do cp -L "$library" "$kit/lib/"; done
git rev-parse --short HEAD > "$kit/commit"
if [ -n "$(git status --porcelain)" ]; then echo "(with uncommitted changes)" >> "$kit/commit"; fi
du -sh "$kit"
ls -l "$kit" "$kit/lib"
