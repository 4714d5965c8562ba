"""What qfp8.convert() and qfp8.verify() return: the tool's JSON output (`convert --json`,
`verify --json`) as dataclasses. `raw` keeps the object as the tool printed it."""
from dataclasses import dataclass, field
from typing import List, Optional


@dataclass
class ConvertResult:
    """One conversion (or, with dry_run=True, its plan): tensors quantized to FP8 and kept in
    high precision, the input's and output's sizes in bytes, the seconds it took and the
    backend that ran it ("" in a dry run). `verified`: checked against the input before the
    output appeared (verify=True). `warnings`: the tool's warning log lines."""
    input: str
    output: Optional[str]
    dry_run: bool
    verified: bool
    quantized: int
    kept: int
    input_bytes: int
    output_bytes: int
    seconds: float
    backend: str
    warnings: List[str] = field(default_factory=list)
    raw: dict = field(default_factory=dict, repr=False)

    @classmethod
    def from_json(cls, obj, warnings=()):
        return cls(input=obj["input"], output=obj["output"], dry_run=bool(obj["dry_run"]),
                   verified=bool(obj["verified"]), quantized=int(obj["quantized"]),
                   kept=int(obj["kept"]), input_bytes=int(obj["input_bytes"]),
                   output_bytes=int(obj["output_bytes"]), seconds=float(obj["seconds"]),
                   backend=str(obj["backend"]), warnings=list(warnings), raw=obj)


@dataclass
class Finding:
    """One finding of verify (docs/usage.md#verify): its id (the rule, e.g. HeaderTooLarge),
    severity "ERR", "WARN" or "OK", the tensor or key it is about, and the message."""
    id: str
    severity: str
    subject: str
    message: str


@dataclass
class LayerQuality:
    """One quantized layer re-derived from the source (verify against=...). snr_db is None
    for a layer reproduced exactly (infinite SNR)."""
    layer: str
    numel: int
    snr_db: Optional[float]
    relative_l2: float
    max_abs_error: float
    flushed_fraction: float
    saturated_fraction: float


@dataclass
class QualityReport:
    layers: int
    exact_layers: int
    mean_snr_db: float
    min_snr_db: Optional[float]
    min_snr_layer: str
    max_relative_l2: float
    per_layer: List[LayerQuality] = field(default_factory=list, repr=False)

    @classmethod
    def from_json(cls, obj):
        summary = obj["summary"]
        return cls(layers=summary["layers"], exact_layers=summary["exact_layers"],
                   mean_snr_db=summary["mean_snr_db"], min_snr_db=summary["min_snr_db"],
                   min_snr_layer=summary["min_snr_layer"],
                   max_relative_l2=summary["max_relative_l2"],
                   per_layer=[LayerQuality(**row) for row in obj["layers"]])


@dataclass
class VerifyResult:
    """One verified file: passed (no error finding), the layout found, the quantized layers
    checked, the error and warning counts, every finding, and with against=... the
    per-layer quality."""
    file: str
    source: Optional[str]
    layout: str
    passed: bool
    layers: int
    errors: int
    warnings: int
    findings: List[Finding] = field(default_factory=list)
    quality: Optional[QualityReport] = None
    raw: dict = field(default_factory=dict, repr=False)

    @classmethod
    def from_json(cls, obj):
        summary = obj["summary"]
        quality = obj.get("quality")
        return cls(file=obj["file"], source=obj["source"], layout=obj["layout"],
                   passed=bool(obj["passed"]), layers=summary["layers"],
                   errors=summary["errors"], warnings=summary["warnings"],
                   findings=[Finding(**f) for f in obj["findings"]],
                   quality=QualityReport.from_json(quality) if quality else None, raw=obj)
