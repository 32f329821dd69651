"""The `vsa` command end to end, in subprocesses."""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.cli_runner import run_vsa


def vsa(*args: str, env_home: Path) -> subprocess.CompletedProcess[str]:
    return run_vsa(env_home, *args)


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


def test_bad_output_names_are_refused_before_anything_is_kept(
    tiny_model_dir: Path, vsa_home: Path, tmp_path: Path
) -> None:
    for option, name in (("--json", "out.txt"), ("--chart", "c.json")):
        p = vsa(
            "analyze",
            "--text",
            "hi",
            "--text-model",
            str(tiny_model_dir),
            option,
            str(tmp_path / name),
            env_home=vsa_home,
        )
        assert p.returncode == 2 and "needs a file name ending in" in p.stderr
    assert not (vsa_home / "data" / "history.sqlite3").exists()


def test_text_file_with_bom_and_broken_pipe(
    tiny_model_dir: Path, vsa_home: Path, tmp_path: Path
) -> None:
    text_file = tmp_path / "t.txt"
    text_file.write_bytes("\ufeffhappy days".encode())
    env = {**os.environ, "VSA_HOME": str(vsa_home)}
    cmd = [
        sys.executable,
        "-m",
        "vsa_desktop.cli",
        "analyze",
        "--text-file",
        str(text_file),
        "--text-model",
        str(tiny_model_dir),
        "--no-history",
    ]
    p = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=300)
    assert json.loads(p.stdout)["input"]["text"] == "happy days"
    read_end, write_end = os.pipe()
    os.close(read_end)  # like `| head -1` having exited: every write to stdout fails
    try:
        broken = subprocess.run(
            cmd, stdout=write_end, stderr=subprocess.PIPE, text=True, env=env, timeout=300
        )
    finally:
        os.close(write_end)
    err = broken.stderr
    assert broken.returncode == 141
    assert "unexpected error" not in err and "Traceback" not in err


def test_the_encoding_note_is_kept_in_history_too(tmp_path, vsa_home):
    text_file = tmp_path / "g.txt"
    text_file.write_bytes("今天天气很好，我们去公园玩吧！".encode("gbk"))
    done = run_vsa(
        vsa_home, "analyze", "--text-model", "builtin:lite", "--text-file", str(text_file)
    )
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    note = "The text file g.txt is not UTF-8; it was read as GB18030."
    assert note in result["warnings"]
    shown = run_vsa(vsa_home, "history", "show", result["id"][:8])
    assert shown.returncode == 0, shown.stderr
    assert note in json.loads(shown.stdout)["warnings"]
