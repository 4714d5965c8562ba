"""formats_oracle.py — the expected output of float8_e5m2, mxfp8 and nvfp4 (docs/format.md
§5b), computed with numpy + ml_dtypes from the format definitions alone.

Every function takes a weight as (dtype, raw): dtype "BF16", "F16" or "F32" and `raw` a
2-D uint16/uint32 array of its bit patterns, and returns the tensors the converter writes
for that layer as {suffix: (safetensors dtype, shape, bytes)}, suffix "" being `L.weight`.
Casts are ml_dtypes' (round to nearest even); every value is clamped into the target's
finite range first, which makes each cast saturating.
"""
import math

import ml_dtypes
import numpy as np

NUMPY_DTYPE = {"BF16": ml_dtypes.bfloat16, "F16": np.float16, "F32": np.float32}
FORMATS = ("float8_e5m2", "mxfp8", "nvfp4")
BLOCK = {"float8_e5m2": 1, "mxfp8": 32, "nvfp4": 16}

E4M3_MAX = np.float32(448.0)
E5M2_MAX = np.float32(57344.0)
E2M1_MAX = np.float32(6.0)
F32 = np.float32


def widen(dtype, raw):
    """The weight as float32 (exact for all three dtypes)."""
    return np.asarray(raw).view(NUMPY_DTYPE[dtype]).astype(np.float32)


def quantizable(fmt, shape):
    """2-D with rows and columns multiples of the format's block (§5b "Shapes")."""
    return (len(shape) == 2 and shape[0] > 0 and shape[1] > 0
            and shape[0] % BLOCK[fmt] == 0 and shape[1] % BLOCK[fmt] == 0)


def comfy_quant_bytes(fmt):
    """The layer config of §2 / §5b, as json.dumps writes it."""
    return ('{"format": "%s"}' % fmt).encode()


def _f32_scalar(value):
    return ("F32", [], np.array([value], dtype=np.float32).tobytes())


def _e4m3(values):
    """float32 -> E4M3FN codes (uint8), saturating at +-448."""
    return np.clip(values, -E4M3_MAX, E4M3_MAX).astype(ml_dtypes.float8_e4m3fn).view(np.uint8)


def blocked(codes):
    """The [R, B] matrix of block-scale codes laid out as §5b "Blocked scales" defines:
    padded with zero codes to [R128, B4]; the code of (r, b) at byte
    ((r/128)*(B4/4) + b/4)*512 + (r%32)*16 + ((r%128)/32)*4 + b%4."""
    rows, blocks = codes.shape
    rows128 = -(-rows // 128) * 128
    blocks4 = -(-blocks // 4) * 4
    out = np.zeros(rows128 * blocks4, dtype=np.uint8)
    r = np.arange(rows)[:, None]
    b = np.arange(blocks)[None, :]
    offset = (((r // 128) * (blocks4 // 4) + b // 4) * 512
              + (r % 32) * 16 + ((r % 128) // 32) * 4 + b % 4)
    out[offset] = codes
    return [rows128, blocks4], out.tobytes()


def float8_e5m2(dtype, raw):
    """Per-tensor E5M2: scale = amax / 57344 (1.0 when 0), q = sat(w / scale)."""
    w = widen(dtype, raw)
    amax = F32(np.max(np.abs(w))) if w.size else F32(0)
    scale = F32(amax / E5M2_MAX)
    if scale == 0:
        scale = F32(1.0)
    q = np.clip(w / scale, -E5M2_MAX, E5M2_MAX).astype(ml_dtypes.float8_e5m2)
    return {"": ("F8_E5M2", list(w.shape), q.view(np.uint8).tobytes()),
            "_scale": _f32_scalar(scale)}


def ceil_log2_as_float32(x):
    """ceil of log2(x) rounded to float32 (§5b mxfp8 step 2): a value a hair above 2^k
    has a logarithm that rounds to k itself once |k| >= 4."""
    return math.ceil(float(np.float32(math.log2(float(x)))))


def mxfp8(dtype, raw):
    """Blocks of 32 along a row, E8M0 power-of-two scale, E4M3FN elements."""
    w = widen(dtype, raw)
    rows, cols = w.shape
    blocks = w.reshape(rows, cols // 32, 32)
    bamax = np.max(np.abs(blocks), axis=-1)
    needed = np.maximum(bamax / E4M3_MAX, F32(2.0 ** -127))
    exponents = {float(v): ceil_log2_as_float32(v) for v in np.unique(needed)}
    p = np.vectorize(lambda v: exponents[float(v)], otypes=[np.int64])(needed)
    codes = np.clip(p + 127, 0, 254)
    codes[bamax == 0] = 0
    # Division by 2^p: exact, so the one rounding is the E4M3 cast.
    divisor = np.ldexp(np.ones_like(bamax), (codes - 127).astype(np.int32))
    q = _e4m3(blocks / divisor[..., None])
    # Code 0 blocks: comfy-kitchen decodes code 0 as 0, so nonzero elements saturate
    # (w / 0 = +-Inf, clamped) and zeros stay zero codes (§5b; comfy-kitchen writes NaN).
    tiny = (codes == 0) & (bamax > 0)
    if tiny.any():
        elements = blocks[tiny]
        saturated = np.where(np.signbit(elements), np.uint8(0xFE), np.uint8(0x7E))
        zeros = np.where(np.signbit(elements), np.uint8(0x80), np.uint8(0x00))
        q[tiny] = np.where(elements == 0, zeros, saturated)
    q[bamax == 0] = 0
    shape, scale_bytes = blocked(codes.astype(np.uint8))
    return {"": ("F8_E4M3", [rows, cols], q.tobytes()),
            "_scale": ("F8_E8M0", shape, scale_bytes)}


def nvfp4_tensor_scale(dtype, w):
    """weight_scale_2: the float32 amax / 2688 rounded to the tensor's dtype, widened;
    1.0 where that is 0."""
    amax = F32(np.max(np.abs(w)))
    quotient = np.array([amax / F32(2688.0)], dtype=np.float32)
    scale = F32(quotient.astype(NUMPY_DTYPE[dtype]).astype(np.float32)[0])
    return F32(1.0) if scale == 0 else scale


def e2m1_codes(values):
    """float32 -> 4-bit E2M1 codes (sign 0x8), saturating at +-6."""
    clipped = np.clip(values, -E2M1_MAX, E2M1_MAX)
    return clipped.astype(ml_dtypes.float4_e2m1fn).view(np.uint8) & np.uint8(0x0F)


def nvfp4(dtype, raw):
    """Blocks of 16 along a row: E4M3FN block scale relative to a per-tensor F32 scale,
    E2M1 elements packed two per byte, the even element in the high nibble."""
    w = widen(dtype, raw)
    rows, cols = w.shape
    scale_2 = nvfp4_tensor_scale(dtype, w)
    blocks = w.reshape(rows, cols // 16, 16)
    bamax = np.max(np.abs(blocks), axis=-1)
    s = (bamax / F32(6.0)) / scale_2
    codes = _e4m3(np.minimum(s, E4M3_MAX))
    decoded = codes.view(ml_dtypes.float8_e4m3fn).astype(np.float32)
    total = scale_2 * decoded
    zero = total == 0
    safe_total = np.where(zero, F32(1.0), total)
    nibbles = e2m1_codes(blocks / safe_total[..., None])
    nibbles[zero] = 0
    flat = nibbles.reshape(rows, cols)
    packed = (flat[:, 0::2] << 4) | flat[:, 1::2]
    shape, scale_bytes = blocked(codes)
    return {"": ("U8", [rows, cols // 2], packed.astype(np.uint8).tobytes()),
            "_scale": ("F8_E4M3", shape, scale_bytes),
            "_scale_2": _f32_scalar(scale_2)}


QUANTIZE = {"float8_e5m2": float8_e5m2, "mxfp8": mxfp8, "nvfp4": nvfp4}


def expected_layer(fmt, dtype, raw):
    """{tensor-name suffix after "L.weight": (dtype, shape, bytes)} for one layer."""
    return QUANTIZE[fmt](dtype, raw)
