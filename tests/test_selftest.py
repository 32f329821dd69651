"""``vsa self-test`` and ``vsa-desktop --self-test``, run as the user would, in a subprocess."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from vsa_desktop.cli.selftest import all_checks

ROOT = Path(__file__).resolve().parents[1]
pytestmark = [pytest.mark.gui, pytest.mark.slow]


def _run(args: list[str], home: Path, **extra: str) -> subprocess.CompletedProcess[str]:
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("VSA_", "GROQ_", "QT_", "PYTEST"))
    }
    env.update(VSA_HOME=str(home), QT_QPA_PLATFORM="offscreen", VSA_OFFLINE="1", **extra)
    return subprocess.run(
        [sys.executable, *args], capture_output=True, text=True, env=env, timeout=180, cwd=ROOT
    )


def _check_lines(stdout: str) -> dict[str, str]:
    """``{check name: PASS|FAIL}`` from the report lines."""
    lines = [line.split(" ", 2) for line in stdout.splitlines()]
    return {parts[1]: parts[0] for parts in lines if parts[0] in ("PASS", "FAIL")}


def test_cli_self_test_passes_every_check(vsa_home: Path) -> None:
    done = _run(["-m", "vsa_desktop.cli", "self-test"], vsa_home)
    assert done.returncode == 0, done.stdout + done.stderr
    expected = {name for name, _check in all_checks()}
    assert _check_lines(done.stdout) == dict.fromkeys(expected, "PASS")
    assert "self-test passed" in done.stdout
    assert "propagateSizeHints" not in done.stdout + done.stderr  # Qt's offscreen noise
    assert done.stderr == ""


def test_gui_self_test_flag_runs_the_same_checks(vsa_home: Path) -> None:
    done = _run(["-m", "vsa_desktop", "--self-test"], vsa_home)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "propagateSizeHints" not in done.stdout + done.stderr
    assert set(_check_lines(done.stdout)) == {name for name, _check in all_checks()}


def test_self_test_leaves_the_app_home_untouched(vsa_home: Path) -> None:
    done = _run(["-m", "vsa_desktop.cli", "self-test"], vsa_home)
    assert done.returncode == 0, done.stdout + done.stderr
    assert not any(vsa_home.iterdir()), "the self-test wrote into VSA_HOME"


def test_missing_resource_fails_the_self_test(vsa_home: Path, tmp_path: Path) -> None:
    resources = tmp_path / "resources"
    shutil.copytree(ROOT / "resources", resources)
    (resources / "samples" / "astronaut.png").unlink()
    done = _run(["-m", "vsa_desktop.cli", "self-test"], vsa_home, VSA_RESOURCES=str(resources))
    assert done.returncode == 1, done.stdout + done.stderr
    results = _check_lines(done.stdout)
    assert results["resources"] == "FAIL"
    assert results["local-faces"] == "FAIL"
    assert results["main-window"] == "PASS"  # failures are reported per check, not all-or-none
    assert "samples/astronaut.png" in done.stdout
    assert "self-test FAILED" in done.stdout
