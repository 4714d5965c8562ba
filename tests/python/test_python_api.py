"""The Python API (python/qfp8) end to end on the demo model: qfp8.convert() writes the same
bytes as the qfp8-cuda command and counts what the input's header says, a dry run writes
nothing, qfp8.verify() passes it with per-layer quality, and failures raise the class of the
tool's exit code with the tool's message.

usage: test_python_api.py <qfp8-cuda binary> <scratch dir>   (the source tree's package,
                                                              run against that binary)
       test_python_api.py --installed <scratch dir>         (the package and binary that
                                                              `pip install` put in this Python:
                                                              scripts/wheel-tests.sh)"""
import hashlib
import json
import os
import pathlib
import shutil
import struct
import subprocess
import sys
import sysconfig

from checks import check, finish

installed = sys.argv[1] == "--installed"
scratch = os.path.abspath(sys.argv[2])
shutil.rmtree(scratch, ignore_errors=True)
os.makedirs(scratch)
sys.dont_write_bytecode = True  # no __pycache__ in the source tree
if installed:
    os.environ.pop("QFP8_CUDA_BIN", None)
    # The installed package, not the source tree's beside this file.
    sys.path = [p for p in sys.path if pathlib.Path(p or ".").resolve() !=
                pathlib.Path(__file__).resolve().parent] + [str(pathlib.Path(__file__).parent)]
else:
    os.environ["QFP8_CUDA_BIN"] = os.path.abspath(sys.argv[1])
    sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[2] / "python"))
import qfp8  # noqa: E402

binary = qfp8.binary()
if installed:
    check(pathlib.Path(qfp8.__file__).resolve().is_relative_to(pathlib.Path(sys.prefix).resolve()),
          f"the package is the installed one: {qfp8.__file__}")
    scripts = pathlib.Path(sysconfig.get_path("scripts")).resolve()
    check(pathlib.Path(binary).resolve().parent == scripts,
          f"the binary is in this Python's scripts folder {scripts}: {binary}")
    check(shutil.which("qfp8-cuda", path=str(scripts)) is not None, "qfp8-cuda is a command there")
    version = subprocess.run([binary, "--version"], capture_output=True, text=True).stdout
    check(version.startswith(f"qfp8-cuda {qfp8.__version__} "),
          f"the wheel's version is the binary's: {qfp8.__version__} / {version.strip()}")
    # The ComfyUI node pack, run by this Python, finds the wheel's binary through qfp8.
    sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[2] / "comfyui" / "qfp8_nodes"))
    import qfp8_tool  # noqa: E402
    node_found = qfp8_tool.find_binary({}, which=lambda *a, **k: None, scripts_dir="")
    check(node_found == binary, f"the node pack runs the pip-installed binary: {node_found}")
else:
    check(binary == os.environ["QFP8_CUDA_BIN"], "QFP8_CUDA_BIN names the binary")


def sha256(path):
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def tensor_names(path):
    """The tensors of a safetensors file, from its header (8-byte length, then JSON)."""
    with open(path, "rb") as f:
        (length,) = struct.unpack("<Q", f.read(8))
        header = json.loads(f.read(length))
    return [name for name in header if name != "__metadata__"]


def raised(function, cls):
    """The exception function() raised, checked to be a cls; None when it raised nothing."""
    try:
        function()
    except qfp8.Qfp8Error as error:
        check(type(error) is cls, f"{cls.__name__} expected, got {type(error).__name__}: {error}")
        return error
    check(False, f"{cls.__name__} expected, nothing raised")
    return None


def run(*args):
    return subprocess.run([binary, *args], capture_output=True, text=True, cwd=scratch)


# ---------------------------------------------------------------- the demo, both ways

# The quickstart's demo (~45 MB) for the installed wheel; a quarter of it in the test suite,
# which also runs this under the sanitizers.
blocks, width_div = ("4", "8") if installed else ("2", "16")
demo = os.path.join(scratch, "demo-bf16.safetensors")
made = run("synth", "--model", "qwen-image", "--blocks", blocks, "--width-div", width_div, demo)
check(made.returncode == 0, f"synth: {made.stderr}")
by_command = os.path.join(scratch, "demo-fp8-command.safetensors")
done = run("convert", "-i", demo, "-o", by_command)
check(done.returncode == 0, f"the command converts: {done.stderr}")
by_api = os.path.join(scratch, "demo-fp8-api.safetensors")
result = qfp8.convert(demo, by_api, threads=2)

# Per block 8 attention + 2 modulation + 4 MLP Linears, less block 0's img_mod.1 (the
# Qwen-Image preset keeps it, with img_in, txt_in, proj_out, norm_out, time_text_embed).
inputs = tensor_names(demo)
check(result.quantized == int(blocks) * 14 - 1, f"blocks * 14 - 1 quantized: {result.quantized}")
check(result.quantized + result.kept == len(inputs),
      f"every input tensor quantized or kept: {result.quantized} + {result.kept} != {len(inputs)}")
check(sha256(by_api) == sha256(by_command), "the API writes the command's bytes")
check(result.output == by_api and result.input == demo, f"paths: {result}")
check(result.input_bytes == os.path.getsize(demo), "input_bytes is the input's size")
check(result.output_bytes == os.path.getsize(by_api), "output_bytes is the output's size")
check(result.seconds >= 0 and result.backend != "", f"seconds and backend: {result}")
check(not result.dry_run and not result.verified, "neither a dry run nor verified")
check(len([n for n in tensor_names(by_api) if n.endswith(".weight_scale")]) == result.quantized,
      "one weight_scale per quantized layer")

planned = qfp8.convert(demo, dry_run=True, device="cpu")
check(planned.dry_run and planned.output is None, f"a dry run: {planned}")
check((planned.quantized, planned.kept) == (result.quantized, result.kept),
      "the dry run counts what the conversion did")
check(sorted(os.listdir(scratch)) == sorted(["demo-bf16.safetensors", os.path.basename(by_command),
                                             os.path.basename(by_api)]),
      f"the dry run wrote nothing: {os.listdir(scratch)}")

checked = qfp8.convert(demo, os.path.join(scratch, "verified.safetensors"), verify=True,
                       device="cpu", include=[r"^img_in\.weight$"], exclude=["^txt_in"])
check(checked.verified, "verify=True: verified before it appeared")
check(checked.quantized == result.quantized + 1, f"include=[...] adds img_in: {checked.quantized}")

# ---------------------------------------------------------------- verify

report = qfp8.verify(by_api, against=demo)
check(report.passed and report.errors == 0, f"the output passes: {report.findings}")
check(report.layers == result.quantized, f"every quantized layer checked: {report.layers}")
check(report.source == demo and report.file == by_api, "file and source")
check(report.quality is not None and report.quality.layers == result.quantized,
      "quality for every layer")
check(len(report.quality.per_layer) == result.quantized, "one quality row per layer")
check(all(row.snr_db is None or row.snr_db > 20 for row in report.quality.per_layer),
      "every layer above 20 dB SNR (E4M3 keeps ~30 dB)")
by_command_report = json.loads(run("verify", by_command, "--json").stdout)
check(by_command_report["passed"] and qfp8.verify(by_command).raw == by_command_report,
      "verify() returns the command's own report")
failed = qfp8.verify(demo)  # a BF16 file is no FP8 checkpoint
check(not failed.passed and failed.errors > 0, f"the BF16 input fails: {failed}")
error = raised(lambda: qfp8.verify(demo, check=True), qfp8.VerificationFailed)
check(error is not None and not error.result.passed and error.exit_code == 2,
      "check=True raises VerificationFailed with the result")
bad = os.path.join(scratch, "bad.safetensors")
with open(bad, "wb") as f:
    f.write(struct.pack("<Q", 10**12) + b"{}")
corrupt = qfp8.verify(bad)
check(not corrupt.passed and [f.id for f in corrupt.findings if f.severity == "ERR"] ==
      ["HeaderTooLarge"], f"a bad header is one HeaderTooLarge finding: {corrupt.findings}")
error = raised(lambda: qfp8.verify(bad, check=True), qfp8.VerificationFailed)
check(error is not None and "HeaderTooLarge" in error.message, f"named in the error: {error}")
error = raised(lambda: qfp8.verify(os.path.join(scratch, "missing.safetensors")),
               qfp8.IODeviceError)
check(error is not None and "No such file" in error.message, f"verify of a missing file: {error}")
error = raised(lambda: qfp8.verify(by_api, against=demo, json=True), qfp8.UsageError)
check(error is not None and "no option 'json'" in error.message, "json is the API's own flag")

# ---------------------------------------------------------------- errors

error = raised(lambda: qfp8.convert(demo, by_api), qfp8.IODeviceError)
check(error is not None and "already exists" in error.message and error.exit_code == 3,
      f"an existing output is refused with the tool's message: {error}")
forced = qfp8.convert(demo, by_api, force=True)
check(forced.quantized == result.quantized and sha256(by_api) == sha256(by_command),
      "force=True replaces it with the same bytes")
error = raised(lambda: qfp8.convert(bad, os.path.join(scratch, "out.safetensors")),
               qfp8.InvalidInputError)
check(error is not None and "bad.safetensors" in error.message and error.exit_code == 2,
      f"a bad header: the tool's message: {error}")
error = raised(lambda: qfp8.convert(os.path.join(scratch, "missing.safetensors"),
                                    os.path.join(scratch, "out.safetensors")), qfp8.IODeviceError)
check(error is not None and "No such file" in error.message, f"a missing input: {error}")
check(not os.path.exists(os.path.join(scratch, "out.safetensors")), "no output after a failure")
error = raised(lambda: qfp8.convert(demo, by_api, thread=4), qfp8.UsageError)
check(error is not None and "no option 'thread'" in error.message and "threads" in error.message,
      f"an unknown keyword names the options: {error}")
error = raised(lambda: qfp8.convert(demo, by_api, dry_run="yes"), qfp8.UsageError)
check(error is not None and "flag" in error.message, f"a flag given a value: {error}")
error = raised(lambda: qfp8.convert(demo, by_api, output_dir=scratch), qfp8.UsageError)
check(error is not None and "no option 'output_dir'" in error.message, "batch options are not keywords")
error = raised(lambda: qfp8.convert(demo, by_api, preset="no-such-family"), qfp8.UsageError)
check(error is not None and "no-such-family" in error.message, f"the tool's usage error: {error}")
# ---------------------------------------------------------------- Ctrl-C

if not installed and os.name == "posix":
    # A stand-in tool that answers --help, then runs until it is stopped, and records the
    # signal that stopped it; Ctrl-C reaches only this Python (os.kill of our own pid).
    import signal
    import threading
    fake = os.path.join(scratch, "fake-tool.sh")
    stopped = os.path.join(scratch, "stopped-by")
    with open(fake, "w") as f:
        f.write('#!/bin/sh\nif [ "$2" = --help ]; then echo "  -o, --output arg  x"; exit 0; fi\n'
                f'sleep 30 &\ntrap "echo TERM > {stopped}; kill $!; exit 143" TERM\nwait\n')
    os.chmod(fake, 0o755)
    os.environ["QFP8_CUDA_BIN"] = fake
    threading.Timer(0.5, os.kill, (os.getpid(), signal.SIGINT)).start()
    interrupted = False
    try:
        qfp8.convert(demo, os.path.join(scratch, "never.safetensors"))
    except KeyboardInterrupt:
        interrupted = True
    check(interrupted, "Ctrl-C during a conversion raises KeyboardInterrupt")
    check(os.path.exists(stopped) and open(stopped).read().strip() == "TERM",
          "the tool was sent SIGTERM (it removes its temporary output) and waited for")
    os.environ["QFP8_CUDA_BIN"] = os.path.abspath(sys.argv[1])
finish()
