"""`auto` picks DistilRoBERTa when it is on disk and the built-in lite model otherwise."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from tests.cli_runner import run_vsa
from vsa_desktop.core.settings import DEFAULT_TEXT_MODEL


def fake_hub_cache(cache: Path, model_dir: Path, repo: str = DEFAULT_TEXT_MODEL) -> Path:
    """Lay out ``model_dir`` as the Hugging Face cache would after a download of ``repo``."""
    root = cache / ("models--" + repo.replace("/", "--"))
    revision = "0" * 40
    snapshot = root / "snapshots" / revision
    shutil.copytree(model_dir, snapshot)
    (root / "refs").mkdir(parents=True)
    (root / "refs" / "main").write_text(revision)
    return cache


def analyze_text(home: Path, cache: Path, text: str) -> dict:
    p = run_vsa(
        home, "analyze", "--text", text, "--no-history", HF_HUB_CACHE=str(cache), HF_HUB_OFFLINE="1"
    )
    assert p.returncode == 0, p.stderr
    return json.loads(p.stdout)


def test_fresh_install_uses_the_lite_model_and_says_so(vsa_home: Path, tmp_path: Path) -> None:
    empty = tmp_path / "hub"
    empty.mkdir()
    d = analyze_text(vsa_home, empty, "I miss her so much")
    assert d["text"]["model"] == "builtin:lite" and d["text"]["runtime"] == "numpy"
    assert d["text"]["label"] == "sad"
    assert any("lite model" in w for w in d["warnings"])


def test_downloaded_distilroberta_is_preferred(
    vsa_home: Path, tmp_path: Path, tiny_model_dir: Path
) -> None:
    cache = fake_hub_cache(tmp_path / "hub", tiny_model_dir)
    d = analyze_text(vsa_home, cache, "I miss her so much")
    assert d["text"]["model"] == DEFAULT_TEXT_MODEL
    assert d["text"]["runtime"] in ("torch", "onnx", "onnx-int8")
    assert not any("lite model" in w for w in d["warnings"])
