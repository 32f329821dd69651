"""Model management: what is on disk and ready to run, and downloads from the Hugging Face hub."""

from __future__ import annotations

import dataclasses
import fnmatch
import importlib.util
import logging
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from vsa_desktop.core.cancel import CancelToken, check
from vsa_desktop.core.errors import Cancelled, InputError, ModelNotAvailableError
from vsa_desktop.core.settings import load_settings
from vsa_desktop.core.text.convert import cached_report, model_folder, weight_files
from vsa_desktop.core.text.loader import LITE_ID, resolve_model

log = logging.getLogger(__name__)

# progress(done_bytes, total_bytes); total is 0 while unknown.
DownloadProgress = Callable[[int, int], None]

CONFIG_FILES = ("config.json",)
TOKENIZER_FILES = (
    "tokenizer.json",
    "tokenizer_config.json",
    "special_tokens_map.json",
    "added_tokens.json",
    "vocab.json",
    "merges.txt",
    "vocab.txt",
    "sentencepiece.bpe.model",
    "spiece.model",
)
SAFETENSORS = ("model.safetensors", "model-*-of-*.safetensors", "model.safetensors.index.json")
PYTORCH_BIN = ("pytorch_model.bin", "pytorch_model-*-of-*.bin", "pytorch_model.bin.index.json")
NETWORK_TIMEOUT_S = 5.0


@dataclass(frozen=True)
class ModelStatus:
    """Where a text model stands on this computer.

    Attributes:
        model_id: the model (HF id or folder; ``auto`` resolved).
        configured: it is the model the settings (or ``VSA_TEXT_MODEL``) select.
        builtin: the built-in lite model (always there, numpy only).
        on_disk: config and weights are on this computer.
        path: the local folder (None when not on disk or built in).
        size_bytes: total size of the folder's files.
        torch_ready: on disk and torch + transformers importable.
        onnx_ready: a converted fp32 ONNX copy is cached and matches torch.
        onnx_int8_ready: the int8 copy is cached and passed the fidelity check.
        int8_reason: why int8 is not used (empty when it is, or when not converted).
        best_runtime: what ``auto`` would run: onnx-int8, onnx, torch, numpy or "".
    """

    model_id: str
    configured: bool
    builtin: bool
    on_disk: bool
    path: Path | None
    size_bytes: int
    torch_ready: bool
    onnx_ready: bool
    onnx_int8_ready: bool
    int8_reason: str
    best_runtime: str

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict."""
        data = dataclasses.asdict(self)
        data["path"] = str(self.path) if self.path else None
        return data


def configured_model() -> str:
    """The text model the settings select (``VSA_TEXT_MODEL`` wins), ``auto`` resolved."""
    return resolve_model(load_settings().effective_text_model())


def status(model_id: str | None = None) -> ModelStatus:
    """Report whether ``model_id`` (default: the configured model) is on disk and ready.

    Never touches the network and never imports torch.
    """
    configured = configured_model()
    model = resolve_model(model_id) if model_id else configured
    if model == LITE_ID:
        return ModelStatus(
            model, model == configured, True, True, None, 0, False, False, False, "", "numpy"
        )
    folder = model_folder(model)
    on_disk = folder is not None and bool(weight_files(folder))
    torch_ready = on_disk and _importable("torch", "transformers")
    report = cached_report(model) if on_disk else None
    onnx_ready = report is not None and report.fp32_ok
    int8_ready = onnx_ready and report is not None and report.int8_passed
    if int8_ready:
        best = "onnx-int8"
    elif onnx_ready:
        best = "onnx"
    else:
        best = "torch" if torch_ready else ""
    return ModelStatus(
        model_id=model,
        configured=model == configured,
        builtin=False,
        on_disk=on_disk,
        path=folder if on_disk else None,
        size_bytes=_folder_size(folder) if on_disk else 0,
        torch_ready=torch_ready,
        onnx_ready=onnx_ready,
        onnx_int8_ready=int8_ready,
        int8_reason=report.reason if report is not None else "",
        best_runtime=best,
    )


def is_offline(offline: bool | None = None) -> bool:
    """True when downloads are off: the argument, ``VSA_OFFLINE``, ``HF_HUB_OFFLINE`` or settings."""
    if offline is not None:
        return offline
    for name in ("VSA_OFFLINE", "HF_HUB_OFFLINE"):
        if os.environ.get(name, "").strip().lower() not in ("", "0", "false", "no", "off"):
            return True
    return load_settings().offline


def choose_files(repo_files: list[str]) -> list[str]:
    """The files of a model repo worth downloading: config, tokenizer and one weight format.

    safetensors is preferred; ``pytorch_model.bin`` is taken only when there is none.

    Raises:
        ModelNotAvailableError: the repo has no config.json or no weights.
    """

    def matching(patterns: tuple[str, ...]) -> list[str]:
        return [f for f in repo_files if any(fnmatch.fnmatch(f, p) for p in patterns)]

    weights = matching(SAFETENSORS) or matching(PYTORCH_BIN)
    if "config.json" not in repo_files or not weights:
        raise ModelNotAvailableError(
            "This Hugging Face repository holds no usable text model (it needs config.json and "
            "model.safetensors or pytorch_model.bin): check the model id.",
            kind="model_missing",
        )
    return matching(CONFIG_FILES) + matching(TOKENIZER_FILES) + weights


def download(
    model_id: str,
    progress: DownloadProgress | None = None,
    cancel: CancelToken | None = None,
    *,
    offline: bool | None = None,
) -> Path:
    """Fetch a text model from the Hugging Face hub into the local HF cache.

    A local folder, or a model already in the cache, is returned at once.

    Args:
        model_id: an HF id (``owner/name``) or a local folder.
        progress: called with (bytes done, bytes in total) as files arrive.
        cancel: set it to stop the download (raises ``Cancelled``; partial files are kept
            and resumed next time).
        offline: force offline (True) or online (False); default from the environment
            (``VSA_OFFLINE``, ``HF_HUB_OFFLINE``) and the settings.

    Returns:
        The local model folder.

    Raises:
        ModelNotAvailableError: offline and not on disk, unknown repo, or the hub is not
            reachable (then ``kind`` is ``"network"``).
        Cancelled: the cancel token was set.
    """
    model = resolve_model(model_id)
    if model == LITE_ID:
        raise InputError(
            "The built-in lite model ships with the app: there is nothing to download."
        )
    folder = model_folder(model)
    if folder is not None and weight_files(folder):
        return folder
    if Path(model).expanduser().exists() or model.count("/") != 1:
        raise ModelNotAvailableError(
            f"{model} is neither a model folder (with config.json and weights) nor a Hugging "
            "Face id like owner/name: check the name.",
            kind="model_missing",
        )
    if is_offline(offline):
        raise ModelNotAvailableError(
            f"The text model {model} is not on this computer and downloads are off: go online "
            f"(unset VSA_OFFLINE/HF_HUB_OFFLINE, untick offline) and run `vsa models download "
            f"{model}`, or copy the model folder here and point --text-model at it.",
            kind="model_missing",
        )
    check(cancel)
    endpoint = os.environ.get("HF_ENDPOINT") or None
    files, total = _list_repo(model, endpoint)
    return _fetch(model, files, total, endpoint, progress, cancel)


def _list_repo(model: str, endpoint: str | None) -> tuple[list[str], int]:
    from huggingface_hub import HfApi

    try:
        info = HfApi(endpoint=endpoint).model_info(
            model, files_metadata=True, timeout=NETWORK_TIMEOUT_S
        )
    except Exception as exc:  # httpx and huggingface_hub errors; sorted out by _hub_error
        raise _hub_error(model, exc) from None
    sizes = {s.rfilename: int(s.size or 0) for s in info.siblings or []}
    files = choose_files(sorted(sizes))
    return files, sum(sizes[f] for f in files)


def _fetch(
    model: str,
    files: list[str],
    total: int,
    endpoint: str | None,
    progress: DownloadProgress | None,
    cancel: CancelToken | None,
) -> Path:
    from huggingface_hub import snapshot_download

    bar = _progress_class(total, progress, cancel)
    try:
        path = snapshot_download(
            model,
            allow_patterns=files,
            tqdm_class=bar,
            endpoint=endpoint,
            etag_timeout=NETWORK_TIMEOUT_S,
            max_workers=2,
        )
    except Cancelled:
        raise
    except Exception as exc:
        raise _hub_error(model, exc) from None
    if progress is not None:
        progress(total, total)
    return Path(path)


def _hub_error(model: str, exc: Exception) -> ModelNotAvailableError:
    """Turn a hub or network exception into one sentence."""
    name = type(exc).__name__
    text = f"{name}: {exc}"
    log.info("hub error for %s: %s", model, text)
    if name in ("RepositoryNotFoundError", "GatedRepoError", "RevisionNotFoundError"):
        return ModelNotAvailableError(
            f"The Hugging Face hub has no public model {model}: check the id (owner/name).",
            detail=text,
            kind="model_missing",
        )
    return ModelNotAvailableError(
        f"The Hugging Face hub could not be reached to download {model}: check the internet "
        "connection (and HF_ENDPOINT or proxy settings) and try again, or copy the model "
        "folder here and point --text-model at it.",
        detail=text,
        kind="network",
    )


def _progress_class(
    total: int, progress: DownloadProgress | None, cancel: CancelToken | None
) -> type:
    """A tqdm-compatible class that forwards byte counts to ``progress`` and obeys ``cancel``."""
    from tqdm.auto import tqdm

    byte_bars: list[Any] = []

    class _Forward(tqdm):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            kwargs.pop("name", None)
            kwargs["disable"] = True
            super().__init__(*args, **kwargs)
            self.n = kwargs.get("initial", 0) or 0
            self._bytes = kwargs.get("unit") == "B"
            if self._bytes:
                byte_bars.append(self)

        def update(self, n: float | None = 1) -> bool | None:
            check(cancel)
            self.n += n or 0
            if self._bytes and progress is not None:
                done = int(max(b.n for b in byte_bars))
                progress(min(done, total) if total else done, total)
            return None

    return _Forward


def _folder_size(folder: Path | None) -> int:
    if folder is None:
        return 0
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file())


def _importable(*modules: str) -> bool:
    return all(importlib.util.find_spec(m) is not None for m in modules)
