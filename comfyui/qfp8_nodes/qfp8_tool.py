"""qfp8_tool.py — what the ComfyUI nodes do that needs no ComfyUI: find the installed
qfp8-cuda command, name the output, build its command lines, read its preset list, its
dry-run plan and its JSON log lines, and run one conversion with progress and cancellation.

Everything here goes through the command line, never a second implementation: the plan
the node shows is the tool's own --dry-run, and the file is the tool's own output.
Imports only the standard library, so tests run it without ComfyUI (tests/python)."""
import json
import os
import queue
import re
import shutil
import subprocess
import sysconfig
import threading
from dataclasses import dataclass, field

BINARY_ENV = "QFP8_CUDA_BIN"
BINARY_NAME = "qfp8-cuda"
# The one output format the tool writes: F8_E4M3 weights, torch.float8_e4m3fn in ComfyUI.
# It takes no format option, so the choice only names what comes out.
FORMATS = ("float8_e4m3fn",)
DEVICES = ("auto", "cpu", "cuda")
# The tool reads safetensors only; ComfyUI's model lists also hold .ckpt/.pt/.bin files.
MODEL_EXTENSIONS = (".safetensors", ".sft")
OUTPUT_SUFFIX = "_fp8_scaled.safetensors"
# A preset as `convert --preset list` prints it: lowercase, digits, '.', '-' (qwen25-vl-7b).
_PRESET_NAME = re.compile(r"[a-z0-9][a-z0-9.\-]*")
# A family's first line in `--preset list`: the name at column 0, two spaces, its title.
_PRESET_LINE = re.compile(r"^([a-z0-9][a-z0-9.\-]*)  +\S")
# A per-tensor progress line (logged at debug level): "[  12/1933] name [3072, 3072] ...".
_PROGRESS = re.compile(r"^\[\s*(\d+)/(\d+)\]")
# Windows: no console window flashes up behind ComfyUI's for each run.
_NO_WINDOW = getattr(subprocess, "CREATE_NO_WINDOW", 0)


class ToolError(Exception):
    """A conversion the node cannot start or that the tool refused; the message is for the user."""


class ConversionCancelled(ToolError):
    """The user interrupted the run; the tool was stopped before its output appeared."""


# ---------------------------------------------------------------- the command

def pip_installed_binary():
    """The binary of the qfp8-cuda wheel installed into the Python running ComfyUI
    (`python -m pip install qfp8-cuda`), from its own package; None without it."""
    try:
        import qfp8
        return qfp8.binary()
    except Exception:  # not installed, or installed without its binary
        return None


def find_binary(environ=None, which=shutil.which, scripts_dir=None, bundled=pip_installed_binary):
    """The qfp8-cuda command: $QFP8_CUDA_BIN, else the one pip installed into this Python (the
    wheel's, which matches the qfp8 package beside it), else PATH, else the running Python's
    scripts folder (which ComfyUI's embedded Python has not on PATH)."""
    environ = os.environ if environ is None else environ
    configured = environ.get(BINARY_ENV, "")
    if configured:
        if os.path.isfile(configured) and os.access(configured, os.X_OK):
            return configured
        raise ToolError(f"cannot run {BINARY_ENV}='{configured}': not an executable file")
    found = bundled()
    if found:
        return found
    found = which(BINARY_NAME)
    if found:
        return found
    scripts_dir = sysconfig.get_path("scripts") if scripts_dir is None else scripts_dir
    found = which(BINARY_NAME, path=scripts_dir) if scripts_dir else None
    if found:
        return found
    raise ToolError(f"cannot find the {BINARY_NAME} command: install it (pip install into "
                    f"this Python, or a release binary on PATH), or set {BINARY_ENV} to its path")


def dry_run_command(binary, input_path, preset):
    return [binary, "convert", "-i", input_path, "--dry-run", "--preset", check_preset(preset)]


def convert_command(binary, input_path, output_path, preset, device):
    """Never --force: the tool itself refuses an existing output, a second guard behind ours.
    JSON logs at debug level carry one "[i/N]" line per tensor: the progress."""
    if device not in DEVICES:
        raise ToolError(f"cannot use device '{device}': expected one of {', '.join(DEVICES)}")
    return [binary, "convert", "-i", input_path, "-o", output_path,
            "--preset", check_preset(preset), "--device", device, "--log-format", "json", "-v"]


def check_preset(preset):
    """A preset name is handed to the tool as one argument; one starting with '-' would be read
    as an option."""
    if not _PRESET_NAME.fullmatch(preset):
        raise ToolError(f"cannot use preset '{preset}': not a preset name")
    return preset


def check_format(fmt):
    if fmt not in FORMATS:
        raise ToolError(f"cannot write format '{fmt}': {BINARY_NAME} writes {', '.join(FORMATS)}")
    return fmt


# ---------------------------------------------------------------- file names

def model_choices(names):
    """The entries of a ComfyUI model list that the tool can read."""
    return [name for name in names if name.lower().endswith(MODEL_EXTENSIONS)]


def default_output_name(input_path):
    stem = os.path.splitext(os.path.basename(input_path))[0]
    return stem + OUTPUT_SUFFIX


def output_path_for(input_path, output_name=""):
    """The output goes next to the input. A name given in the node is a bare file name: ComfyUI
    may serve other machines, and a path from a web form must not write elsewhere."""
    name = output_name.strip() or default_output_name(input_path)
    if name in (".", "..") or os.path.basename(name) != name or "/" in name or "\\" in name:
        raise ToolError(f"cannot use output name '{output_name}': give a file name, no folder")
    if not name.lower().endswith(MODEL_EXTENSIONS):
        name += ".safetensors"
    output = os.path.join(os.path.dirname(os.path.abspath(input_path)), name)
    if os.path.normcase(output) == os.path.normcase(os.path.abspath(input_path)):
        raise ToolError(f"cannot write '{output}': it is the input")
    return output


def refuse_existing(output_path):
    if os.path.lexists(output_path):
        raise ToolError(f"cannot write '{output_path}': it already exists (delete or rename it, "
                        "or choose another output name)")


# ---------------------------------------------------------------- the tool's text

def parse_preset_list(text):
    """'auto', 'none', then the families, from `convert --preset list` (text: the tool has no
    machine-readable form of the list)."""
    families = [found.group(1) for found in map(_PRESET_LINE.match, text.splitlines()) if found]
    return ["auto", "none"] + [name for name in families if name not in ("auto", "none")]


def read_presets(binary, run=subprocess.run):
    done = run([binary, "convert", "--preset", "list"], capture_output=True, text=True,
               timeout=30, creationflags=_NO_WINDOW)
    if done.returncode != 0:
        raise ToolError(f"{BINARY_NAME} convert --preset list failed (exit {done.returncode}): "
                        f"{done.stderr.strip()}")
    return parse_preset_list(done.stdout)


@dataclass
class Plan:
    """The summary lines of a dry run (src/cli/plan_printer.cpp)."""
    model: str = "?"
    preset: str = "?"
    layout: str = ""
    tensors: int = 0
    quantized: int = 0
    kept: int = 0
    input_bytes: int = 0
    output_bytes: int = 0
    text: str = field(default="", repr=False)


_MODEL_LINE = re.compile(r"^model: (.*), preset: (\S+)$")
_COUNT_LINE = re.compile(r"^(\d+) tensors: (\d+) quantized, (\d+) kept$")
_SIZE_LINE = re.compile(r"^output: \d+ tensors, (\d+) bytes .*, input (\d+) bytes")


def parse_plan(text):
    plan = Plan(text=text)
    lines = text.splitlines()
    for line in lines:
        if found := _MODEL_LINE.match(line):
            plan.model, plan.preset = found.group(1), found.group(2)
        elif line.startswith("layout: "):
            plan.layout = line[len("layout: "):]
        elif found := _COUNT_LINE.match(line):
            plan.tensors, plan.quantized, plan.kept = map(int, found.groups())
        elif found := _SIZE_LINE.match(line):
            plan.output_bytes, plan.input_bytes = int(found.group(1)), int(found.group(2))
    if not any(_COUNT_LINE.match(line) for line in lines):
        raise ToolError("cannot read the dry-run plan: no 'N tensors: Q quantized, K kept' line")
    return plan


def size_text(count):
    """Decimal units, as the tool's own summary line ("40.9 GB -> 20.5 GB")."""
    return f"{count / 1e9:.2f} GB" if count >= 1e9 else f"{count / 1e6:.1f} MB"


def plan_summary(plan):
    text = (f"{plan.quantized} quantized, {plan.kept} kept, family {plan.model} "
            f"(preset {plan.preset}), {size_text(plan.input_bytes)} -> "
            f"{size_text(plan.output_bytes)}")
    return text + (f"\nlayout: {plan.layout}" if plan.layout else "")


def dry_run(binary, input_path, preset, run=subprocess.run):
    done = run(dry_run_command(binary, input_path, preset), capture_output=True, text=True,
               creationflags=_NO_WINDOW)
    if done.returncode != 0:
        raise ToolError(f"{BINARY_NAME} --dry-run failed (exit {done.returncode}): "
                        + "; ".join(r["msg"] for r in map(parse_log_line, done.stderr.splitlines())
                                    if r["msg"]))
    return parse_plan(done.stdout)


def parse_log_line(line):
    """One stderr line of --log-format json as {"level", "msg"}; a line that is not JSON (a
    crash message, a library's warning) is kept as level "text"."""
    line = line.strip()
    try:
        record = json.loads(line)
        if isinstance(record, dict) and "msg" in record:
            return {"level": str(record.get("level", "info")), "msg": str(record["msg"])}
    except ValueError:
        pass
    return {"level": "text", "msg": line}


def progress_of(record):
    """(done, total) tensors from a per-tensor line, else None."""
    found = _PROGRESS.match(record["msg"]) if record["level"] == "debug" else None
    return (int(found.group(1)), int(found.group(2))) if found else None


# ---------------------------------------------------------------- running it

@dataclass
class RunResult:
    summary: str = ""                       # the tool's last info line: sizes, time, counts
    warnings: list = field(default_factory=list)
    progress_calls: int = 0


def _pump(stream, lines):
    for line in stream:
        lines.put(line)
    lines.put(None)


def run_conversion(command, on_progress=None, should_cancel=None, poll_seconds=0.1):
    """Runs the tool, feeding on_progress(done, total) from its per-tensor lines and polling
    should_cancel() every poll_seconds; on cancel (or any exception from a callback) the tool
    is stopped (SIGTERM: it removes its partial output) before the error goes up."""
    process = subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                               stderr=subprocess.PIPE, text=True, encoding="utf-8",
                               errors="replace", creationflags=_NO_WINDOW)
    lines = queue.Queue()
    threading.Thread(target=_pump, args=(process.stderr, lines), daemon=True).start()
    result, errors = RunResult(), []
    try:
        while True:
            if should_cancel is not None and should_cancel():
                raise ConversionCancelled("conversion interrupted; no output was written")
            try:
                line = lines.get(timeout=poll_seconds)
            except queue.Empty:
                continue
            if line is None:
                break
            _take(parse_log_line(line), result, errors, on_progress)
        status = process.wait()
    finally:
        if process.poll() is None:
            process.terminate()
            process.wait()
    if status != 0:
        raise ToolError(f"{BINARY_NAME} convert failed (exit {status}): "
                        + ("; ".join(errors) or "no error message"))
    return result


def _take(record, result, errors, on_progress):
    done_total = progress_of(record)
    if done_total is not None:
        result.progress_calls += 1
        if on_progress is not None:
            on_progress(*done_total)
    elif record["level"] in ("error", "critical", "text") and record["msg"]:
        errors.append(record["msg"])
    elif record["level"] in ("warning", "warn"):
        result.warnings.append(record["msg"])
    elif record["level"] == "info":
        result.summary = record["msg"]

