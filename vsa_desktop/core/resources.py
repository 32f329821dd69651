"""Find files in the top-level ``resources/`` folder, from source and from a frozen bundle."""

from __future__ import annotations

import os
import sys
from pathlib import Path


def resources_dir() -> Path:
    """Return the ``resources/`` folder.

    Order: ``VSA_RESOURCES`` (tests, unusual installs), the PyInstaller bundle
    (``sys._MEIPASS``), then the source tree beside the package.
    """
    override = os.environ.get("VSA_RESOURCES")
    if override:
        return Path(override)
    frozen_root = getattr(sys, "_MEIPASS", None)
    if frozen_root:
        return Path(frozen_root) / "resources"
    return Path(__file__).resolve().parents[2] / "resources"


def resource_path(*parts: str) -> Path:
    """Return the path of a file under ``resources/`` (it may not exist)."""
    return resources_dir().joinpath(*parts)
