#!/usr/bin/env bash
# windows-tests.sh — builds the Windows x64 .exe (cross-compiled with MinGW-w64, preset
# `windows`) and tests it under Wine (docs/windows.md):
#   1. qfp8-cuda.exe imports nothing but Windows system DLLs (one file to ship);
#   2. the unit suite, qfp8_tests.exe (the test files that need POSIX processes are left
#      out of the Windows build: tests/CMakeLists.txt);
#   3. selftest --device cpu;
#   4. every output of scripts/e2e-hashes.sh (synth, convert with each option that changes
#      bytes, shards, batch, dequantize, inspect/verify text) has the Linux build's SHA-256;
#   5. paths with non-ASCII characters, and one longer than MAX_PATH (260), convert and
#      verify, with the same SHA-256 as on Linux; an existing output is refused, --force
#      replaces it; Ctrl-C during a conversion removes its .partial and .lock files;
#   6. the zip (cpack) holds a qfp8-cuda.exe that runs;
#   7. the Windows wheel (pip, ComfyUI portable), packed from this build: pip installs it for
#      win_amd64 and the qfp8-cuda.exe it installs converts to the Linux build's bytes.
# The Linux binary compared with: QFP8_LINUX_BUILD (a build folder with src/qfp8-cuda),
# else that of the preset scripts/test.sh uses (only that target is built here, when out
# of date).
# Usage: scripts/windows-tests.sh
set -euo pipefail
cd "$(dirname "$0")/.."
# Wine maps Unix file names to Windows ones through the locale's encoding: in the C locale
# the non-ASCII paths of step 5 come out mangled ("Invalid name"), whatever the caller uses.
export LC_ALL=C.UTF-8
started=$(date +%s)
fail() { echo "windows-tests: FAIL: $*" >&2; exit 1; }

bash scripts/install-deps.sh --windows

build=build/windows
cmake --preset windows >/dev/null
cmake --build --preset windows > "$build/build.log" 2>&1 || { tail -40 "$build/build.log"; fail "build"; }
exe="$PWD/$build/src/qfp8-cuda.exe"
tests_exe="$PWD/$build/tests/qfp8_tests.exe"
echo "windows-tests: built in $(( $(date +%s) - started )) s"

# 1. No DLL to ship: only DLLs every Windows has.
imports=$(x86_64-w64-mingw32-objdump -p "$exe" | sed -n 's/^\s*DLL Name: //p')
echo "windows-tests: qfp8-cuda.exe imports: $(echo $imports)"
for dll in $imports; do
  case "${dll,,}" in
    kernel32.dll|msvcrt.dll|shell32.dll|advapi32.dll|user32.dll|ws2_32.dll|bcrypt.dll|ntdll.dll) ;;
    *) fail "qfp8-cuda.exe needs $dll, which Windows does not have" ;;
  esac
done

# Wine: its own prefix (its C: drive and registry) inside the build folder; no debug noise.
wine=$(command -v wine64 || echo /usr/lib/wine/wine64)
export WINEPREFIX="$PWD/$build/wine-prefix" WINEDEBUG=-all
if [ ! -f "$WINEPREFIX/system.reg" ]; then
  "$wine" wineboot --init >/dev/null 2>&1
  echo "windows-tests: Wine prefix made ($(( $(date +%s) - started )) s)"
fi

# 2. The unit suite. -w NoAssertions: a test case that checks nothing fails.
(cd "$build/tests" && "$wine" "$tests_exe" -w NoAssertions) > "$build/unit.log" 2>&1 ||
  { tail -40 "$build/unit.log"; fail "unit suite"; }
echo "windows-tests: unit suite: $(grep -E '^(All tests passed|test cases:)' "$build/unit.log")"

# 3. The backend checks and the pipeline check, in the Windows process.
"$wine" "$exe" selftest --device cpu > "$build/selftest.log" 2>&1 ||
  { cat "$build/selftest.log"; fail "selftest"; }
grep -q '^selftest: PASS' "$build/selftest.log" || fail "selftest did not pass"
echo "windows-tests: selftest --device cpu: PASS"

# 4. The same outputs as the Linux build, byte for byte. Windows writes text on stdout with
# CRLF line ends (its text mode): the text outputs are compared without the CRs.
if [ -n "${QFP8_LINUX_BUILD:-}" ]; then
  linux_build=$QFP8_LINUX_BUILD
else
  # The preset scripts/test.sh builds next (ci with nvcc, else cpu-only): the objects made
  # here for qfp8-cuda are the ones it needs, so CI builds them once.
  preset=cpu-only
  if command -v nvcc >/dev/null 2>&1 || [ -x /usr/local/cuda/bin/nvcc ]; then preset=ci; fi
  export PATH="$PATH:/usr/local/cuda/bin"
  linux_build=build/$preset
  [ -f "$linux_build/CMakeCache.txt" ] || cmake --preset "$preset" >/dev/null
fi
cmake --build "$linux_build" -j2 --target qfp8-cuda >/dev/null
linux_exe="$PWD/$linux_build/src/qfp8-cuda"
work="$PWD/$build/e2e"
rm -rf "$work"
mkdir -p "$work"
wrapper="$work/qfp8-cuda-wine"
cat > "$wrapper" <<EOF
#!/usr/bin/env bash
set -o pipefail
"$wine" "$exe" "\$@" 2>&1 | tr -d '\r'
EOF
chmod +x "$wrapper"
bash scripts/e2e-hashes.sh "$linux_exe" "$work/linux" > "$work/linux.txt" 2>/dev/null
bash scripts/e2e-hashes.sh "$wrapper" "$work/windows" > "$work/windows.txt" 2>/dev/null
diff "$work/linux.txt" "$work/windows.txt" || fail "outputs differ from the Linux build's"
echo "windows-tests: e2e-hashes: $(wc -l < "$work/linux.txt") outputs identical to Linux"

# 5. Non-ASCII and long paths (UTF-8 on the command line -> UTF-16 at the Windows API).
name='modèle-测试'
dir="$work/unicode/$name"
long="$work/long/$(printf 'répertoire-%02d/' $(seq 1 20))"   # > 260 characters
mkdir -p "$dir" "$long"
[ "${#long}" -gt 260 ] || fail "the long path is only ${#long} characters"
run_pair() {  # run_pair OUTPUT_DIR: synth, convert and verify there, Windows and Linux
  local at=$1
  "$wine" "$exe" synth --model qwen-image --blocks 2 --width-div 8 --seed 3 -q "$at/$name.safetensors" >/dev/null
  "$wine" "$exe" convert -i "$at/$name.safetensors" -o "$at/$name-fp8.safetensors" -q
  "$wine" "$exe" verify "$at/$name-fp8.safetensors" --against "$at/$name.safetensors" -q \
    >/dev/null || fail "verify in $at"
  "$linux_exe" synth --model qwen-image --blocks 2 --width-div 8 --seed 3 -q "$at/linux.safetensors" >/dev/null
  "$linux_exe" convert -i "$at/linux.safetensors" -o "$at/linux-fp8.safetensors" -q
  [ "$(sha256sum < "$at/$name-fp8.safetensors")" = "$(sha256sum < "$at/linux-fp8.safetensors")" ] ||
    fail "the output in $at differs from Linux's"
}
run_pair "$dir"
run_pair "$long"
# No clobbering: an existing output is refused (exit 2 as on Linux: OutputExists), --force
# replaces it atomically.
status=0
"$wine" "$exe" convert -i "$dir/$name.safetensors" -o "$dir/$name-fp8.safetensors" -q 2>/dev/null ||
  status=$?
expected=0
"$linux_exe" convert -i "$dir/linux.safetensors" -o "$dir/linux-fp8.safetensors" -q 2>/dev/null ||
  expected=$?
[ "$status" -ne 0 ] && [ "$status" = "$expected" ] ||
  fail "an existing output: exit $status, Linux exits $expected"
"$wine" "$exe" convert -i "$dir/$name.safetensors" -o "$dir/$name-fp8.safetensors" -q --force ||
  fail "--force"
[ -z "$(find "$work/unicode" "$work/long" -name '*.partial' -o -name '*.lock')" ] ||
  fail "a .partial or .lock file was left behind"
echo "windows-tests: non-ASCII and ${#long}-character paths: converted, verified, same SHA-256 as Linux"

# Ctrl-C (Wine delivers SIGINT to a console program as CTRL_C_EVENT) during a conversion:
# the .partial and .lock files go, no output appears, the exit status is not 0. A 1 GB
# input keeps the conversion running for seconds after its .partial appears.
"$wine" "$exe" synth --model qwen-image --blocks 6 --width-div 2 --seed 3 -q "$dir/big.safetensors" >/dev/null
"$wine" "$exe" convert -i "$dir/big.safetensors" -o "$dir/big-fp8.safetensors" -q --threads 1 --verify &
converter=$!
for _ in $(seq 100); do [ -e "$dir/big-fp8.safetensors.partial" ] && break; sleep 0.1; done
[ -e "$dir/big-fp8.safetensors.partial" ] || fail "no .partial while converting"
kill -INT "$converter"
status=0
wait "$converter" || status=$?
sleep 0.5
[ "$status" -ne 0 ] || fail "an interrupted conversion exited 0"
[ -z "$(find "$dir" -name 'big-fp8*' -o -name '.big-fp8*')" ] ||
  fail "an interrupted conversion left $(find "$dir" -name 'big-fp8*' -o -name '.big-fp8*')"
rm -f "$dir/big.safetensors"
echo "windows-tests: Ctrl-C during a conversion: exit $status, no output, .partial and .lock removed"

# 6. The zip users download (cpack, ZIP generator): its stripped .exe runs.
rm -f "$build"/qfp8-cuda-*.zip
(cd "$build" && cpack >/dev/null)
zip_file=$(ls "$PWD/$build"/qfp8-cuda-*-windows-x86_64-cpu.zip)
rm -rf "$work/zip"
python3 -m zipfile -e "$zip_file" "$work/zip"
"$wine" "$work"/zip/*/bin/qfp8-cuda.exe --version | grep -q '^qfp8-cuda ' || fail "the zip's .exe"
echo "windows-tests: $(basename "$zip_file"): its qfp8-cuda.exe runs"

# 7. The Windows wheel, packed by scikit-build-core from this build folder (no recompile:
# it holds the .exe tested above). pip installs it as it would on Windows (win_amd64).
bash scripts/build-wheels.sh --windows --no-linux --windows-build-dir "$build" \
    --out "$build/dist" >/dev/null
wheel=$(ls "$PWD/$build"/dist/qfp8_cuda-*-py3-none-win_amd64.whl)
rm -rf "$work/pip-target"
python3 -m pip install --quiet --root-user-action=ignore --no-deps --no-index --platform win_amd64 --only-binary=:all: \
    --target "$work/pip-target" "$wheel"
installed=$(find "$work/pip-target" -name qfp8-cuda.exe)
[ -n "$installed" ] || fail "pip installed no qfp8-cuda.exe from $(basename "$wheel")"
"$wine" "$installed" convert -i "$dir/$name.safetensors" -o "$work/wheel-fp8.safetensors" -q
[ "$(sha256sum < "$work/wheel-fp8.safetensors")" = "$(sha256sum < "$dir/linux-fp8.safetensors")" ] ||
  fail "the wheel's qfp8-cuda.exe converts to other bytes than Linux"
echo "windows-tests: $(basename "$wheel"): pip installs it, its qfp8-cuda.exe converts to Linux's bytes"

echo "windows-tests: PASS in $(( $(date +%s) - started )) s"
