"""Catch2 test names in the suites CTest runs one test at a time (tests/<folder>/, not the
GPU and simulated-runtime suites, which run whole): CTest hands each name to Catch as a
command-line argument, and a name starting with '-' is parsed as an option, so that test
fails without running. This keeps such names out.

usage: test_test_names.py <qfp8-cuda binary> <scratch dir>"""
import pathlib
import re

from checks import check, finish

tests = pathlib.Path(__file__).resolve().parents[1]
name = re.compile(r'TEST_CASE\(\s*"([^"]*)"')
seen = 0
for path in sorted(tests.rglob("*.cpp")):
    relative = path.relative_to(tests).as_posix()
    if relative.startswith(("gpu/", "backends/cuda_sim/", "fuzz/")):
        continue
    for found in name.finditer(path.read_text(encoding="utf-8")):
        seen += 1
        check(not found.group(1).startswith("-"),
              f"{relative}: test name '{found.group(1)}' starts with '-'")
check(seen > 100, f"found {seen} test names (expected the whole suite)")
finish()
