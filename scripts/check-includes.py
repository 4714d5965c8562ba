#!/usr/bin/env python3
"""check-includes.py — the house rule of docs/architecture.md, checked.

Prints every include that crosses folders in src/ and kernels/ (how often, from which folder
to which), and fails (exit 1) on one that runs upward: from a folder to a folder of a
higher layer, or between two folders of the same layer. Usage: scripts/check-includes.py
[REPO_ROOT]. tests/ and bench/ may include anything and are not checked.
"""
import pathlib
import re
import sys
from collections import Counter

# Layer of each folder: a folder may include its own files and those of lower layers only.
# The data flows read -> plan -> backend (cpu | cuda) -> write; the jobs that read an
# output (verify, dequantize, inspect) sit beside convert; selftest and the CLI on top.
LAYERS = {
    "platform": 0,          # the operating system: files, maps, locks, signals, processes
    "core": 0,              # errors, dtypes, the numerics, threads, text
    "compat": 0,            # C library stand-ins for the self-contained binary; no includes
    "safetensors": 1,       # the container: read, validate, lay out, write atomically
    "input": 2,             # one file or the shards of a model
    "plan": 2,              # what to quantize, and the output's names and metadata
    "synth": 2,             # synthetic checkpoints
    "fp8_layout": 3,        # an FP8 file's layers and scales, as verify/dequantize read them
    "kernels": 3,           # device code and its launchers
    "backends": 4,          # the backend interface and the selection
    "backends/cpu": 4,      # the CPU backend
    "backends/cuda": 4,     # the CUDA backend's host code
    "convert": 5,           # plan -> backend -> writer
    "verify": 5,
    "dequantize": 5,
    "inspect": 5,
    "selftest": 6,          # checks through any backend
    "selftest/cuda": 6,     # the device checks
    "cli": 7,               # options, wiring, what the user sees
}
# Within one layer, these includes are allowed (core uses the platform layer; a backend implements the interface beside
# the selection; the selection knows both backends; the device checks use the generic ones).
ALLOWED_SAME_LAYER = {
    ("core", "platform"),  # beside core, below everything; it includes nothing of ours
    ("backends/cpu", "backends"),
    ("backends/cuda", "backends"),
    ("backends", "backends/cpu"),
    ("backends", "backends/cuda"),
    ("selftest/cuda", "selftest"),
}

INCLUDE = re.compile(r'^\s*#\s*include\s+"([^"]+)"')


def folder_of(path: str) -> str:
    """'backends/cuda/x.hpp' -> 'backends/cuda'; 'core/x.hpp' -> 'core'."""
    parts = path.split("/")[:-1]
    for depth in (2, 1):
        candidate = "/".join(parts[:depth])
        if len(parts) >= depth and candidate in LAYERS:
            return candidate
    return "/".join(parts)


def main() -> int:
    root = pathlib.Path(sys.argv[1] if len(sys.argv) > 1 else ".").resolve()
    crossings = Counter()
    upward = []
    unknown = []
    files = [p for base in ("src", "kernels") for p in sorted((root / base).rglob("*"))
             if p.suffix in (".hpp", ".cpp", ".cuh", ".cu")]
    for path in files:
        relative = path.relative_to(root).as_posix()
        if relative.startswith("src/"):
            relative = relative[len("src/"):]
        source = folder_of(relative)
        if source not in LAYERS:
            unknown.append(f"{relative}: folder '{source}' has no layer in scripts/check-includes.py")
            continue
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            match = INCLUDE.match(line)
            if not match:
                continue
            target = folder_of(match.group(1))
            if target == source:
                continue
            if target not in LAYERS:
                unknown.append(f"{relative}:{number}: includes '{match.group(1)}' (no such folder)")
                continue
            crossings[(source, target)] += 1
            allowed = (LAYERS[target] < LAYERS[source] or
                       (source, target) in ALLOWED_SAME_LAYER)
            if not allowed:
                upward.append(f"{relative}:{number}: {source} (layer {LAYERS[source]}) includes "
                              f"'{match.group(1)}' of {target} (layer {LAYERS[target]})")
    print("cross-folder includes (count  from -> to):")
    for (source, target), count in sorted(crossings.items(),
                                          key=lambda item: (LAYERS[item[0][0]], item[0])):
        print(f"  {count:4d}  {source} -> {target}")
    for problem in unknown + upward:
        print(f"error: {problem}")
    if unknown or upward:
        print(f"check-includes: {len(upward)} upward include(s), {len(unknown)} unknown folder(s)")
        return 1
    print(f"check-includes: {len(files)} files, no upward include")
    return 0


if __name__ == "__main__":
    sys.exit(main())
