"""convert_nodes.py — the ComfyUI nodes: convert a model from models/diffusion_models or
models/text_encoders to FP8 scaled, next to it, with the installed qfp8-cuda command.

Classic node API (INPUT_TYPES / RETURN_TYPES / FUNCTION in NODE_CLASS_MAPPINGS): ComfyUI still
loads it next to the newer comfy_api "V3" schema, and every older ComfyUI loads only it.
ComfyUI's own modules (folder_paths, comfy.utils, comfy.model_management) are imported inside
the functions, so this file imports without ComfyUI; the logic lives in qfp8_tool.py."""
import os
import subprocess

from . import qfp8_tool as tool


def _presets():
    """'auto', 'none' and the tool's families. Without the tool the list is the two built-in
    names; the node's run then says what is missing."""
    try:
        return tool.read_presets(tool.find_binary())
    except (tool.ToolError, OSError, subprocess.SubprocessError):
        return ["auto", "none"]


class _ConvertToFp8:
    """One node per ComfyUI model folder: FOLDER is the folder_paths name."""
    FOLDER = ""
    RETURN_TYPES = ("STRING", "STRING")
    RETURN_NAMES = ("output_path", "plan")
    FUNCTION = "convert"
    # Runs without a consumer: it writes a file, as the save nodes do.
    OUTPUT_NODE = True
    CATEGORY = "advanced/qfp8-cuda"

    @classmethod
    def INPUT_TYPES(cls):
        import folder_paths
        return {"required": {
            "model_name": (tool.model_choices(folder_paths.get_filename_list(cls.FOLDER)),),
            "format": (list(tool.FORMATS), {"default": tool.FORMATS[0]}),
            "preset": (_presets(), {
                "default": "auto",
                "tooltip": "Layers kept in high precision: auto (the detected family), none "
                           "(the bare rule) or a family"}),
            "device": (list(tool.DEVICES), {"default": "auto"}),
            "output_name": ("STRING", {
                "default": "",
                "tooltip": "File name next to the input; empty: <name>" + tool.OUTPUT_SUFFIX}),
            "plan_only": ("BOOLEAN", {
                "default": False, "tooltip": "Show the plan (dry run); write nothing"}),
        }}

    def convert(self, model_name, format, preset, device, output_name, plan_only):
        import folder_paths
        tool.check_format(format)
        input_path = folder_paths.get_full_path(self.FOLDER, model_name)
        if input_path is None:
            raise tool.ToolError(f"cannot find '{model_name}' in models/{self.FOLDER}")
        output_path = tool.output_path_for(input_path, output_name)
        if not plan_only:
            tool.refuse_existing(output_path)
        binary = tool.find_binary()
        plan = tool.dry_run(binary, input_path, preset)
        text = f"{output_path}\n{tool.plan_summary(plan)}"
        if plan_only and os.path.lexists(output_path):
            text += "\nthe output exists: converting would refuse to replace it"
        if not plan_only:
            result = _run(tool.convert_command(binary, input_path, output_path, preset, device),
                          plan.tensors)
            text += "".join(f"\n{line}" for line in [result.summary, *result.warnings] if line)
        return {"ui": {"text": [text]}, "result": ("" if plan_only else output_path, text)}


def _run(command, tensors):
    """The conversion with ComfyUI's progress bar (the node's bar in the UI) and its Cancel
    button: an interrupt stops the tool, then goes up as ComfyUI's own interrupt."""
    import comfy.model_management as management
    from comfy.utils import ProgressBar
    bar = ProgressBar(tensors)
    try:
        return tool.run_conversion(command, on_progress=bar.update_absolute,
                                   should_cancel=management.processing_interrupted)
    except tool.ConversionCancelled:
        management.throw_exception_if_processing_interrupted()
        raise


class ConvertDiffusionModelToFp8(_ConvertToFp8):
    FOLDER = "diffusion_models"
    DESCRIPTION = ("Convert a diffusion model (models/diffusion_models) to FP8 scaled with "
                   "qfp8-cuda; the file appears next to it.")


class ConvertTextEncoderToFp8(_ConvertToFp8):
    FOLDER = "text_encoders"
    DESCRIPTION = ("Convert a text encoder (models/text_encoders) to FP8 scaled with "
                   "qfp8-cuda; the file appears next to it.")


NODE_CLASS_MAPPINGS = {
    "Qfp8ConvertDiffusionModel": ConvertDiffusionModelToFp8,
    "Qfp8ConvertTextEncoder": ConvertTextEncoderToFp8,
}
NODE_DISPLAY_NAME_MAPPINGS = {
    "Qfp8ConvertDiffusionModel": "Convert to FP8 (qfp8-cuda): diffusion model",
    "Qfp8ConvertTextEncoder": "Convert to FP8 (qfp8-cuda): text encoder",
}
