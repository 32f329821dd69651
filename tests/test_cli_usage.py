"""The command line's words and exit codes: usage of the command typed, suggestions, aliases."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from tests.cli_runner import run_vsa
from vsa_desktop.cli import exitcodes

LITE = ("--text-model", "builtin:lite")


def test_an_unknown_option_shows_the_commands_usage_and_a_suggestion(vsa_home: Path) -> None:
    done = run_vsa(vsa_home, "analyze", "--txt", "hello")
    assert done.returncode == exitcodes.USAGE
    assert done.stderr.startswith("usage: vsa analyze ")
    assert "unrecognized arguments: --txt hello; did you mean --text?" in done.stderr
    assert "usage: vsa [-h]" not in done.stderr and "Traceback" not in done.stderr


def test_nested_commands_and_mistyped_command_names(vsa_home: Path) -> None:
    nested = run_vsa(vsa_home, "models", "status", "--jsn")
    assert nested.returncode == exitcodes.USAGE
    assert nested.stderr.startswith("usage: vsa models status ")
    assert "did you mean --json?" in nested.stderr
    typo = run_vsa(vsa_home, "anlyze", "--text", "hi")
    assert typo.returncode == exitcodes.USAGE and "did you mean analyze?" in typo.stderr
    far = run_vsa(vsa_home, "analyze", "--zzzzzz")
    assert far.returncode == exitcodes.USAGE and "did you mean" not in far.stderr


def test_analyse_is_accepted(vsa_home: Path) -> None:
    done = run_vsa(vsa_home, "analyse", "--text", "What a lovely day", "--no-history", *LITE)
    assert done.returncode == exitcodes.OK, done.stderr
    assert json.loads(done.stdout)["schema"] == "vsa.result/1"


def test_export_mistakes_are_usage_errors_and_disk_problems_are_not(
    vsa_home: Path, tmp_path: Path
) -> None:
    made = run_vsa(vsa_home, "analyze", "--text", "so happy", *LITE)
    assert made.returncode == exitcodes.OK, made.stderr
    rid = json.loads(made.stdout)["id"][:8]
    docx = run_vsa(vsa_home, "export", rid, "--out", str(tmp_path / "x.docx"))
    assert docx.returncode == exitcodes.USAGE, docx.stderr
    assert docx.stderr.startswith("vsa: x.docx has no supported file type")
    nowhere = run_vsa(vsa_home, "export", rid, "--out", str(tmp_path / "no" / "x.json"))
    assert nowhere.returncode == exitcodes.USAGE and "does not exist" in nowhere.stderr
    first = run_vsa(vsa_home, "export", rid, "--out", str(tmp_path / "x.json"))
    assert first.returncode == exitcodes.OK, first.stderr
    again = run_vsa(vsa_home, "export", rid, "--out", str(tmp_path / "x.json"))
    assert again.returncode == exitcodes.USAGE and "--overwrite" in again.stderr


def test_an_export_the_disk_refuses_is_a_failure_not_a_usage_error(
    vsa_home: Path, tmp_path: Path
) -> None:
    made = run_vsa(vsa_home, "analyze", "--text", "so happy", *LITE)
    rid = json.loads(made.stdout)["id"][:8]
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o500)
    # root is not stopped by a folder's mode; /sys refuses new files to everyone
    target = Path("/sys") if os.geteuid() == 0 else locked
    try:
        denied = run_vsa(vsa_home, "export", rid, "--out", str(target / "x.json"))
    finally:
        locked.chmod(0o700)
    assert denied.returncode == exitcodes.FAILED, denied.stderr
    assert "read-only" in denied.stderr


@pytest.mark.parametrize(
    ("setting", "expected"),
    [
        (None, "model:      auto → builtin:lite\n"),
        ("builtin:lite", "model:      builtin:lite  (configured)\n"),
    ],
)
def test_models_status_says_when_auto_chose_the_model(
    vsa_home: Path, setting: str | None, expected: str
) -> None:
    env = {"VSA_TEXT_MODEL": setting} if setting else {}
    done = run_vsa(vsa_home, "models", "status", **env)
    assert done.returncode == exitcodes.OK, done.stderr
    assert done.stdout.startswith(expected)


def test_batch_engine_options_are_checked(vsa_home: Path, tmp_path: Path) -> None:
    source = tmp_path / "in.csv"
    source.write_text("text\nhappy\n", encoding="utf-8")
    out = str(tmp_path / "o.jsonl")
    alone = run_vsa(vsa_home, "batch", str(source), "--jsonl", out, "--ray-address", "auto")
    assert (
        alone.returncode == exitcodes.USAGE and "--ray-address needs --engine ray" in alone.stderr
    )
    workers = run_vsa(vsa_home, "batch", str(source), "--jsonl", out, "--workers", "0")
    assert workers.returncode == exitcodes.USAGE and "give at least 1" in workers.stderr


def test_the_ray_engine_without_ray_says_how_to_get_it(vsa_home: Path, tmp_path: Path) -> None:
    import subprocess
    import sys

    source = tmp_path / "in.csv"
    source.write_text("text\nhappy\n", encoding="utf-8")
    code = (
        "import sys; sys.modules['ray'] = None\n"  # as if the scale extra were not installed
        "from vsa_desktop.cli import main\n"
        f"sys.exit(main(['batch', {str(source)!r}, '--jsonl', {str(tmp_path / 'o.jsonl')!r},"
        " '--engine', 'ray', '--text-model', 'builtin:lite']))"
    )
    done = subprocess.run(
        [sys.executable, "-c", code],
        env={**os.environ, "VSA_HOME": str(vsa_home)},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == exitcodes.USAGE, done.stderr
    assert "vsa-desktop[scale]" in done.stderr and "Traceback" not in done.stderr
