"""Runs the bundled qfp8-cuda binary: finds it, turns keyword options into its flags (read
from its own --help, so they never go stale), and reads its JSON output and log lines."""
import functools
import json
import os
import re
import shutil
import signal
import subprocess
import sysconfig

from .errors import BY_EXIT_CODE, InternalError, Qfp8Error, UsageError, VerificationFailed
from .results import ConvertResult, VerifyResult

BINARY_ENV = "QFP8_CUDA_BIN"
_WINDOWS = os.name == "nt"
# How long a stopped tool may take to remove its temporary output before it is killed.
STOP_SECONDS = 30
_NAMES = ("qfp8-cuda", "qfp8-cuda.exe")
# An option line of cxxopts' --help: "  -d, --device arg   ..." or "      --force   ...".
_HELP_OPTION = re.compile(r"^\s+(?:-\w, )?--([a-z0-9][a-z0-9-]*)( arg\b)?")
# Options the API sets itself, or that belong to a batch (one call converts one file).
_RESERVED = {
    "convert": {"input", "output", "output-dir", "input-list", "shard", "shard-count", "json",
                "log-format", "help"},
    "verify": {"json", "against", "log-format", "help"},
}


# ---------------------------------------------------------------- the binary

def binary():
    """The qfp8-cuda command this package runs: $QFP8_CUDA_BIN when set, else the one that
    `pip install qfp8-cuda` put in this environment's scripts folder (bin/ or Scripts\\)."""
    configured = os.environ.get(BINARY_ENV, "")
    if configured:
        if os.path.isfile(configured) and os.access(configured, os.X_OK):
            return configured
        raise Qfp8Error(f"cannot run {BINARY_ENV}='{configured}': not an executable file")
    for candidate in _installed_files():
        if os.path.isfile(candidate) and os.access(candidate, os.X_OK):
            return candidate
    for name in _NAMES:
        found = shutil.which(name, path=sysconfig.get_path("scripts") or "")
        if found:
            return os.path.abspath(found)
    raise Qfp8Error("cannot find the qfp8-cuda binary of this package: install the wheel "
                    f"(pip install qfp8-cuda), or set {BINARY_ENV} to the binary's path")


def _installed_files():
    """The binary as the installed distribution's RECORD lists it: right under every install
    scheme (venv, --user, --prefix, ComfyUI's embedded Python)."""
    try:
        from importlib.metadata import PackageNotFoundError, distribution
        dist = distribution("qfp8-cuda")
    except (ImportError, PackageNotFoundError):
        return []
    except Exception:
        return []
    return [os.path.abspath(str(dist.locate_file(path))) for path in (dist.files or [])
            if path.name in _NAMES]


# ---------------------------------------------------------------- options

@functools.lru_cache(maxsize=None)
def _options_of(tool, command):
    """{option name: takes a value} from `qfp8-cuda COMMAND --help`."""
    done = subprocess.run([tool, command, "--help"], stdin=subprocess.DEVNULL,
                          capture_output=True, text=True, encoding="utf-8", errors="replace")
    if done.returncode != 0:
        raise InternalError(f"cannot read '{tool} {command} --help' (exit {done.returncode}): "
                            f"{done.stderr.strip()}", done.returncode, [tool, command, "--help"])
    options = {}
    for line in done.stdout.splitlines():
        found = _HELP_OPTION.match(line)
        if found:
            options[found.group(1)] = found.group(2) is not None
    return options


def option_args(tool, command, options):
    """Keyword options as flags: name_with_underscores=value -> --name-with-underscores VALUE;
    True -> the bare flag, False or None -> left out; a list or tuple repeats the option
    (include=[...]). A keyword the command has no option for is a UsageError, here."""
    known = _options_of(tool, command)
    args = []
    for key, value in options.items():
        name = key.replace("_", "-")
        if name not in known or name in _RESERVED[command]:
            allowed = sorted(n.replace("-", "_") for n in known if n not in _RESERVED[command])
            raise UsageError(f"{command}() has no option '{key}': qfp8-cuda {command} takes "
                             + ", ".join(allowed), 1)
        if value is None or value is False:
            continue
        takes_value = known[name]
        if value is True:
            if takes_value:
                raise UsageError(f"{command}() option '{key}' needs a value, not True", 1)
            args.append("--" + name)
            continue
        if not takes_value:
            raise UsageError(f"{command}() option '{key}' is a flag: pass True or False", 1)
        values = value if isinstance(value, (list, tuple)) else [value]
        for each in values:
            args += ["--" + name, os.fspath(each) if isinstance(each, os.PathLike) else str(each)]
    return args


# ---------------------------------------------------------------- running

def _log_records(stderr):
    """{"level", "msg"} per stderr line: JSON log lines (--log-format json), and the text lines
    written before the options were parsed ("error: unknown option ...")."""
    records = []
    for line in stderr.splitlines():
        line = line.strip()
        if not line:
            continue
        try:
            record = json.loads(line)
            if isinstance(record, dict) and "msg" in record:
                records.append({"level": str(record.get("level", "info")), "msg": str(record["msg"])})
                continue
        except ValueError:
            pass
        level, sep, msg = line.partition(": ")
        if sep and level in ("error", "critical", "warning", "info", "debug"):
            records.append({"level": level, "msg": msg})
        else:
            records.append({"level": "text", "msg": line})
    return records


def _stop(process):
    """Asks the tool to stop the way it cleans up after (SIGTERM; on Windows CTRL_BREAK_EVENT,
    as TerminateProcess cannot be caught), waits for it to remove its temporary output, and
    kills it only after STOP_SECONDS."""
    if process.poll() is not None:
        return
    try:
        process.send_signal(signal.CTRL_BREAK_EVENT if _WINDOWS else signal.SIGTERM)
        process.wait(timeout=STOP_SECONDS)
    except (OSError, subprocess.TimeoutExpired):
        process.kill()
        process.wait()


def _run(argv):
    """(exit code, stdout, log records, stderr). On KeyboardInterrupt (Ctrl-C) or any other
    exception while it runs, the tool is stopped by _stop() before the exception goes on."""
    # Windows: its own process group, so that _stop() can send it CTRL_BREAK_EVENT alone.
    flags = subprocess.CREATE_NEW_PROCESS_GROUP if _WINDOWS else 0
    try:
        process = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                   stderr=subprocess.PIPE, creationflags=flags)
    except OSError as error:
        raise Qfp8Error(f"cannot run '{argv[0]}': {error}", None, argv) from error
    try:
        out, err = process.communicate()
    except BaseException:
        _stop(process)
        raise
    stderr = err.decode("utf-8", errors="replace")
    return process.returncode, out.decode("utf-8", errors="replace"), _log_records(stderr), stderr


def _failure(argv, status, records, stderr):
    errors = [r["msg"] for r in records if r["level"] in ("error", "critical")]
    if not errors:
        errors = [r["msg"] for r in records if r["level"] == "text"][-3:]
    message = "; ".join(errors) or "no error message"
    if status < 0:
        return InternalError(f"qfp8-cuda was ended by signal {-status}: {message}", status, argv,
                             stderr)
    return BY_EXIT_CODE.get(status, InternalError)(message, status, argv, stderr)


def _parse_json(argv, out, status, stderr):
    try:
        return json.loads(out)
    except ValueError as error:
        raise InternalError(f"cannot read the JSON that qfp8-cuda printed ({error}): "
                            f"{out[:200]!r}", status, argv, stderr) from error


# ---------------------------------------------------------------- the API

def convert(input, output=None, **options):
    """Converts one checkpoint (a .safetensors file or a folder of shards) to ComfyUI FP8
    E4M3FN scaled, as `qfp8-cuda convert -i INPUT -o OUTPUT --json`. `output` may be left out
    with dry_run=True (the plan's counts, nothing written). Options are the command's:
    device="cpu", threads=4, preset="flux", include=[...], exclude=[...], force=True,
    verify=True, ... Returns a ConvertResult; raises a Qfp8Error subclass on failure (an
    existing output is an IODeviceError unless force=True)."""
    tool = binary()
    argv = [tool, "convert", "-i", os.fspath(input)]
    if output is not None:
        argv += ["-o", os.fspath(output)]
    argv += option_args(tool, "convert", options) + ["--json", "--log-format", "json"]
    status, out, records, stderr = _run(argv)
    if status != 0:
        raise _failure(argv, status, records, stderr)
    warnings = [r["msg"] for r in records if r["level"] in ("warning", "warn")]
    return ConvertResult.from_json(_parse_json(argv, out, status, stderr), warnings)


def verify(path, against=None, check=False, **options):
    """Checks an FP8 checkpoint against the ComfyUI format, and with against=SOURCE re-derives
    every quantized layer from its source (per-layer quality in .quality), as
    `qfp8-cuda verify PATH [--against SOURCE] --json`. A file that fails comes back with
    passed=False, or raises VerificationFailed with check=True; a file that cannot be read
    raises. Options: threads=N, report="quality.json", ..."""
    tool = binary()
    argv = [tool, "verify", os.fspath(path)]
    if against is not None:
        argv += ["--against", os.fspath(against)]
    argv += option_args(tool, "verify", options) + ["--json", "--log-format", "json"]
    status, out, records, stderr = _run(argv)
    # Exit 2 with a report is a file that failed its checks; without one, the tool failed.
    if status not in (0, 2) or not out.strip():
        raise _failure(argv, status, records, stderr)
    result = VerifyResult.from_json(_parse_json(argv, out, status, stderr))
    if check and not result.passed:
        failed = [f"{f.id} {f.subject}: {f.message}" for f in result.findings
                  if f.severity == "ERR"]
        raise VerificationFailed(f"'{result.file}' failed verification: "
                                 + "; ".join(failed[:5]), result, status, argv, stderr)
    return result
