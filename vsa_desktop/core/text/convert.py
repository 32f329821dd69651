"""Export a text model to ONNX once, quantize it to int8, and check the int8 copy's fidelity.

Cache layout: ``cache_dir()/onnx/<key>/`` holds ``model.onnx`` (fp32), ``model.int8.onnx``,
``tokenizer.json``, ``meta.json`` (labels, special tokens, window size) and ``report.json``
(written last: its presence means the folder is complete).

The key is the first 24 hex digits of a sha256 over: the exporter version, ``config.json``'s
bytes, ``tokenizer.json``'s bytes (when present), and for every weight file its name, size,
modification time (ns) and the sha256 of its first MiB. That is cheap enough to compute on
every start (a few ms, even for a 330 MB model) and changes whenever the weights are replaced,
retrained or re-downloaded; copying a model folder elsewhere gives a new key (one extra export)
rather than risking a stale one.
"""

from __future__ import annotations

import dataclasses
import hashlib
import importlib.util
import json
import logging
import os
import shutil
import threading
import time
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from vsa_desktop.core.cancel import CancelToken, ProgressCallback, check
from vsa_desktop.core.errors import InputError, ModelError, ModelNotAvailableError
from vsa_desktop.core.paths import cache_dir
from vsa_desktop.core.resources import resource_path
from vsa_desktop.core.text.onnx_backend import (
    FP32_FILE,
    INT8_FILE,
    META_FILE,
    TOKENIZER_FILE,
    OnnxTextAnalyzer,
)
from vsa_desktop.core.text.transformers_backend import missing_model_message

log = logging.getLogger(__name__)

EXPORT_VERSION = 1
OPSET = 17
REPORT_FILE = "report.json"
MIN_AGREEMENT = 0.99
MAX_MEAN_ABS_DIFF = 0.01
FP32_MAX_ABS_DIFF = 1e-3
# Dynamic int8 on the MatMuls (attention projections and feed-forward layers: where the time
# goes) and on Gather (the 50265 x 768 embedding table). Measured on the DistilRoBERTa-shaped
# model: adding Gather leaves latency and fidelity unchanged (mean |dp| 0.00118 vs 0.00110 on
# the probes) but shrinks the file from 199 MB to 78 MB and the session start from 0.8 to 0.3 s.
QUANT_OP_TYPES = ("MatMul", "Gather")
WEIGHT_PATTERNS = ("*.safetensors", "pytorch_model*.bin")
HASH_HEAD_BYTES = 1 << 20
PROBE_GROUP = 32  # probes scored together; cancel is checked between groups

_locks: dict[str, threading.Lock] = {}
_locks_guard = threading.Lock()


@dataclass(frozen=True)
class Fidelity:
    """How far the ONNX copies are from torch on the probe sentences.

    Attributes:
        probes: number of probe texts.
        agreement: share of probes where int8 and torch have the same top emotion.
        mean_abs_diff: mean |p_int8 - p_torch| over probes and the seven emotions.
        max_abs_diff: the largest such difference.
        fp32_agreement / fp32_max_abs_diff: the same for the fp32 export.
    """

    probes: int
    agreement: float
    mean_abs_diff: float
    max_abs_diff: float
    fp32_agreement: float
    fp32_max_abs_diff: float


@dataclass(frozen=True)
class ConvertReport:
    """What ``ensure_onnx`` produced (or found in the cache).

    Attributes:
        model_id: the model as given.
        key: the cache key (see the module docstring).
        folder: the cache folder.
        fp32_ok: the fp32 export matches torch (max difference below 1e-3).
        int8_passed: the int8 copy passed the fidelity check and may be used.
        reason: why int8 (or fp32) is not used; empty when all passed.
        fidelity: the numbers behind the decision.
        thresholds: the limits used (min_agreement, max_mean_abs_diff).
        reused: True when the cache already held this model (nothing was exported).
        seconds: time spent exporting and checking (0 when reused).
    """

    model_id: str
    key: str
    folder: Path
    fp32_ok: bool
    int8_passed: bool
    reason: str
    fidelity: Fidelity
    thresholds: dict[str, float] = field(default_factory=dict)
    reused: bool = False
    seconds: float = 0.0

    @property
    def best_runtime(self) -> str:
        """``onnx-int8``, ``onnx`` or ``torch``: what runtime ``auto`` picks for this model."""
        if self.int8_passed and self.fp32_ok:
            return "onnx-int8"
        return "onnx" if self.fp32_ok else "torch"

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict (the content of ``report.json``)."""
        data = dataclasses.asdict(self)
        data["folder"] = str(self.folder)
        data["best_runtime"] = self.best_runtime
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ConvertReport:
        """Rebuild a report read from ``report.json``."""
        return cls(
            model_id=str(data["model_id"]),
            key=str(data["key"]),
            folder=Path(data["folder"]),
            fp32_ok=bool(data["fp32_ok"]),
            int8_passed=bool(data["int8_passed"]),
            reason=str(data["reason"]),
            fidelity=Fidelity(**data["fidelity"]),
            thresholds=dict(data.get("thresholds", {})),
            seconds=float(data.get("seconds", 0.0)),
        )


def onnx_root() -> Path:
    """The folder that holds one sub-folder per converted model."""
    return cache_dir() / "onnx"


def model_folder(model: str) -> Path | None:
    """The local folder of ``model`` (a folder path, or an HF id's cached snapshot), or None."""
    path = Path(model).expanduser()
    if path.is_dir():
        return path if (path / "config.json").is_file() else None
    if model.count("/") != 1 or model.startswith((".", "/", "~")):
        return None
    try:
        from huggingface_hub import try_to_load_from_cache
    except ImportError:
        return None
    found = try_to_load_from_cache(model, "config.json")
    return Path(found).parent if isinstance(found, str) else None


def weight_files(folder: Path) -> list[Path]:
    """The weight files of a model folder: safetensors when there are any, else .bin."""
    for pattern in WEIGHT_PATTERNS:
        found = sorted(folder.glob(pattern))
        if found:
            return found
    return []


def model_key(folder: Path) -> str:
    """The cache key of a model folder (see the module docstring)."""
    digest = hashlib.sha256(f"vsa-onnx/{EXPORT_VERSION}/opset{OPSET}".encode())
    for name in ("config.json", "tokenizer.json"):
        if (folder / name).is_file():
            digest.update(name.encode() + b"\0" + (folder / name).read_bytes())
    for weights in weight_files(folder):
        stat = weights.stat()
        with weights.open("rb") as fh:
            head = hashlib.sha256(fh.read(HASH_HEAD_BYTES)).hexdigest()
        digest.update(f"{weights.name}|{stat.st_size}|{stat.st_mtime_ns}|{head}".encode())
    return digest.hexdigest()[:24]


def onnx_available() -> bool:
    """True when onnxruntime and tokenizers can be imported."""
    return all(importlib.util.find_spec(m) is not None for m in ("onnxruntime", "tokenizers"))


def cached_report(model: str) -> ConvertReport | None:
    """The report of ``model``'s converted copy when the cache holds a complete one, else None.

    Never converts and never imports torch or transformers.
    """
    folder = model_folder(model)
    if folder is None or not onnx_available():
        return None
    target = onnx_root() / model_key(folder)
    return _read_report(target, model)


def ensure_onnx(
    model_id: str,
    progress: ProgressCallback | None = None,
    *,
    min_agreement: float = MIN_AGREEMENT,
    max_mean_abs_diff: float = MAX_MEAN_ABS_DIFF,
    probes: list[str] | None = None,
    force: bool = False,
    cancel: CancelToken | None = None,
) -> ConvertReport:
    """Export ``model_id`` to ONNX, quantize it and check the int8 copy, once.

    The second call for the same weights returns the cached report (``reused=True``).
    Safe to run in a background thread while torch serves text.

    Args:
        model_id: an HF id in the local cache, a local model folder, or ``auto``.
        progress: called with (stage, fraction of the whole job).
        min_agreement: int8 must agree with torch on the top emotion at least this often.
        max_mean_abs_diff: int8's mean absolute probability difference must stay below this.
        probes: texts for the fidelity check (default: ``resources/probes/text_probes.txt``).
        force: convert again even when the cache holds this model.
        cancel: checked between stages and between groups of probes; a cancelled
            conversion raises ``Cancelled`` and leaves no half-written folder.

    Raises:
        ModelNotAvailableError: the model is not on disk, or torch/transformers/onnx are
            not installed.
        ModelError: the export failed.
    """
    from vsa_desktop.core.text.loader import LITE_ID, resolve_model

    model = resolve_model(model_id)
    if model == LITE_ID:
        raise InputError("The built-in lite model needs no conversion: pick a transformer model.")
    folder = model_folder(model)
    if folder is None:
        raise ModelNotAvailableError(missing_model_message(model), kind="model_missing")
    key = model_key(folder)
    target = onnx_root() / key
    with _lock_for(key):
        report = None if force else _read_report(target, model)
        if report is not None:
            _tell(progress, "done", 1.0)
            return dataclasses.replace(report, reused=True)
        thresholds = {"min_agreement": min_agreement, "max_mean_abs_diff": max_mean_abs_diff}
        return _convert(
            model,
            folder,
            key,
            target,
            thresholds,
            probes if probes is not None else load_probes(),
            progress,
            cancel,
        )


def load_probes(path: Path | None = None) -> list[str]:
    """The fidelity-check texts, one per line (blank lines and ``#`` comments skipped)."""
    path = path or resource_path("probes", "text_probes.txt")
    lines = path.read_text(encoding="utf-8").splitlines()
    return [line for line in lines if line.strip() and not line.startswith("#")]


def _convert(
    model: str,
    folder: Path,
    key: str,
    target: Path,
    thresholds: dict[str, float],
    probes: list[str],
    progress: ProgressCallback | None,
    cancel: CancelToken | None = None,
) -> ConvertReport:
    started = time.perf_counter()
    work = target.parent / f".{key}.tmp-{os.getpid()}-{threading.get_ident()}"
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    try:
        _tell(progress, "loading", 0.0)
        torch_analyzer = _torch_analyzer(model, folder)
        check(cancel)
        _tell(progress, "exporting", 0.1)
        export_folder(torch_analyzer, work)
        check(cancel)
        _tell(progress, "quantizing", 0.4)
        quantize(work / FP32_FILE, work / INT8_FILE)
        check(cancel)
        _tell(progress, "checking", 0.6)
        fidelity = check_fidelity(torch_analyzer, work, probes, model, cancel)
        report = _decide(model, key, target, fidelity, thresholds, time.perf_counter() - started)
        (work / REPORT_FILE).write_text(json.dumps(report.to_dict(), indent=2), encoding="utf-8")
        _publish(work, target)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    log.info("converted %s to ONNX in %.1f s: %s", model, report.seconds, report.best_runtime)
    from vsa_desktop.core.text.loader import forget

    forget(model)  # an analyzer loaded with runtime auto switches to ONNX on its next load
    _tell(progress, "done", 1.0)
    return report


def _torch_analyzer(model: str, folder: Path) -> Any:
    missing = [m for m in ("torch", "transformers", "onnx") if importlib.util.find_spec(m) is None]
    if missing or not onnx_available():
        raise ModelNotAvailableError(
            "Converting a model to ONNX needs torch, transformers, onnx and onnxruntime: "
            "install the app with its [torch] extra, or keep the torch runtime.",
            detail=f"missing: {missing}",
        )
    from vsa_desktop.core.text.transformers_backend import TransformersTextAnalyzer

    return TransformersTextAnalyzer(str(folder), display_id=model)


def export_folder(analyzer: Any, work: Path) -> None:
    """Write ``model.onnx``, ``tokenizer.json`` and ``meta.json`` for a loaded torch analyzer."""
    tokenizer = analyzer._tokenizer
    backend = getattr(tokenizer, "backend_tokenizer", None)
    if backend is None:
        raise ModelError(
            "This model has no fast tokenizer (tokenizer.json), so it cannot run "
            "on ONNX: use the torch runtime."
        )
    backend.save(str(work / TOKENIZER_FILE))
    config = analyzer._model.config
    meta = {
        "labels": [str(config.id2label[i]) for i in sorted(config.id2label)],
        "prefix": analyzer.windows.prefix,
        "suffix": analyzer.windows.suffix,
        "pad_id": analyzer.windows.pad_id,
        "max_tokens": analyzer.windows.max_tokens,
        "model_type": getattr(config, "model_type", ""),
        "exporter": f"torch.onnx TorchScript, opset {OPSET}, export version {EXPORT_VERSION}",
    }
    (work / META_FILE).write_text(json.dumps(meta, indent=2), encoding="utf-8")
    export_onnx(analyzer._model, work / FP32_FILE, analyzer.windows.pad_id)


def export_onnx(model: Any, path: Path, pad_id: int) -> None:
    """Export a transformers sequence classifier with dynamic batch and sequence axes."""
    import torch

    ids = torch.tensor([[0, 5, 6, 7, 2], [0, 5, 2, pad_id, pad_id]], dtype=torch.long)
    mask = (ids != pad_id).long()
    mask[:, 0] = 1
    axes = {0: "batch", 1: "sequence"}
    try:
        with warnings.catch_warnings(), torch.inference_mode(False), torch.no_grad():
            warnings.simplefilter("ignore")  # tracer and deprecation chatter of the exporter
            torch.onnx.export(
                model,
                (ids, mask),
                str(path),
                input_names=["input_ids", "attention_mask"],
                output_names=["logits"],
                opset_version=OPSET,
                dynamo=False,
                dynamic_axes={"input_ids": axes, "attention_mask": axes, "logits": {0: "batch"}},
            )
    except Exception as exc:  # the exporter raises many unrelated types
        raise ModelError(
            "This model could not be exported to ONNX: use the torch runtime.", detail=repr(exc)
        ) from None


def quantize(source: Path, target: Path) -> None:
    """Dynamic int8 quantization (QInt8 weights) of the ops in ``QUANT_OP_TYPES``."""
    from onnxruntime.quantization import QuantType, quantize_dynamic

    root = logging.getLogger()
    quiet = _DropMessage("Please consider to run pre-processing")
    root.addFilter(quiet)  # the quantizer logs this advice on the root logger
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            quantize_dynamic(
                str(source),
                str(target),
                weight_type=QuantType.QInt8,
                op_types_to_quantize=list(QUANT_OP_TYPES),
            )
    finally:
        root.removeFilter(quiet)


class _DropMessage(logging.Filter):
    """Drops log records whose message starts with a given text."""

    def __init__(self, prefix: str) -> None:
        super().__init__()
        self.prefix = prefix

    def filter(self, record: logging.LogRecord) -> bool:
        return not str(record.msg).startswith(self.prefix)


def check_fidelity(
    torch_analyzer: Any,
    work: Path,
    probes: list[str],
    model: str,
    cancel: CancelToken | None = None,
) -> Fidelity:
    """Compare the fp32 and int8 ONNX copies with torch on ``probes``."""
    reference = _scores(torch_analyzer, probes, cancel)
    fp32 = _scores(OnnxTextAnalyzer(work, model, int8=False), probes, cancel)
    int8 = _scores(OnnxTextAnalyzer(work, model, int8=True), probes, cancel)
    agreement, mean_diff, max_diff = _compare(reference, int8)
    fp32_agreement, _, fp32_max = _compare(reference, fp32)
    return Fidelity(
        probes=len(probes),
        agreement=agreement,
        mean_abs_diff=mean_diff,
        max_abs_diff=max_diff,
        fp32_agreement=fp32_agreement,
        fp32_max_abs_diff=fp32_max,
    )


def _scores(
    analyzer: Any, texts: list[str], cancel: CancelToken | None = None
) -> list[list[float]]:
    out: list[list[float]] = []
    for start in range(0, len(texts), PROBE_GROUP):
        check(cancel)
        group = analyzer.analyze_batch(texts[start : start + PROBE_GROUP])
        out.extend(list(r.scores.values()) for r in group)
    return out


def _compare(ref: list[list[float]], other: list[list[float]]) -> tuple[float, float, float]:
    same = sum(_argmax(a) == _argmax(b) for a, b in zip(ref, other, strict=True))
    diffs = [abs(x - y) for a, b in zip(ref, other, strict=True) for x, y in zip(a, b, strict=True)]
    return same / len(ref), sum(diffs) / len(diffs), max(diffs)


def _argmax(values: list[float]) -> int:
    return max(range(len(values)), key=values.__getitem__)


def _decide(
    model: str, key: str, target: Path, fid: Fidelity, thresholds: dict[str, float], seconds: float
) -> ConvertReport:
    reasons = []
    fp32_ok = fid.fp32_max_abs_diff <= FP32_MAX_ABS_DIFF
    if not fp32_ok:
        reasons.append(
            f"the fp32 export differs from torch by up to {fid.fp32_max_abs_diff:.2g}"
            f" (limit {FP32_MAX_ABS_DIFF:g}), so torch stays in use"
        )
    if fid.agreement < thresholds["min_agreement"]:
        reasons.append(
            f"int8 agrees with torch on {fid.agreement:.1%} of the probes "
            f"(needs {thresholds['min_agreement']:.1%})"
        )
    if fid.mean_abs_diff > thresholds["max_mean_abs_diff"]:
        reasons.append(
            f"int8's mean probability difference is {fid.mean_abs_diff:.4f} "
            f"(limit {thresholds['max_mean_abs_diff']:g})"
        )
    int8_ok = fid.agreement >= thresholds["min_agreement"] and (
        fid.mean_abs_diff <= thresholds["max_mean_abs_diff"]
    )
    reason = "; ".join(reasons)
    if not int8_ok:
        reason += "; fp32 ONNX is used instead" if fp32_ok else ""
        log.warning("int8 copy of %s not used: %s", model, reason)
    return ConvertReport(
        model_id=model,
        key=key,
        folder=target,
        fp32_ok=fp32_ok,
        int8_passed=int8_ok,
        reason=reason,
        fidelity=fid,
        thresholds=thresholds,
        seconds=round(seconds, 2),
    )


def _publish(work: Path, target: Path) -> None:
    """Move the finished folder into place (another process may have won the race)."""
    if target.exists():
        shutil.rmtree(target, ignore_errors=True)
    try:
        os.replace(work, target)
    except OSError:
        if not (target / REPORT_FILE).is_file():
            raise


def _read_report(target: Path, model: str) -> ConvertReport | None:
    path = target / REPORT_FILE
    if not path.is_file():
        return None
    try:
        report = ConvertReport.from_dict(json.loads(path.read_text(encoding="utf-8")))
    except (OSError, ValueError, KeyError, TypeError) as exc:
        log.warning("ignoring unreadable ONNX report %s: %s", path, exc)
        return None
    needed = [FP32_FILE, META_FILE, TOKENIZER_FILE] + ([INT8_FILE] if report.int8_passed else [])
    if not all((target / name).is_file() for name in needed):
        return None
    return dataclasses.replace(report, model_id=model, folder=target)


def _lock_for(key: str) -> threading.Lock:
    with _locks_guard:
        return _locks.setdefault(key, threading.Lock())


def _tell(progress: ProgressCallback | None, stage: str, fraction: float) -> None:
    if progress is not None:
        progress(stage, fraction)
