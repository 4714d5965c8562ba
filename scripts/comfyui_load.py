"""Loads one BF16 checkpoint and its FP8 conversion through ComfyUI's own loaders, on the CPU,
and prints what ComfyUI did with them as one JSON object (run by scripts/comfyui_check.py).

  python comfyui_load.py --comfyui DIR --family NAME --bf16 A --fp8 B --dequantized C --log FILE

For each file, one at a time (the other freed first), it records:
- the model type ComfyUI built: for a diffusion model the supported_models config class and
  model_base class of comfy.sd.load_diffusion_model's result, for a text encoder the TEModel
  that comfy.sd.detect_te_model returned inside comfy.sd.load_clip;
- the layers ComfyUI holds as FP8 (a comfy QuantizedTensor weight; each one's scale must be
  the file's weight_scale) and any float8 weight held without a scale;
- ComfyUI's key warnings, from its log: "unet missing:" / "unet unexpected:"
  (comfy/model_base.py load_model_weights), "left over keys in diffusion model:"
  (comfy/sd.py load_diffusion_model_state_dict), "clip missing:" / "clip unexpected"
  (comfy/sd.py CLIP.__init__; "clip unexpected" is logged at DEBUG level);
- the output of one forward pass on fixed random inputs (same inputs for every file).
The FP8 output is then compared with the BF16 source's (what FP8 costs) and with that of the
FP8 file dequantized to BF16 by `qfp8-cuda dequantize` (whether ComfyUI applies each layer's
scale as docs/format.md defines it): relative L2 error and cosine similarity.
"""
import argparse
import gc
import json
import logging
import os
import sys
import time

KEY_WARNINGS = ("unet missing:", "unet unexpected:", "left over keys in diffusion model:",
                "clip missing:", "clip unexpected", "NOT LOADED")
SIGMA = 0.5          # mid-schedule noise level: every timestep embedder sees a normal value
TOKENS = 8           # context / prompt length
LATENT_HW = 16       # latent height and width (16x16 = 64 patches of 2x2)
SEED = 1234


class LogRecorder(logging.Handler):
    """Keeps every ComfyUI log message (DEBUG and up) of the current load."""

    def __init__(self):
        super().__init__(logging.DEBUG)
        self.lines = []

    def emit(self, record):
        self.lines.append(f"{record.levelname}: {record.getMessage()}")


def import_comfy(comfy_dir, recorder):
    """Imports ComfyUI as `main.py --cpu` would: args set before comfy.model_management reads them."""
    sys.path.insert(0, comfy_dir)
    root = logging.getLogger()
    root.setLevel(logging.DEBUG)
    root.addHandler(recorder)
    import comfy.cli_args
    comfy.cli_args.args.cpu = True
    import comfy.model_management  # noqa: F401  (reads args.cpu at import)
    import comfy.sd
    return comfy


# ---------------------------------------------------------------- inputs

def randn(shape, seed):
    import torch
    gen = torch.Generator().manual_seed(seed)
    return torch.randn(shape, generator=gen, dtype=torch.float32)


def diffusion_inputs(family, model):
    """Noise and extra_conds kwargs, built by the model_base's own extra_conds()."""
    import torch
    import comfy.utils
    fmt = model.latent_format
    spatial = (1,) * (fmt.latent_dimensions - 2) + (LATENT_HW, LATENT_HW)
    noise = randn((1, fmt.latent_channels) + spatial, SEED)
    latent_shapes = None
    if family.audio:
        noise, latent_shapes = comfy.utils.pack_latents([noise, randn(family.audio, SEED + 3)])
    kwargs = {"noise": noise, "device": torch.device("cpu"),
              "cross_attn": randn((1, TOKENS, family.context), SEED + 1),
              "pooled_output": randn((1, family.pooled), SEED + 2) if family.pooled else None}
    if latent_shapes is not None:
        kwargs["latent_shapes"] = latent_shapes
    for i, (name, value) in enumerate(sorted(family.conds.items())):
        kwargs[name] = cond_value(value, SEED + 10 + i)
    conds = model.extra_conds(**kwargs)
    return noise, {name: cond.cond for name, cond in conds.items()}


def cond_value(value, seed):
    """A shape gives random values; "mask" an all-ones text attention mask."""
    import torch
    if isinstance(value, tuple):
        return randn(value, seed)
    if value == "mask":
        return torch.ones((1, TOKENS))
    return value


def token_ids():
    """Fixed ids in 1000..29999: inside every vocabulary (T5's is 32128), clear of the
    special tokens (pad/end/start ids are below 1000 or above 128000)."""
    import torch
    gen = torch.Generator().manual_seed(SEED)
    return torch.randint(1000, 30000, (TOKENS,), generator=gen).tolist()


# ---------------------------------------------------------------- loading

def hidream_depth_from_file(comfy):
    """ComfyUI's HiDream detection fixes the depth at the published 16 double + 32 single blocks
    (comfy/model_detection.py); a synthetic file with N + 2N blocks gets its own counts here,
    and llama_layers (one Llama hidden-state index per block) cut to the first 3N entries.
    Every other detected value is ComfyUI's own."""
    real_detect = comfy.model_detection.detect_unet_config

    def counting_detect(state_dict, key_prefix, metadata=None):
        config = real_detect(state_dict, key_prefix, metadata=metadata)
        if config is None or config.get("image_model") != "hidream":
            return config

        def count(block):
            marker = f"{key_prefix}{block}."
            return len({k[len(marker):].split(".")[0] for k in state_dict if k.startswith(marker)})

        config["num_layers"] = count("double_stream_blocks")
        config["num_single_layers"] = count("single_stream_blocks")
        config["llama_layers"] = config["llama_layers"][:config["num_layers"] + config["num_single_layers"]]
        return config

    return real_detect, counting_detect


def load_diffusion(comfy, family, path):
    import torch
    import comfy.model_detection
    options = {"dtype": torch.bfloat16} if family.weight_dtype == "bf16" else {}
    real_detect = comfy.model_detection.detect_unet_config
    if family.name == "hidream":
        real_detect, comfy.model_detection.detect_unet_config = hidream_depth_from_file(comfy)
    try:
        patcher = comfy.sd.load_diffusion_model(path, model_options=options)
    finally:
        comfy.model_detection.detect_unet_config = real_detect
    model = patcher.model
    kind = f"{type(model.model_config).__name__}/{type(model).__name__}"
    return patcher, model.diffusion_model, {"": model.diffusion_model}, kind


class _NoTokenizer:
    """Stands in for the tokenizer (the check feeds token ids). The synthetic files carry no
    spiece_model / tekken_model tensor, which the UMT5, Gemma and Mistral tokenizers read."""

    def __init__(self, embedding_directory=None, tokenizer_data={}):
        pass

    def state_dict(self):
        return {}


def load_text_encoder(comfy, family, path):
    detected = []
    real_detect = comfy.sd.detect_te_model

    def recording_detect(sd):
        result = real_detect(sd)
        detected.append(result)
        return result

    real_clip = comfy.sd.CLIP

    class ClipWithoutTokenizer(real_clip):
        def __init__(self, target=None, **kwargs):
            if target is not None:
                target.tokenizer = _NoTokenizer
            super().__init__(target, **kwargs)

    clip_type = getattr(comfy.sd.CLIPType, family.clip_type.upper(), comfy.sd.CLIPType.STABLE_DIFFUSION)
    options = {f"{family.te_name}_model_config": {family.depth_key: family.blocks, **family.te_config}}
    comfy.sd.detect_te_model, comfy.sd.CLIP = recording_detect, ClipWithoutTokenizer
    try:
        clip = comfy.sd.load_clip([path], clip_type=clip_type, model_options=options)
    finally:
        comfy.sd.detect_te_model, comfy.sd.CLIP = real_detect, real_clip
    encoders = text_encoders(comfy, clip.cond_stage_model)
    kind = f"{detected[0]}" if detected else "none"
    return clip, clip.cond_stage_model, encoders, kind


def text_encoders(comfy, root):
    """ComfyUI's encoders inside the CLIP model, by the prefix of their file names."""
    import comfy.sd1_clip
    found = {}
    for name, module in root.named_modules():
        if isinstance(module, comfy.sd1_clip.SDClipModel):
            found[f"{name}.transformer."] = module
    return found


# ---------------------------------------------------------------- facts

def fp8_layers(encoders, root):
    """Layers held as QuantizedTensor (name -> scale) and float8 weights held without a scale,
    both named as in the file."""
    import torch
    from comfy.quant_ops import QuantizedTensor
    quantized, unscaled = {}, []
    for prefix in encoders:
        for name, module in root.named_modules():
            if not name.startswith(prefix):
                continue
            file_name = name[len(prefix):]
            weight = getattr(module, "weight", None)
            if isinstance(weight, QuantizedTensor):
                quantized[file_name] = float(weight._params.scale)
            elif isinstance(weight, torch.Tensor) and weight.dtype in (torch.float8_e4m3fn, torch.float8_e5m2):
                unscaled.append(file_name)
    return quantized, sorted(unscaled)


def key_warnings(lines):
    return [line for line in lines if any(key in line for key in KEY_WARNINGS)]


def forward_diffusion(family, patcher, root):
    import torch
    import comfy.model_management
    comfy.model_management.load_models_gpu([patcher])
    model = patcher.model
    noise, conds = diffusion_inputs(family, model)
    captured = []
    hook = root.register_forward_hook(lambda _m, _i, out: captured.append(out))
    try:
        model.apply_model(noise, torch.tensor([SIGMA]), **conds)
    finally:
        hook.remove()
    return flatten(captured[0])


def forward_text(family, encoders):
    """Every encoder's last layer output (all synthesized layers run), or the hidden state
    after block `family.compare_block` where the family sets one."""
    outputs = []
    for encoder in encoders.values():
        if family.compare_block is None:
            encoder.layer, encoder.layer_idx = "last", None
        else:
            encoder.layer, encoder.layer_idx = "hidden", family.compare_block
        out = encoder([token_ids()])
        outputs.append(flatten(out[0]))
    import torch
    return torch.cat(outputs)


def flatten(out):
    import torch
    if isinstance(out, (list, tuple)):
        return torch.cat([flatten(o) for o in out if isinstance(o, torch.Tensor) or isinstance(o, (list, tuple))])
    return out.detach().float().flatten().cpu()


def file_scales(path):
    """The layers a file declares FP8 and each one's scale. Comfy layout: the layers of
    `_quantization_metadata`, scale `L.weight_scale`. Legacy layout (what text encoders get by
    default): the `scaled_fp8` marker, and every `L.scale_weight` is a layer, as ComfyUI's
    comfy/utils.py convert_old_quants reads it."""
    from safetensors import safe_open
    with safe_open(path, "pt") as f:
        keys = set(f.keys())
        metadata = f.metadata() or {}
        if "_quantization_metadata" in metadata:
            declared = sorted(json.loads(metadata["_quantization_metadata"]).get("layers", {}))
            suffix = ".weight_scale"
        elif "scaled_fp8" in keys:
            suffix = ".scale_weight"
            declared = sorted(k[:-len(suffix)] for k in keys if k.endswith(suffix))
        else:
            declared, suffix = [], ".weight_scale"
        scales = {name: float(f.get_tensor(f"{name}{suffix}")) for name in declared
                  if f"{name}{suffix}" in keys}
    return declared, scales


def inspect(comfy, family, path, recorder):
    """Loads one file, runs one forward pass, frees the model; returns the facts."""
    import torch
    recorder.lines.clear()
    started = time.time()
    with torch.no_grad():
        if family.kind == "diffusion":
            holder, root, encoders, kind = load_diffusion(comfy, family, path)
            loaded = time.time()
            output = forward_diffusion(family, holder, root)
        else:
            holder, root, encoders, kind = load_text_encoder(comfy, family, path)
            loaded = time.time()
            output = forward_text(family, encoders)
    quantized, unscaled = fp8_layers(encoders, root)
    dtype = [line for line in recorder.lines if "model weight dtype" in line or "text encoder model load" in line]
    facts = {"kind": kind, "quantized": quantized, "unscaled": unscaled, "dtype": dtype[-1:],
             "warnings": key_warnings(recorder.lines), "log": list(recorder.lines),
             "load_s": round(loaded - started, 1), "forward_s": round(time.time() - loaded, 1)}
    del holder, root, encoders
    gc.collect()
    return facts, output


def compare(reference, test):
    import torch
    ref, out = reference.double(), test.double()
    rel_l2 = float(torch.linalg.vector_norm(out - ref) / torch.linalg.vector_norm(ref))
    cosine = float(torch.nn.functional.cosine_similarity(out, ref, dim=0))
    finite = bool(torch.isfinite(out).all() and torch.isfinite(ref).all())
    return {"rel_l2": rel_l2, "cosine": cosine, "finite": finite}


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--comfyui", required=True)
    parser.add_argument("--family", required=True)
    parser.add_argument("--bf16", required=True)
    parser.add_argument("--fp8", required=True)
    parser.add_argument("--dequantized", required=True,
                        help="the FP8 file dequantized to BF16 by `qfp8-cuda dequantize`")
    parser.add_argument("--log", required=True, help="ComfyUI's full log of both loads")
    args = parser.parse_args()
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    from comfyui_families import find
    family = find(args.family)
    recorder = LogRecorder()
    comfy = import_comfy(os.path.abspath(args.comfyui), recorder)
    bf16, ref = inspect(comfy, family, args.bf16, recorder)
    fp8, out = inspect(comfy, family, args.fp8, recorder)
    dequantized, exact = inspect(comfy, family, args.dequantized, recorder)
    declared, scales = file_scales(args.fp8)
    with open(args.log, "w") as log:
        for label, facts in (("bf16", bf16), ("fp8", fp8), ("dequantized", dequantized)):
            log.write(f"==== {label}\n" + "\n".join(facts.pop("log")) + "\n")
    result = {"bf16": bf16, "fp8": fp8, "dequantized": dequantized, "declared": declared,
              "file_scales": scales, "numerics": compare(ref, out), "exactness": compare(exact, out)}
    print(json.dumps(result))


if __name__ == "__main__":
    main()
