#!/usr/bin/env bash
# install-deps.sh — installs what qfp8-cuda needs to build and test, when missing.
# Idempotent and non-interactive. Debian packages for the C++ side; PyPI for the Python
# test oracles (the reference `safetensors` reader, numpy, ml_dtypes).
set -euo pipefail

# strace: the test that the output is fsynced before a name leads to it reads its trace.
# dpkg-dev: dpkg-shlibdeps, which computes the .deb's Depends (cpack; docs/install.md).
debian_packages=(cmake g++ make nlohmann-json3-dev libcxxopts-dev libspdlog-dev catch2
                 python3 python3-pip time strace dpkg-dev)
# python3-venv: the fresh venv that scripts/wheel-tests.sh installs the pip wheel into.
debian_packages+=(python3-venv)
# --fuzz: clang and its runtime libraries (libFuzzer, sanitizers) for scripts/fuzz.sh.
# --windows: the MinGW-w64 cross compiler (posix threads: std::thread) and Wine to run its
# .exe files, for scripts/windows-tests.sh.
for flag in "$@"; do
  case "$flag" in
    --fuzz) debian_packages+=(clang libclang-rt-dev) ;;
    --windows) debian_packages+=(g++-mingw-w64-x86-64-posix wine64) ;;
    *) echo "install-deps: unknown flag $flag (--fuzz, --windows)" >&2; exit 1 ;;
  esac
done
missing=()
for package in "${debian_packages[@]}"; do
  dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" ||
    missing+=("$package")
done
if [ ${#missing[@]} -gt 0 ]; then
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  echo "install-deps: apt-get install ${missing[*]}"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

python_modules=(safetensors numpy ml_dtypes)
missing_py=()
for module in "${python_modules[@]}"; do
  python3 -c "import ${module}" 2>/dev/null || missing_py+=("$module")
done
if [ ${#missing_py[@]} -gt 0 ]; then
  echo "install-deps: pip install ${missing_py[*]}"
  python3 -m pip install --quiet "${missing_py[@]}" 2>/dev/null ||
    python3 -m pip install --quiet --break-system-packages "${missing_py[@]}"
fi
