"""checks.py — the tally the Python tests share: check() counts a pass or prints the
failure, finish() prints 'N passed, M failed' and exits non-zero on any failure."""
import sys

_counts = {"passed": 0, "failed": 0}


def check(condition, what):
    if condition:
        _counts["passed"] += 1
    else:
        _counts["failed"] += 1
        print("FAILED:", what)


def finish():
    print(f"{_counts['passed']} passed, {_counts['failed']} failed")
    sys.exit(1 if _counts["failed"] else 0)
