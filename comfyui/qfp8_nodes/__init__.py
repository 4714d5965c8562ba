"""qfp8_nodes — ComfyUI custom nodes that convert a model in models/diffusion_models or
models/text_encoders to FP8 scaled with the installed qfp8-cuda command.
Install: copy or link this folder into ComfyUI/custom_nodes/ (docs/comfyui-node.md)."""
from .convert_nodes import NODE_CLASS_MAPPINGS, NODE_DISPLAY_NAME_MAPPINGS

__all__ = ["NODE_CLASS_MAPPINGS", "NODE_DISPLAY_NAME_MAPPINGS"]
