#!/usr/bin/env bash
# check-packages.sh BUILD_DIR SOURCE_DIR HAVE_CUDA(ON|OFF) TMP — builds the .deb and the
# .tar.gz from the built tree with cpack (into TMP, nothing is built), then checks them as a
# user gets them: the .deb's control fields (its Depends name the package of every shared
# library the binary needs), the files both hold, and the binary each one carries, run from
# the unpacked package (never installed here): --version, then synth + convert + verify.
set -euo pipefail
build_dir=$1 source_dir=$2 have_cuda=$3 tmp=$4
fail() { echo "FAIL: $*" >&2; exit 1; }

version=$(sed -n 's/^project(qfp8-cuda VERSION \([0-9][0-9.]*\).*/\1/p' "$source_dir/CMakeLists.txt")
deb_version=$version
[ "$have_cuda" = ON ] || deb_version="$version~cpu"
rm -rf "$tmp" && mkdir -p "$tmp"
cpack --config "$build_dir/CPackConfig.cmake" -B "$tmp/out" -G "DEB;TGZ" > "$tmp/cpack.log" 2>&1 ||
  { cat "$tmp/cpack.log"; fail "cpack failed"; }
deb=$(find "$tmp/out" -maxdepth 1 -name '*.deb')
tarball=$(find "$tmp/out" -maxdepth 1 -name '*.tar.gz')
[ "$(basename "$deb")" = "qfp8-cuda_${deb_version}_$(dpkg --print-architecture).deb" ] ||
  fail "unexpected .deb name '$deb'"
[ -n "$tarball" ] || fail "no .tar.gz in $tmp/out"
echo "ok: $(basename "$deb") $(stat -c %s "$deb") bytes, $(basename "$tarball") $(stat -c %s "$tarball") bytes"

# Control fields.
field() { dpkg-deb -f "$deb" "$1"; }
[ "$(field Package)" = qfp8-cuda ] || fail "Package: $(field Package)"
[ "$(field Version)" = "$deb_version" ] || fail "Version: $(field Version), expected $deb_version"
[ "$(field Architecture)" = "$(dpkg --print-architecture)" ] || fail "Architecture: $(field Architecture)"
[ -n "$(field Maintainer)" ] || fail "no Maintainer field"
depends=$(field Depends)
depend_names=$(sed 's/([^)]*)//g; s/[,|]/ /g' <<<"$depends")  # names only, no versions
if [ "$have_cuda" = ON ]; then
  field Description | tr -s '\n ' '  ' | grep -q 'CUDA [0-9.]* runtime linked statically' ||
    fail "the Description does not say that the CUDA runtime is linked statically"
fi

# apt's dry run: would `apt install ./X.deb` find every dependency here (Debian's own
# packages, virtual names included)? Nothing is installed.
simulation=$(apt-get install -s "$(realpath "$deb")" 2>&1) ||
  { echo "$simulation"; fail "apt-get install -s refuses the .deb"; }
grep -q '^Inst qfp8-cuda ' <<<"$simulation" || { echo "$simulation"; fail "apt would not install qfp8-cuda"; }
echo "ok: apt-get install -s accepts it"

unpack_check() {  # unpack_check NAME ROOT: the files a package must hold, its binary run
  local name=$1 root=$2 binary=$2/bin/qfp8-cuda
  for file in bin/qfp8-cuda share/man/man1/qfp8-cuda.1 share/doc/qfp8-cuda/README.md \
              share/doc/qfp8-cuda/docs/usage.md share/doc/qfp8-cuda/docs/install.md; do
    [ -f "$root/$file" ] || fail "$name lacks $file"
  done
  # Every shared library the binary needs resolves here, and (the .deb) comes from a
  # package its Depends names. The CUDA runtime is static: no libcudart.
  local needed library path owner
  needed=$(objdump -p "$binary" | awk '$1 == "NEEDED" { print $2 }')
  ! grep -q libcudart <<<"$needed" || fail "$name: the binary links libcudart dynamically"
  ! ldd "$binary" | grep -q 'not found' || fail "$name: $(ldd "$binary" | grep 'not found')"
  if [ "$name" = deb ]; then
    for library in $needed; do
      path=$(ldd "$binary" | awk -v lib="$library" '$1 == lib { print $3 } $1 ~ "/" lib "$" { print $1 }' | head -1)
      [ -n "$path" ] || continue
      # A pattern, not the path: with merged /usr, ldd's /lib/... may be dpkg's /usr/lib/...
      owner=$(dpkg -S "*/$(basename "$(dirname "$path")")/$library" 2>/dev/null | head -1 |
              cut -d: -f1) || true
      [ -n "$owner" ] || fail "no Debian package owns $path ($library)"
      # The package, or a name it provides (libspdlog1.10 provides libspdlog1.10-fmt9,
      # the name its shlibs file gives dpkg-shlibdeps).
      local provided candidates found=""
      candidates="$owner $(dpkg-query -W -f='${Provides}' "$owner" | sed 's/ *([^)]*)//g; s/,/ /g')"
      for provided in $candidates; do
        for depend in $depend_names; do [ "$provided" = "$depend" ] && found=$provided; done
      done
      [ -n "$found" ] || fail "Depends ($depends) names none of '$candidates', which hold $library"
    done
  fi
  "$binary" --version | grep -q "^qfp8-cuda $version (commit " || fail "$name: --version: $("$binary" --version)"
  local work=$tmp/$name-work
  mkdir -p "$work"
  "$binary" synth --model qwen-image --blocks 1 --width-div 64 -q "$work/in.safetensors"
  "$binary" convert -i "$work/in.safetensors" -o "$work/out.safetensors" -q
  "$binary" verify "$work/out.safetensors" --against "$work/in.safetensors" -q > "$work/verify.txt" ||
    { cat "$work/verify.txt"; fail "$name: verify failed"; }
  grep -q '^\[PASS\]' "$work/verify.txt" || fail "$name: verify printed no [PASS]"
  echo "ok: $name: files, libraries, --version, synth + convert + verify"
}

dpkg-deb -x "$deb" "$tmp/deb-root"
unpack_check deb "$tmp/deb-root/usr"
echo "ok: Depends: $depends"

mkdir -p "$tmp/tgz-root"
tar -xzf "$tarball" -C "$tmp/tgz-root"
top=$(find "$tmp/tgz-root" -mindepth 1 -maxdepth 1)
[ "$(basename "$top")" = "$(basename "$tarball" .tar.gz)" ] || fail "the tarball's top folder is '$top'"
unpack_check tgz "$top"
rm -rf "$tmp"
