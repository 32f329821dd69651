"""Choose and load the text analyzer for a model id and runtime, once per process."""

from __future__ import annotations

import logging
import threading
from pathlib import Path

from vsa_desktop.core.errors import InputError, ModelError
from vsa_desktop.core.settings import DEFAULT_TEXT_MODEL
from vsa_desktop.core.text.base import TextAnalyzer

log = logging.getLogger(__name__)

LITE_ID = "builtin:lite"
AUTO = "auto"

_cache: dict[tuple[str, str], TextAnalyzer] = {}
_lock = threading.RLock()  # re-entrant: _build may convert, and converting calls forget()


def model_on_disk(model: str) -> bool:
    """True when ``model`` is a local model folder or an HF id already in the local cache."""
    if model == LITE_ID:
        return True
    path = Path(model).expanduser()
    if path.is_dir():
        return (path / "config.json").is_file()
    if model.count("/") != 1 or model.startswith((".", "/", "~")):
        return False
    try:
        from huggingface_hub import try_to_load_from_cache
    except ImportError:
        return False
    found = try_to_load_from_cache(model, "config.json")
    return isinstance(found, str)


def resolve_model(model: str) -> str:
    """Turn ``auto`` into a concrete id: DistilRoBERTa when on disk, else the lite model."""
    if model in ("", AUTO):
        return DEFAULT_TEXT_MODEL if model_on_disk(DEFAULT_TEXT_MODEL) else LITE_ID
    return model


def load_text_analyzer(model: str = AUTO, runtime: str = AUTO) -> TextAnalyzer:
    """Return the (cached) analyzer for ``model`` on ``runtime``.

    Never downloads: a model that is not on disk raises ``ModelNotAvailableError`` with the
    sentence that says how to get it.

    Args:
        model: ``auto``, ``builtin:lite``, an HF id in the local cache, or a local folder.
        runtime: ``auto``, ``torch``, ``onnx`` or ``onnx-int8`` (ignored by the lite model).
    """
    concrete = resolve_model(model)
    key = (concrete, runtime if concrete != LITE_ID else "numpy")
    with _lock:
        if key not in _cache:
            _cache[key] = _build(concrete, runtime)
        return _cache[key]


def _build(model: str, runtime: str) -> TextAnalyzer:
    if model == LITE_ID:
        from vsa_desktop.core.text.lite import load_lite

        return load_lite()
    if runtime not in (AUTO, "torch", "onnx", "onnx-int8"):
        raise InputError(f"Unknown text runtime {runtime!r}: use auto, torch, onnx or onnx-int8.")
    if runtime != "torch":
        analyzer = _build_onnx(model, runtime)
        if analyzer is not None:
            return analyzer
    from vsa_desktop.core.text.transformers_backend import TransformersTextAnalyzer

    return TransformersTextAnalyzer(model)


def _build_onnx(model: str, runtime: str) -> TextAnalyzer | None:
    """The ONNX analyzer for ``runtime``, or None when ``auto`` should fall back to torch.

    ``auto`` only uses a copy that is already converted (converting is ``ensure_onnx``'s job,
    run by the GUI in the background or by ``vsa models convert``); ``onnx``/``onnx-int8``
    convert first when nothing is cached. An int8 copy that failed its fidelity check is
    never used: fp32 ONNX serves instead (and says so in ``text.runtime``).
    """
    from vsa_desktop.core.text import convert

    if runtime == AUTO:
        report = convert.cached_report(model)
        if report is None:
            return None
    else:
        report = convert.ensure_onnx(model)
    choice = report.best_runtime
    if choice == "torch":
        log.warning("ONNX copy of %s not used: %s", model, report.reason)
        return None
    if runtime == "onnx-int8" and choice != "onnx-int8":
        log.warning("int8 copy of %s not used: %s", model, report.reason)
    from vsa_desktop.core.text.onnx_backend import OnnxTextAnalyzer

    int8 = choice == "onnx-int8" and runtime != "onnx"
    try:
        return OnnxTextAnalyzer(report.folder, model, int8=int8)
    except ModelError as exc:
        if runtime != AUTO:
            raise
        log.warning("falling back to torch for %s: %s (%s)", model, exc.message, exc.detail)
        return None


def clear_cache() -> None:
    """Forget loaded analyzers (tests, settings changes)."""
    with _lock:
        _cache.clear()


def forget(model: str) -> None:
    """Drop the cached ``auto`` analyzer of ``model`` so the next load picks a new ONNX copy."""
    with _lock:
        _cache.pop((model, AUTO), None)
