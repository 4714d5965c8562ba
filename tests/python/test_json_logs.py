"""--log-format json: every stderr line is one JSON object, even when the message quotes
hostile text (a file name with quotes, backslashes and a control character), and the
human text format is the default.

usage: test_json_logs.py <qfp8-cuda binary> <scratch dir>"""
import json
import os
import subprocess
import sys

from checks import check, finish

binary, scratch = sys.argv[1], sys.argv[2]
os.makedirs(scratch, exist_ok=True)



hostile = os.path.join(scratch, 'missing "quoted" \\ name\tx.safetensors')
for command in (["inspect", hostile], ["verify", hostile], ["convert", "-i", hostile, "-o", hostile + ".out"]):
    run = subprocess.run([binary, *command, "--log-format", "json"], capture_output=True, text=True)
    check(run.returncode == 3, f"{command[0]}: exit 3 for a missing file, got {run.returncode}")
    lines = [line for line in run.stderr.splitlines() if line.strip()]
    check(len(lines) >= 1, f"{command[0]}: at least one log line")
    for line in lines:
        try:
            record = json.loads(line)
        except json.JSONDecodeError as error:
            check(False, f"{command[0]}: stderr line is not JSON ({error}): {line!r}")
            continue
        check(set(record) == {"time", "level", "msg"}, f"{command[0]}: fields of {record}")
        check(record["level"] == "error", f"{command[0]}: level error in {record}")
        check(hostile in record["msg"], f"{command[0]}: the path survives escaping in {record}")

text = subprocess.run([binary, "inspect", hostile], capture_output=True, text=True)
check(text.stderr.startswith("error: "), f"text format by default: {text.stderr!r}")

finish()
