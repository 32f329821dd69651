"""``vsa self-test`` and ``vsa-desktop --self-test``: check an install offline, one line per check."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from vsa_desktop.cli import exitcodes

if TYPE_CHECKING:
    from vsa_desktop.core.selftest import Check, CheckResult

EXIT_OK, EXIT_FAILED = exitcodes.OK, exitcodes.FAILED
HEAVY_MODULES = ("torch", "transformers")


def add_parser(sub: argparse._SubParsersAction) -> None:
    """Register ``self-test``."""
    p = sub.add_parser(
        "self-test",
        help="check this install offline (window, face model, text model, fusion, export)",
        description="Run the offline self-test: render the main window offscreen, read the "
        "bundled photo with the local face model, read a text with the built-in model, fuse "
        "them and export JSON and PNG to a temporary folder. One line per check; the exit "
        "status is non-zero when any check fails. Needs no network.",
    )
    p.set_defaults(func=lambda _args: run_self_test())


def check_no_heavy_imports(_folder: Path) -> str:
    """The self-test paths never load torch or transformers (the bundle does not ship them)."""
    loaded = [name for name in HEAVY_MODULES if name in sys.modules]
    if loaded:
        raise AssertionError(f"loaded without need: {', '.join(loaded)}")
    return "torch and transformers not loaded"


def all_checks() -> list[tuple[str, Check]]:
    """The core checks plus the main-window check, then the heavy-import guard."""
    from vsa_desktop.core.selftest import CORE_CHECKS

    first, *rest = CORE_CHECKS  # resources first: a missing file explains later failures
    return [
        first,
        ("main-window", check_main_window_quietly),
        ("qt-binding", check_qt_binding),
        *rest,
        ("no-torch", check_no_heavy_imports),
    ]


def check_main_window_quietly(folder: Path) -> str:
    """The main-window check with Qt's own messages sent to the ``qt`` logger.

    The offscreen platform says "This plugin does not support propagateSizeHints()" for
    every window it shows: noise between the check lines. With ``vsa -v`` the messages
    are shown as log lines; otherwise they are dropped.
    """
    import logging

    from vsa_desktop.gui.logs import install_qt_message_handler
    from vsa_desktop.gui.selftest_check import check_main_window

    qt_log = logging.getLogger("qt")
    if not any(isinstance(h, logging.NullHandler) for h in qt_log.handlers):
        qt_log.addHandler(logging.NullHandler())  # no "last resort" printing to stderr
    install_qt_message_handler()
    return check_main_window(folder)


def check_qt_binding(_folder: Path) -> str:
    """The Qt binding keeps its reference counts (PySide6 6.12.0 on Python 3.11 does not)."""
    from vsa_desktop.gui.binding_check import bad_binding_message, leaked_none_references

    message = bad_binding_message()
    if message:
        raise AssertionError(message)
    import PySide6

    return f"PySide6 {PySide6.__version__}: {leaked_none_references()} references lost in 200 calls"


def _report(result: CheckResult) -> None:
    print(result.line(), flush=True)


def run_self_test() -> int:
    """Run every check, print one line each and a summary; 0 when all pass, else 1."""
    from vsa_desktop import __version__
    from vsa_desktop.core.resources import resources_dir
    from vsa_desktop.core.selftest import run_checks

    frozen = "frozen bundle" if getattr(sys, "frozen", False) else "source install"
    print(
        f"VSA Desktop {__version__} self-test ({frozen}; resources {resources_dir()})", flush=True
    )
    checks = all_checks()
    ok = run_checks(checks, _report)
    print(f"self-test {'passed' if ok else 'FAILED'}: {len(checks)} checks", flush=True)
    return EXIT_OK if ok else EXIT_FAILED
