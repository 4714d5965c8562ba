"""The ComfyUI node pack (comfyui/qfp8_nodes) without ComfyUI: its logic (qfp8_tool.py) runs
the real binary on a tiny synthetic model (progress reported per tensor, output appears, a
second run refuses to overwrite, cancel stops the tool), and the node classes run against
stand-ins for ComfyUI's folder_paths, comfy.utils and comfy.model_management.
Loading in a real ComfyUI tree: scripts/comfyui-node-check.sh (by hand).

usage: test_comfyui_node.py <qfp8-cuda binary> <scratch dir>"""
import os
import pathlib
import re
import shutil
import subprocess
import sys
import time
import types

from checks import check, finish

binary, scratch = os.path.abspath(sys.argv[1]), os.path.abspath(sys.argv[2])
shutil.rmtree(scratch, ignore_errors=True)
os.makedirs(scratch)
pack_parent = pathlib.Path(__file__).resolve().parents[2] / "comfyui"
sys.path.insert(0, str(pack_parent / "qfp8_nodes"))
sys.dont_write_bytecode = True  # no __pycache__ in the source tree
import qfp8_tool as tool  # noqa: E402


def raises(function, text):
    """The message of the ToolError that function() raised, checked to contain text."""
    try:
        function()
    except tool.ToolError as error:
        check(text in str(error), f"error '{error}' names '{text}'")
        return str(error)
    check(False, f"expected a ToolError naming '{text}'")
    return ""


def synth(path, model="qwen-image"):
    subprocess.run([binary, "synth", "--model", model, "--blocks", "1", "--width-div", "64",
                    "-q", path], check=True, stdout=subprocess.DEVNULL)
    return path


# ---------------------------------------------------------------- finding the command

env = {tool.BINARY_ENV: binary}
nothing = lambda: None  # noqa: E731  (no pip-installed qfp8 package)
check(tool.find_binary(env, which=lambda *a, **k: None, bundled=lambda: "/pip/qfp8-cuda") == binary,
      "QFP8_CUDA_BIN is used, before the pip-installed binary")
check(tool.find_binary({}, which=lambda *a, **k: "/usr/bin/qfp8-cuda",
                       bundled=lambda: "/pip/qfp8-cuda") == "/pip/qfp8-cuda",
      "the binary pip installed into this Python comes before PATH")
raises(lambda: tool.find_binary({tool.BINARY_ENV: binary + ".missing"}), tool.BINARY_ENV)
raises(lambda: tool.find_binary({}, which=lambda *a, **k: None, scripts_dir=scratch,
                                bundled=nothing),
       "cannot find the qfp8-cuda command")
scripts = os.path.join(scratch, "scripts")
os.makedirs(scripts)
os.symlink(binary, os.path.join(scripts, tool.BINARY_NAME))
found = tool.find_binary({}, which=lambda name, path=None: shutil.which(name, path=path or ""),
                         scripts_dir=scripts, bundled=nothing)
check(found == os.path.join(scripts, tool.BINARY_NAME),
      f"found in the Python scripts folder when not on PATH: {found}")

# ---------------------------------------------------------------- presets

presets = tool.read_presets(binary)
check(presets[:2] == ["auto", "none"], f"auto and none first: {presets[:3]}")
# The families as the tool's "unknown --preset" error lists them (another code path).
refused = subprocess.run([binary, "convert", "-i", "x", "--dry-run", "--preset",
                          "no-such-family"], capture_output=True, text=True)
listed = re.search(r"a model family: ([^)]*)\)", refused.stderr)
check(listed is not None, f"the usage error lists the families: {refused.stderr!r}")
if listed:
    families = listed.group(1).split(", ")
    check(presets[2:] == families, f"preset list {presets[2:]} == {families}")
check("qwen-image" in presets and "t5xxl" in presets, "qwen-image and t5xxl are presets")
sample = "Model families (...):\n\nflux1  Flux.1\n  matches: x\n    img_in  y\nnone: the bare rule\n"
check(tool.parse_preset_list(sample) == ["auto", "none", "flux1"], "parse a hand-made list")
raises(lambda: tool.check_preset("--force"), "not a preset name")

# ---------------------------------------------------------------- names and commands

models = os.path.join(scratch, "models")
os.makedirs(models)
source = synth(os.path.join(models, "tiny.safetensors"))
expected_output = os.path.join(models, "tiny_fp8_scaled.safetensors")
check(tool.default_output_name(source) == "tiny_fp8_scaled.safetensors", "default name")
check(tool.output_path_for(source) == expected_output, "default output next to the input")
check(tool.output_path_for(source, " mine ") == os.path.join(models, "mine.safetensors"),
      "a bare name gains .safetensors, next to the input")
for bad in ("../up.safetensors", "sub/x.safetensors", "..", "a\\b.safetensors",
            os.path.join(scratch, "abs.safetensors")):
    raises(lambda: tool.output_path_for(source, bad), "give a file name, no folder")
raises(lambda: tool.output_path_for(source, "tiny.safetensors"), "it is the input")
raises(lambda: tool.check_format("float8_e5m2"), "writes float8_e4m3fn")
raises(lambda: tool.convert_command(binary, source, expected_output, "auto", "tpu"), "device")
command = tool.convert_command(binary, source, expected_output, "auto", "cpu")
check("--force" not in command and "--force" not in tool.dry_run_command(binary, source, "auto"),
      "no command line carries --force")
check(tool.model_choices(["a.safetensors", "b.ckpt", "sub/c.SFT", "d.pt"])
      == ["a.safetensors", "sub/c.SFT"], "model lists keep safetensors files only")

# ---------------------------------------------------------------- the dry-run plan

plan = tool.dry_run(binary, source, "auto")
quantize_lines = sum(line.startswith("quantize ") for line in plan.text.splitlines())
check(plan.model == "qwen-image" and plan.preset == "qwen-image", f"family: {plan}")
check(plan.quantized == quantize_lines and quantize_lines > 0,
      f"{plan.quantized} quantized == {quantize_lines} quantize lines")
check(plan.tensors == plan.quantized + plan.kept, f"counts add up: {plan}")
check(plan.input_bytes == os.path.getsize(source), f"input bytes {plan.input_bytes}")
summary = tool.plan_summary(plan)
check(summary.startswith(f"{quantize_lines} quantized, ") and "family qwen-image" in summary
      and " MB -> " in summary, f"summary: {summary!r}")
raises(lambda: tool.parse_plan("model: x, preset: y\n"), "cannot read the dry-run plan")
raises(lambda: tool.dry_run(binary, source + ".missing", "auto"), "exit 3")

# ---------------------------------------------------------------- converting

calls = []
started = time.monotonic()
result = tool.run_conversion(command, on_progress=lambda done, total: calls.append((done, total)))
seconds = time.monotonic() - started
check(os.path.isfile(expected_output), "the output appeared")
check(os.path.getsize(expected_output) == plan.output_bytes, "output size as planned")
check(len(calls) == plan.tensors and calls[-1] == (plan.tensors, plan.tensors),
      f"one progress call per tensor: {len(calls)}, last {calls[-1:]}")
check([done for done, _ in calls] == list(range(1, plan.tensors + 1)), "progress counts up")
check("quantized" in result.summary, f"the tool's summary line: {result.summary!r}")
print(f"converted in {seconds:.2f} s")

before = pathlib.Path(expected_output).read_bytes()
raises(lambda: tool.refuse_existing(expected_output), "already exists")
# Behind our guard, the tool refuses too (no --force): exit 3, the file untouched.
raises(lambda: tool.run_conversion(command), "already exists")
check(pathlib.Path(expected_output).read_bytes() == before, "the existing output is untouched")
raises(lambda: tool.run_conversion(
    tool.convert_command(binary, source + ".missing", expected_output + "2", "auto", "cpu")),
    "exit 3")

# ---------------------------------------------------------------- cancel

# A stand-in that reports one tensor, then would run for a minute: cancel after the first
# progress call must stop it at once.
stand_in = [sys.executable, "-c", "import sys, time\n"
            "print('{\"level\":\"debug\",\"msg\":\"[ 1/9] x\"}', file=sys.stderr, flush=True)\n"
            "time.sleep(60)"]
seen = []
started = time.monotonic()
raises(lambda: tool.run_conversion(stand_in, on_progress=lambda d, t: seen.append(d),
                                   should_cancel=lambda: bool(seen)), "interrupted")
check(time.monotonic() - started < 10, "cancel stops the tool at once")

record = tool.parse_log_line("Segmentation fault")
check(record == {"level": "text", "msg": "Segmentation fault"}, f"plain text kept: {record}")
check(tool.progress_of({"level": "info", "msg": "[ 1/2] x"}) is None, "progress: debug lines only")

# ---------------------------------------------------------------- the node classes

def stand_ins(folder, names, bar_calls):
    """folder_paths, comfy.utils and comfy.model_management as far as the nodes use them."""
    folder_paths = types.ModuleType("folder_paths")
    folder_paths.get_filename_list = lambda kind: list(names) if kind == "diffusion_models" else []
    folder_paths.get_full_path = lambda kind, name: (os.path.join(folder, name)
                                                     if name in names else None)

    class ProgressBar:
        def __init__(self, total):
            bar_calls.append(("total", total))

        def update_absolute(self, value, total=None):
            bar_calls.append((value, total))

    comfy = types.ModuleType("comfy")
    comfy.utils = types.ModuleType("comfy.utils")
    comfy.utils.ProgressBar = ProgressBar
    comfy.model_management = types.ModuleType("comfy.model_management")
    comfy.model_management.processing_interrupted = lambda: False
    comfy.model_management.throw_exception_if_processing_interrupted = lambda: None
    sys.modules.update({"folder_paths": folder_paths, "comfy": comfy,
                        "comfy.utils": comfy.utils,
                        "comfy.model_management": comfy.model_management})


os.environ[tool.BINARY_ENV] = binary
bar = []
stand_ins(models, ["tiny.safetensors", "old.ckpt"], bar)
sys.path.insert(0, str(pack_parent))
import qfp8_nodes  # noqa: E402

tool = sys.modules["qfp8_nodes.qfp8_tool"]  # the package's copy: its own ToolError class

node_class = qfp8_nodes.NODE_CLASS_MAPPINGS["Qfp8ConvertDiffusionModel"]
inputs = node_class.INPUT_TYPES()["required"]
check(inputs["model_name"][0] == ["tiny.safetensors"], f"model list: {inputs['model_name']}")
check(inputs["preset"][0] == presets, "the node's presets come from the tool")
node = node_class()
arguments = dict(model_name="tiny.safetensors", format="float8_e4m3fn", preset="auto",
                 device="cpu", output_name="node_out", plan_only=True)
shown = node.convert(**arguments)
node_output = os.path.join(models, "node_out.safetensors")
check(not os.path.exists(node_output) and shown["result"][0] == "", "plan only writes nothing")
check(summary in shown["result"][1] and shown["ui"]["text"] == [shown["result"][1]],
      f"the plan is shown: {shown['result'][1]!r}")
done = node.convert(**{**arguments, "plan_only": False})
check(done["result"][0] == node_output and os.path.isfile(node_output), "the node converts")
check(bar[0] == ("total", plan.tensors) and bar[-1] == (plan.tensors, plan.tensors),
      f"the node's progress bar: {bar[:1]} ... {bar[-1:]}")
raises(lambda: node.convert(**{**arguments, "plan_only": False}), "already exists")
raises(lambda: node.convert(**{**arguments, "model_name": "gone.safetensors"}),
       "cannot find 'gone.safetensors'")
os.environ[tool.BINARY_ENV] = os.path.join(scratch, "no-binary")
raises(lambda: node.convert(**{**arguments, "output_name": "other"}), tool.BINARY_ENV)

finish()
