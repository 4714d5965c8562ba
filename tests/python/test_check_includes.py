"""scripts/check-includes.py: passes on the repository, and fails on each kind of include
the house forbids (upward, same layer, between the two backends, an unknown folder), each
in a small tree of its own.

usage: test_check_includes.py <qfp8-cuda binary> <scratch dir>"""
import os
import pathlib
import shutil
import subprocess
import sys

from checks import check, finish

scratch = pathlib.Path(sys.argv[2])
repo = pathlib.Path(__file__).resolve().parents[2]
script = repo / "scripts" / "check-includes.py"



def run(root):
    return subprocess.run([sys.executable, str(script), str(root)], capture_output=True, text=True)


real = run(repo)
check(real.returncode == 0, "the repository passes: " + real.stdout[-500:])

cases = {
    # name: (file, its include, expected exit)
    "downward": ("src/cli/a.cpp", "core/b.hpp", 0),
    "upward": ("src/core/a.hpp", "cli/b.hpp", 1),
    "same layer": ("src/convert/a.cpp", "verify/b.hpp", 1),
    "cpu to cuda": ("src/backends/cpu/a.cpp", "backends/cuda/b.hpp", 1),
    "kernels to backends": ("kernels/a.cu", "backends/backend.hpp", 1),
    "unknown folder": ("src/newthing/a.cpp", "core/b.hpp", 1),
}
for name, (source, include, expected) in cases.items():
    root = scratch / name.replace(" ", "_")
    shutil.rmtree(root, ignore_errors=True)
    path = root / source
    path.parent.mkdir(parents=True)
    path.write_text(f'#include "{include}"\n')
    result = run(root)
    check(result.returncode == expected,
          f"{name}: exit {result.returncode}, expected {expected}: {result.stdout}")
    if expected == 1:
        check("error: " in result.stdout, f"{name}: the offending include is named")

finish()
