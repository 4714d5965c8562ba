"""Loads the node pack (comfyui/qfp8_nodes) through ComfyUI's own custom-node loading and runs
its nodes through ComfyUI's own executor (run by scripts/comfyui-node-check.sh).

  python comfyui_node_check.py --comfyui DIR --bin QFP8 --work DIR

In WORK it makes a ComfyUI base directory (ComfyUI's --base-directory): custom_nodes/qfp8_nodes
links to the pack, models/diffusion_models and models/text_encoders hold tiny synthetic models.
Then, in one process, as ComfyUI's main.py would:
1. nodes.init_external_custom_nodes() loads every folder of custom_nodes: the pack must load;
2. each node's INPUT_TYPES lists its folder's model and the tool's presets;
3. one-node prompts pass execution.validate_prompt and run in execution.PromptExecutor: plan
   only (no file), convert (progress through comfy.utils' global hook, the file appears), and
   the same prompt again with a fresh cache, which must fail: the file exists.
ComfyUI's tree is only read (no bytecode is written into it). Prints one line per check and
exits 1 on any failure."""
import argparse
import asyncio
import os
import shutil
import subprocess
import sys
import time

sys.dont_write_bytecode = True
NODES = {"Qfp8ConvertDiffusionModel": ("diffusion_models", "qwen-image"),
         "Qfp8ConvertTextEncoder": ("text_encoders", "t5xxl")}
failures = []


def check(condition, what):
    print(("ok     " if condition else "FAILED ") + what, flush=True)
    if not condition:
        failures.append(what)


class RecordingServer:
    """What PromptExecutor and the progress handlers use of server.PromptServer."""

    def __init__(self):
        self.client_id, self.last_node_id, self.last_prompt_id = None, None, None
        self.messages = []

    def send_sync(self, event, data, sid=None):
        self.messages.append((event, data))

    def queue_updated(self):
        pass


def make_base(work, binary, pack):
    base = os.path.join(work, "base")
    shutil.rmtree(base, ignore_errors=True)  # a --work folder used before
    os.makedirs(os.path.join(base, "custom_nodes"))
    os.symlink(pack, os.path.join(base, "custom_nodes", "qfp8_nodes"))
    for folder, model in NODES.values():
        os.makedirs(os.path.join(base, "models", folder))
        subprocess.run([binary, "synth", "--model", model, "--blocks", "1", "--width-div", "64",
                        "-q", os.path.join(base, "models", folder, f"tiny-{model}.safetensors")],
                       check=True, stdout=subprocess.DEVNULL)
    return base


def import_comfyui(comfyui, base):
    """ComfyUI's modules with its arguments parsed as `main.py --cpu --base-directory BASE`:
    folder_paths reads the base directory when it is imported."""
    sys.argv = ["main.py", "--cpu", "--base-directory", base]
    sys.path.insert(0, comfyui)
    import comfy.options
    comfy.options.enable_args_parsing()
    import execution
    import nodes
    return nodes, execution


def progress_hook(calls):
    """main.py's hijack_progress, less the websocket: record, and feed the progress registry."""
    from comfy_execution.progress import get_progress_state
    from comfy_execution.utils import get_executing_context

    def hook(value, total, preview_image, prompt_id=None, node_id=None):
        context = get_executing_context()
        node_id = node_id if node_id is not None or context is None else context.node_id
        calls.append((node_id, value, total))
        get_progress_state().update_progress(node_id, value, total, preview_image)
    return hook


def run_prompt(execution, class_type, inputs, prompt_id):
    """Validates and executes a one-node prompt; returns (valid, executor, server)."""
    prompt = {"1": {"class_type": class_type, "inputs": inputs}}
    valid = asyncio.run(execution.validate_prompt(prompt_id, prompt, None))
    if not valid[0]:
        return valid, None, None
    server = RecordingServer()
    executor = execution.PromptExecutor(server, cache_args={"lru": 0, "ram": 0})
    executor.execute(prompt, prompt_id, {}, valid[2])
    return valid, executor, server


def check_node(nodes, execution, base, class_type, folder, model):
    import comfy.utils
    node_class = nodes.NODE_CLASS_MAPPINGS.get(class_type)
    check(node_class is not None, f"{class_type} is registered")
    if node_class is None:
        return
    name = f"tiny-{model}.safetensors"
    required = node_class.INPUT_TYPES()["required"]
    check(name in required["model_name"][0], f"{class_type}: model list {required['model_name'][0]}")
    check(model in required["preset"][0], f"{class_type}: preset '{model}' listed by the tool")
    inputs = {"model_name": name, "format": "float8_e4m3fn", "preset": "auto", "device": "cpu",
              "output_name": "", "plan_only": True}
    output = os.path.join(base, "models", folder, f"tiny-{model}_fp8_scaled.safetensors")

    valid, executor, _ = run_prompt(execution, class_type, inputs, f"{class_type}-plan")
    check(valid[0] and executor.success, f"{class_type}: plan-only prompt runs ({valid[1]})")
    shown = executor.history_result["outputs"].get("1", {}).get("text", [""])[0]
    check("quantized" in shown and f"family {model}" in shown and not os.path.exists(output),
          f"{class_type}: plan shown, nothing written: {shown!r}")

    calls = []
    comfy.utils.set_progress_bar_global_hook(progress_hook(calls))
    started = time.monotonic()
    valid, executor, server = run_prompt(execution, class_type, {**inputs, "plan_only": False},
                                         f"{class_type}-convert")
    check(valid[0] and executor.success and os.path.isfile(output),
          f"{class_type}: convert prompt wrote {output} in {time.monotonic() - started:.2f} s")
    check(len(calls) > 0 and calls[-1][0] == "1" and calls[-1][1] == calls[-1][2],
          f"{class_type}: progress hook {len(calls)} calls, last {calls[-1:]}")
    states = [event for event, _ in server.messages if event == "progress_state"]
    check(len(states) > 0, f"{class_type}: {len(states)} progress_state messages for the UI")

    print(f"       {class_type}: again; ComfyUI logs the refusal below", flush=True)
    _, executor, _ = run_prompt(execution, class_type, {**inputs, "plan_only": False},
                                f"{class_type}-again")
    errors = [data for event, data in executor.status_messages if event == "execution_error"]
    check(not executor.success and errors and "already exists" in errors[0]["exception_message"],
          f"{class_type}: second run refused: "
          f"{errors[0]['exception_message'] if errors else 'no error'}")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--comfyui", required=True)
    parser.add_argument("--bin", required=True)
    parser.add_argument("--work", required=True)
    args = parser.parse_args()
    binary = os.path.abspath(args.bin)
    pack = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "comfyui", "qfp8_nodes")
    os.environ["QFP8_CUDA_BIN"] = binary
    base = make_base(os.path.abspath(args.work), binary, os.path.realpath(pack))
    nodes, execution = import_comfyui(os.path.abspath(args.comfyui), base)

    before = set(nodes.NODE_CLASS_MAPPINGS)
    asyncio.run(nodes.init_external_custom_nodes())
    added = sorted(set(nodes.NODE_CLASS_MAPPINGS) - before)
    check(added == sorted(NODES), f"custom_nodes loading added {added}")
    for class_type, (folder, model) in NODES.items():
        check_node(nodes, execution, base, class_type, folder, model)
    print(f"{len(failures)} failed" if failures else "all checks passed")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
