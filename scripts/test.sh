#!/usr/bin/env bash
# test.sh — the README's test command: installs what is missing, builds (with the CUDA
# backend whenever nvcc is present, warnings as errors) and runs the whole test suite.
# GPU tests report "skipped" without a GPU (no device, or no driver), and fail on a broken
# one (a driver too old for the runtime). `--sanitizers` also builds and runs
# the suite under ASan + UBSan (CPU-only build).
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/install-deps.sh

preset=ci
if ! command -v nvcc >/dev/null 2>&1 && [ ! -x /usr/local/cuda/bin/nvcc ]; then
  echo "test.sh: no nvcc on this machine: building the CPU-only binary"
  preset=cpu-only
fi
export PATH="$PATH:/usr/local/cuda/bin"
cmake --workflow --preset "$preset" 2>&1 | grep -v '^\[ *[0-9]*%\] Building' || exit 1

if [ "${1:-}" = "--sanitizers" ]; then
  cmake --workflow --preset sanitizers 2>&1 | grep -v '^\[ *[0-9]*%\] Building' || exit 1
fi
