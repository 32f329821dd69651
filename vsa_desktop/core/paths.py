"""Where the app keeps its files: platform dirs, or one folder when ``VSA_HOME`` is set."""

from __future__ import annotations

import os
from pathlib import Path

APP_NAME = "vsa-desktop"


def _home() -> Path | None:
    value = os.environ.get("VSA_HOME")
    return Path(value).expanduser() if value else None


def config_dir() -> Path:
    """Folder of the settings file."""
    home = _home()
    if home:
        return home / "config"
    import platformdirs

    return Path(platformdirs.user_config_dir(APP_NAME, appauthor=False))


def data_dir() -> Path:
    """Folder of the history database and logs."""
    home = _home()
    if home:
        return home / "data"
    import platformdirs

    return Path(platformdirs.user_data_dir(APP_NAME, appauthor=False))


def cache_dir() -> Path:
    """Folder of downloaded models and converted (ONNX) models."""
    home = _home()
    if home:
        return home / "cache"
    import platformdirs

    return Path(platformdirs.user_cache_dir(APP_NAME, appauthor=False))


def log_dir() -> Path:
    """Folder of log files."""
    return data_dir() / "logs"
