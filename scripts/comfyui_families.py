"""The families scripts/comfyui_check.py proves in ComfyUI, and what ComfyUI needs to run each.

Every fact here is read from ComfyUI's code (commit 618b803 of a ComfyUI mirror):
- `expect`: for a diffusion model, the supported_models config class / model_base class that
  comfy.sd.load_diffusion_model builds (comfy/supported_models.py get_model); for a text
  encoder, the comfy.sd.TEModel that comfy.sd.detect_te_model returns.
- `context`, `pooled`, `conds`: the cross_attn width, pooled_output width and other
  extra_conds() keywords of the model_base class (comfy/model_base.py) that the model's
  forward() in comfy/ldm/<model>/model.py reads. The latent's channels and dimensions are
  read at run time from the loaded model's latent_format.
- `clip_type`, `te_name`, `depth_key`: the `type` a user picks in the Load CLIP node (nodes.py
  CLIPLoader maps it to comfy.sd.CLIPType, STABLE_DIFFUSION when there is no such member), the name ComfyUI gives the encoder inside the CLIP model (sd1_clip.SD1ClipModel `name`),
  which is also the key of its config override `<te_name>_model_config`, and the config
  field that holds the layer count (comfy/text_encoders/llama.py, t5_config_xxl.json).
"""
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Family:
    name: str                 # synth --model NAME == convert --preset NAME
    kind: str                 # "diffusion" or "text"
    expect: str               # "ConfigClass/ModelBaseClass" or "TEModel.NAME"
    blocks: int = 1           # synth --blocks
    context: int = 0          # cross_attn width (diffusion)
    pooled: int = 0           # pooled_output width, 0 = none (diffusion)
    conds: dict = field(default_factory=dict)   # extra_conds keywords: name -> shape, "mask"
    audio: tuple = ()         # LTX-2: audio latent shape packed beside the video latent
    clip_type: str = ""       # Load CLIP node type (text)
    te_name: str = ""         # ComfyUI's name of the encoder (text)
    depth_key: str = "num_hidden_layers"
    weight_dtype: str = ""    # "bf16": the Load Diffusion Model dtype option, for big models
    te_config: dict = field(default_factory=dict)  # more of ComfyUI's config override (text)
    compare_block: int = None  # text: compare the hidden state after this block, not the last
    note: str = ""


# Text encoders are built by ComfyUI at their full published depth; the synthetic files have
# `blocks` layers, so the check sets ComfyUI's own per-encoder override
# `<te_name>_model_config = {depth_key: blocks}` (read in comfy/sd1_clip.py SDClipModel).
# The depth is at least 3 where the encoder reads hidden layer -2 (abs(layer_idx) must be
# below the layer count: an assert in SDClipModel.__init__).
# T5 detection needs encoder.block.23, so the T5 encoders run at their full 24 blocks; through
# 24 blocks of random weights a difference grows chaotically whatever its source: the same
# FP8 file against its own dequantized BF16 copy (`qfp8-cuda dequantize`) measured rel. L2
# 0.006 after block 0, 0.013 after block 1, 0.04 after 3, 0.14 after 7, 0.32 after 15, 0.44
# after 22. So the forward pass is compared after block 1; check (b) covers every block.
T5_NOTE = ("24 blocks = full depth (detect_te_model needs encoder.block.23); forward compared "
           "after block 1: random weights amplify any difference through 24 blocks")

FAMILIES = [
    Family("qwen-image", "diffusion", "QwenImage/QwenImage", context=3584),
    Family("flux1", "diffusion", "Flux/Flux", context=4096, pooled=768,
           note="guidance 3.5 (Flux.extra_conds default)"),
    Family("flux2", "diffusion", "Flux2/Flux2", context=15360, weight_dtype="bf16",
           note="weights held in BF16 (1 double + 6 single blocks of 6144 are 4B parameters: "
                "16 GB in ComfyUI's CPU default of FP32); context = 3 Mistral layers x 5120, padded to 512 tokens by Flux2.extra_conds"),
    Family("chroma", "diffusion", "Chroma/Chroma", context=4096),
    Family("hidream", "diffusion", "HiDream/HiDream", context=4096, pooled=2048,
           conds={"conditioning_llama3": (1, 32, 8, 4096)},
           note="Llama 3.1 conditioning: 32 hidden layers x 4096; ComfyUI's fixed HiDream depth "
                "(16 + 32 blocks) set to the file's 1 + 2 (comfyui_load.py hidream_depth_from_file)"),
    Family("sd35", "diffusion", "SD3/SD3", blocks=12, context=4096, pooled=2048,
           note="ComfyUI ties SD3's width to its depth (64 per block): 12 blocks are 768 wide"),
    Family("z-image", "diffusion", "ZImage/Lumina2", context=2560),
    Family("lumina2", "diffusion", "Lumina2/Lumina2", context=2304),
    Family("wan", "diffusion", "WAN21_T2V/WAN21", context=4096),
    Family("hunyuan-video", "diffusion", "HunyuanVideo/HunyuanVideo", context=4096, pooled=768,
           note="guidance 6.0 (HunyuanVideo.extra_conds default)"),
    Family("hunyuan-video-1.5", "diffusion", "HunyuanVideo15/HunyuanVideo15", context=3584,
           note="guidance 6.0; image-condition channels zero-filled by HunyuanVideo15.concat_cond"),
    Family("ltxv", "diffusion", "LTXV/LTXV", context=4096, conds={"attention_mask": "mask"},
           note="LTXBaseModel.forward takes attention_mask without a default"),
    Family("ltx2", "diffusion", "LTXAV/LTXAV", blocks=3, context=7680, audio=(1, 8, 4, 16),
           conds={"attention_mask": "mask"},
           note="3 blocks: the ltx2 preset keeps blocks 0 and 1 (first two of 48); context = video "
                "and audio halves of 3840; audio latent 8 ch x 16 bins"),
    Family("t5xxl", "text", "TEModel.T5_XXL", blocks=24, clip_type="sd3", te_name="t5xxl",
           depth_key="num_layers", compare_block=1, note=T5_NOTE),
    Family("umt5xxl", "text", "TEModel.T5_XXL", blocks=24, clip_type="wan", te_name="umt5xxl",
           depth_key="num_layers", compare_block=1, note=T5_NOTE),
    Family("qwen25-vl-7b", "text", "TEModel.QWEN25_7B", blocks=2, clip_type="qwen_image",
           te_name="qwen25_7b"),
    Family("qwen3-4b", "text", "TEModel.QWEN3_4B", blocks=3, clip_type="lumina2",
           te_name="qwen3_4b"),
    Family("llama31-8b", "text", "TEModel.LLAMA3_8", blocks=2, clip_type="hidream",
           te_name="llama"),
    Family("mistral-small-3", "text", "TEModel.MISTRAL3_24B_PRUNED_FLUX2", blocks=2,
           clip_type="flux2", te_name="mistral3_24b", te_config={"final_norm": True},
           note="fewer than 40 layers is ComfyUI's pruned Flux.2 variant (no layer 39), which "
                "drops the final norm; the config override keeps it, as the full model has"),
    Family("gemma", "text", "TEModel.GEMMA_2_2B", blocks=3, clip_type="lumina2",
           te_name="gemma2_2b"),
]


def find(name):
    for family in FAMILIES:
        if family.name == name:
            return family
    raise KeyError(name)
