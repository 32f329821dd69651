"""`vsa models status|download|convert` in subprocesses."""

from __future__ import annotations

import json
from pathlib import Path

from tests.cli_runner import run_vsa

vsa = run_vsa


def test_status_of_the_builtin_default_runs_offline(vsa_home: Path) -> None:
    p = vsa(vsa_home, "models", "status", "--json", VSA_OFFLINE="1")
    assert p.returncode == 0, p.stderr
    d = json.loads(p.stdout)
    assert d["model_id"] == "builtin:lite" and d["builtin"] and d["best_runtime"] == "numpy"


def test_convert_then_status_tells_the_truth(vsa_home: Path, tiny_model_dir: Path) -> None:
    before = json.loads(vsa(vsa_home, "models", "status", str(tiny_model_dir), "--json").stdout)
    assert before["on_disk"] and before["torch_ready"] and not before["onnx_ready"]
    assert before["size_bytes"] > 10_000 and before["best_runtime"] == "torch"
    conv = vsa(vsa_home, "models", "convert", str(tiny_model_dir))
    assert conv.returncode == 0, conv.stderr
    assert "fidelity on" in conv.stdout and "auto runs: onnx" in conv.stdout
    after = json.loads(vsa(vsa_home, "models", "status", str(tiny_model_dir), "--json").stdout)
    assert after["onnx_ready"] and after["best_runtime"].startswith("onnx")
    again = vsa(vsa_home, "models", "convert", str(tiny_model_dir))
    assert "reused the cached copy" in again.stdout


def test_missing_model_status_and_download_say_how_to_get_it(vsa_home: Path) -> None:
    p = vsa(vsa_home, "models", "status", "someone/missing-model")
    assert p.returncode == 1 and "vsa models download someone/missing-model" in p.stdout
    off = vsa(vsa_home, "models", "download", "someone/missing-model", VSA_OFFLINE="1")
    assert off.returncode == 1 and "downloads are off" in off.stderr
    assert "Traceback" not in off.stderr


def test_unreachable_hub_fails_fast_and_clearly(vsa_home: Path) -> None:
    # A hang (retries against a dead endpoint) would hit the subprocess timeout and fail.
    p = vsa(
        vsa_home,
        "models",
        "download",
        "someone/missing-model",
        HF_ENDPOINT="http://127.0.0.1:9",
        HF_HUB_OFFLINE="0",
        timeout=120,
    )
    assert p.returncode == 1
    assert "could not be reached" in p.stderr and "Traceback" not in p.stderr
