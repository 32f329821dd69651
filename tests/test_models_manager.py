"""Model manager: status of local and missing models, offline and unreachable-hub downloads."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from vsa_desktop.core import models
from vsa_desktop.core.cancel import CancelToken
from vsa_desktop.core.errors import Cancelled, ModelNotAvailableError
from vsa_desktop.core.settings import Settings, save_settings
from vsa_desktop.core.text import convert

ROOT = Path(__file__).resolve().parents[1]
MISSING = "nobody/not-a-real-model-xyz"


def test_status_of_a_local_folder(tiny_model_dir: Path) -> None:
    st = models.status(str(tiny_model_dir))
    assert st.on_disk and not st.builtin
    assert st.path == tiny_model_dir
    files = [p for p in tiny_model_dir.iterdir() if p.is_file()]
    assert st.size_bytes == sum(p.stat().st_size for p in files) > 0
    assert st.torch_ready
    assert not st.onnx_ready and not st.onnx_int8_ready
    assert st.best_runtime == "torch"
    assert not st.configured
    json.dumps(st.to_dict())


def test_status_after_conversion(tiny_model_dir: Path) -> None:
    convert.ensure_onnx(str(tiny_model_dir), probes=["I am happy", "so sad", "ok"])
    st = models.status(str(tiny_model_dir))
    assert st.onnx_ready
    assert st.onnx_int8_ready is convert.cached_report(str(tiny_model_dir)).int8_passed
    assert st.best_runtime in ("onnx-int8", "onnx")


def test_status_of_the_configured_model(tiny_model_dir: Path) -> None:
    save_settings(Settings(text_model=str(tiny_model_dir)))
    st = models.status()
    assert st.model_id == str(tiny_model_dir) and st.configured


def test_status_of_a_missing_model() -> None:
    st = models.status(MISSING)
    assert not st.on_disk and st.path is None and st.size_bytes == 0
    assert not st.torch_ready and not st.onnx_ready and st.best_runtime == ""


def test_status_of_the_builtin_model() -> None:
    st = models.status("builtin:lite")
    assert st.builtin and st.on_disk and st.best_runtime == "numpy"


def test_download_of_a_local_folder_returns_it(tiny_model_dir: Path) -> None:
    assert models.download(str(tiny_model_dir), offline=True) == tiny_model_dir


def test_download_of_a_bad_folder(tmp_path: Path) -> None:
    with pytest.raises(ModelNotAvailableError, match="neither a model folder"):
        models.download(str(tmp_path), offline=False)


@pytest.mark.parametrize("how", ["arg", "VSA_OFFLINE", "HF_HUB_OFFLINE", "settings"])
def test_offline_missing_model_says_how_to_get_it(
    how: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    if how in ("VSA_OFFLINE", "HF_HUB_OFFLINE"):
        monkeypatch.setenv(how, "1")
    if how == "settings":
        save_settings(Settings(offline=True))
    with pytest.raises(ModelNotAvailableError) as info:
        models.download(MISSING, offline=True if how == "arg" else None)
    message = info.value.message
    assert f"vsa models download {MISSING}" in message
    assert message.count(". ") == 0 and message.endswith(".")


def test_choose_files_prefers_safetensors() -> None:
    repo = [
        "config.json",
        "tokenizer.json",
        "vocab.json",
        "merges.txt",
        "model.safetensors",
        "pytorch_model.bin",
        "tf_model.h5",
        "README.md",
        "onnx/model.onnx",
    ]
    assert models.choose_files(repo) == [
        "config.json",
        "tokenizer.json",
        "vocab.json",
        "merges.txt",
        "model.safetensors",
    ]


def test_choose_files_accepts_pytorch_bin_only() -> None:
    repo = ["config.json", "vocab.json", "merges.txt", "pytorch_model.bin", "flax_model.msgpack"]
    assert models.choose_files(repo)[-1] == "pytorch_model.bin"
    assert "flax_model.msgpack" not in models.choose_files(repo)


def test_choose_files_rejects_a_repo_without_weights() -> None:
    with pytest.raises(ModelNotAvailableError, match="no usable text model"):
        models.choose_files(["config.json", "README.md", "tf_model.h5"])


def test_progress_forwards_bytes_and_obeys_cancel() -> None:
    seen: list[tuple[int, int]] = []
    cancel = CancelToken()
    bar_class = models._progress_class(1000, lambda done, total: seen.append((done, total)), cancel)
    files = bar_class(total=2, unit="it")
    data = bar_class(total=1000, unit="B", initial=100)
    data.update(300)
    files.update(1)
    data.update(200)
    assert seen == [(400, 1000), (600, 1000)]
    cancel.cancel()
    with pytest.raises(Cancelled):
        data.update(10)


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_unreachable_hub_fails_fast_and_clearly(tmp_path: Path) -> None:
    script = textwrap.dedent(f"""
        import time
        from vsa_desktop.core.models import download
        from vsa_desktop.core.errors import ModelNotAvailableError
        start = time.perf_counter()
        try:
            download({MISSING!r})
        except ModelNotAvailableError as exc:
            print(exc.kind, round(time.perf_counter() - start, 2))
            print(exc.message)
    """)
    env = {k: v for k, v in os.environ.items() if k not in ("HF_HUB_OFFLINE", "VSA_OFFLINE")}
    env.update(
        HF_ENDPOINT=f"http://127.0.0.1:{_closed_port()}",
        VSA_HOME=str(tmp_path),
        HF_HOME=str(tmp_path / "hf"),
    )
    started = time.perf_counter()
    out = subprocess.run(
        [sys.executable, "-c", script],
        capture_output=True,
        text=True,
        env=env,
        cwd=ROOT,
        timeout=60,
        check=True,
    )
    wall = time.perf_counter() - started
    kind, seconds = out.stdout.splitlines()[0].split()
    message = out.stdout.splitlines()[1]
    assert kind == "network", out.stderr
    assert float(seconds) < 10 and wall < 30
    assert "could not be reached" in message and MISSING in message
    assert "Traceback" not in out.stderr
