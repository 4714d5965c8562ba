"""qfp8 — the Python face of the qfp8-cuda command, installed with it by `pip install qfp8-cuda`.

    import qfp8
    done = qfp8.convert("model-bf16.safetensors", "model-fp8.safetensors", threads=4)
    print(done.quantized, done.kept, done.output_bytes, done.seconds)
    report = qfp8.verify("model-fp8.safetensors", against="model-bf16.safetensors")
    print(report.passed, report.quality.min_snr_db)

Every call runs the bundled binary (qfp8.binary()) and reads its JSON output: there is no
second implementation. Keyword options are the command's own (`threads=4` is `--threads 4`,
`dry_run=True` is `--dry-run`); a failure raises a Qfp8Error subclass named after the
tool's exit code. docs/python-api.md has the whole API."""
from .errors import (InternalError, InvalidInputError, IODeviceError, Qfp8Error, UsageError,
                     VerificationFailed)
from .results import ConvertResult, Finding, LayerQuality, QualityReport, VerifyResult
from .tool import binary, convert, verify

__all__ = ["binary", "convert", "verify", "ConvertResult", "VerifyResult", "Finding",
           "QualityReport", "LayerQuality", "Qfp8Error", "UsageError", "InvalidInputError",
           "VerificationFailed", "IODeviceError", "InternalError", "__version__"]


def _version():
    try:
        from importlib.metadata import version
        return version("qfp8-cuda")
    except Exception:  # run from a source tree: no installed distribution
        return "0+unknown"


__version__ = _version()
