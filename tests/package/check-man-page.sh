#!/usr/bin/env bash
# check-man-page.sh BINARY MAN_PAGE — the man page (docs/qfp8-cuda.1) names every command of
# `qfp8-cuda --help` and every long option of each command's --help, so that it cannot
# fall behind the binary; and it renders without a groff warning (when groff is there).
set -euo pipefail
binary=$1 man_page=$2
fail() { echo "FAIL: $*" >&2; exit 1; }

# In roff source a literal '-' is written '\-'.
commands=$("$binary" --help | sed -n '/^commands:/,/^$/s/^  \([a-z]\+\) .*/\1/p')
[ "$(echo "$commands" | wc -w)" -ge 6 ] || fail "found only '$commands' in qfp8-cuda --help"
missing=()
for command in $commands; do
  grep -q "^\.B $command\$" "$man_page" || missing+=("command $command")
  for option in $("$binary" "$command" --help | grep -o -- '--[a-z][a-z0-9-]*' | sort -u); do
    grep -qF -- "${option//-/\\-}" "$man_page" || missing+=("$command $option")
  done
done
[ ${#missing[@]} -eq 0 ] || fail "not in $man_page: ${missing[*]}"
echo "ok: $(echo "$commands" | wc -w) commands and their options are in the man page"

if command -v groff >/dev/null; then
  warnings=$(LC_ALL=C.UTF-8 groff -man -Tutf8 -ww -z "$man_page" 2>&1)
  [ -z "$warnings" ] || fail "groff: $warnings"
  echo "ok: groff renders it without warnings"
fi
