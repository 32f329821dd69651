"""The `vsa` command end to end, in subprocesses."""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
from pathlib import Path

import pytest


def vsa(*args: str, env_home: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "VSA_HOME": str(env_home)}
    return subprocess.run(
        [sys.executable, "-m", "vsa_desktop.cli", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )


def test_analyze_prints_a_valid_result(
    tiny_model_dir: Path, vsa_home: Path, tmp_path: Path
) -> None:
    out_file = tmp_path / "r.json"
    p = vsa(
        "analyze",
        "--text",
        "I can't believe we won!",
        "--text-model",
        str(tiny_model_dir),
        "--json",
        str(out_file),
        "--no-history",
        env_home=vsa_home,
    )
    assert p.returncode == 0, p.stderr
    d = json.loads(p.stdout)
    assert d["schema"] == "vsa.result/1" and d["mode"] == "text-only"
    assert math.fsum(d["text"]["scores"].values()) == pytest.approx(1.0, abs=1e-6)
    assert d["timings_ms"]["text"] > 0 and d["timings_ms"]["total"] > 0
    assert json.loads(out_file.read_text()) == d
    assert "Traceback" not in p.stderr


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["analyze", "--text", ""], "The text is empty"),
        (
            ["analyze", "--text", "hi", "--text-model", "/nonexistent"],
            "No model folder at /nonexistent",
        ),
        (["analyze", "--text", "hi", "--weights", "a,b"], "--weights takes two numbers"),
        (
            ["analyze", "--text", "hi", "--image", "/no/such.png", "--vision", "none"],
            "does not exist",
        ),
        (["analyze"], "Nothing to analyze"),
    ],
)
def test_errors_are_one_sentence_without_traceback(
    args: list[str], message: str, vsa_home: Path
) -> None:
    p = vsa(*args, env_home=vsa_home)
    assert p.returncode != 0
    lines = [line for line in p.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, p.stderr
    assert message in lines[0] and "Traceback" not in p.stderr
    assert p.stdout == ""
