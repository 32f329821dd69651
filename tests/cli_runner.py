"""Run the real `vsa` command in a subprocess with its own VSA_HOME (shared by CLI tests)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path


def run_vsa(
    home: Path, *args: str, timeout: float = 600, **env: str
) -> subprocess.CompletedProcess[str]:
    """``python -m vsa_desktop.cli ARGS`` with ``VSA_HOME=home`` and extra environment."""
    return subprocess.run(
        [sys.executable, "-m", "vsa_desktop.cli", *args],
        env={**os.environ, "VSA_HOME": str(home), **env},
        capture_output=True,
        text=True,
        timeout=timeout,
    )
