"""GUI responsiveness of the corpus tools: the longest GUI-thread block while the main window
runs File ▸ Batch… and shows the results with File ▸ Open batch results….

The same 10 ms ticker as ``benchmarks.gui_responsiveness`` watches the GUI thread (offscreen)
while one step runs. Steps: open the batch dialog (Ctrl+B), run ``--rows`` texts (the lite
model, history kept) to the end, open the results as a report (one streaming pass and the
charts rendered on the worker), switch through its tabs, choose a breakdown column (the file
is read again), export HTML and PDF. The budget is 30 ms a block.

Run: ``python -m benchmarks.gui_batch [--rows 2000]``.
"""

from __future__ import annotations

import argparse
import csv
import os
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

from benchmarks.gui_responsiveness import BUDGET_MS, Row, Ticker

TEXTS = (
    "What a wonderful, happy day with friends.",
    "I feel so alone and sad since she left.",
    "Stop lying to me, I am furious about what you did.",
    "I am terrified of what comes next.",
)


def write_posts(folder: Path, rows: int) -> Path:
    """A CSV of ``rows`` posts with an account column for the breakdown."""
    source = folder / "posts.csv"
    with source.open("w", encoding="utf-8", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["id", "account", "text"])
        writer.writerows([f"p{i}", f"@a{i % 7}", f"{TEXTS[i % 4]} (#{i})"] for i in range(rows))
    return source


def measure(rows: int, folder: Path) -> list[Row]:
    """Per step: (label, GUI-thread CPU ms, longest wall gap ms, ms until done)."""
    from PySide6.QtCore import Qt
    from PySide6.QtTest import QTest

    from vsa_desktop.core.settings import Settings
    from vsa_desktop.gui.main_window import MainWindow

    window = MainWindow(
        Settings(text_model="builtin:lite", vision_backend="none", first_run_notice_dismissed=True)
    )
    window.resize(1280, 800)
    window.show()
    ticker = Ticker()
    out: list[Row] = []

    def step(label: str, action: Callable[[], object], done: Callable[[], bool]) -> None:
        out.append((label, *ticker.run(action, done)))

    ticker.run(lambda: None, lambda: window.history_box.ready)
    source = write_posts(folder, rows)
    step(
        "open the batch dialog (Ctrl+B)",
        lambda: QTest.keyClick(window, Qt.Key.Key_B, Qt.KeyboardModifier.ControlModifier),
        lambda: window.batch.dialog is not None and window.batch.dialog.isVisible(),
    )
    dialog = window.batch.dialog
    assert dialog is not None
    dialog.set_paths(source)
    ended: list[object] = []
    dialog.run_finished.connect(ended.append)
    step(f"batch of {rows:,} texts to the end", dialog.start, lambda: bool(ended))
    print(f"({ended[0].done:,} analysed)", file=sys.stderr)  # type: ignore[attr-defined]
    step("open results: read + charts", dialog.open_button.click, lambda: _loaded(window))
    view = window.batch.reports[-1]
    for i in range(view.tabs.count()):
        step(
            f"tab {view.tabs.tabText(i)!r}", lambda i=i: view.tabs.setCurrentIndex(i), lambda: True
        )
    loaded: list[object] = []
    view.loaded.connect(loaded.append)
    step("breakdown by account (reads again)", lambda: view.group_box.setCurrentText("account"),
         lambda: bool(loaded))  # fmt: skip
    for suffix in ("html", "pdf"):
        written: list[object] = []
        view.exported.connect(written.append)
        target = folder / f"report.{suffix}"
        step(
            f"export {suffix.upper()}",
            lambda t=target: view.export_to(t),
            lambda w=written: bool(w),
        )
    window.close()
    return out


def _loaded(window: object) -> bool:
    reports = window.batch.reports  # type: ignore[attr-defined]
    return bool(reports) and reports[-1].data is not None


def main(argv: list[str] | None = None) -> int:
    """Print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=2000)
    args = parser.parse_args(argv)
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    os.environ["VSA_HOME"] = tempfile.mkdtemp(prefix="vsa-gui-batch-")
    from PySide6.QtWidgets import QApplication

    _app = QApplication.instance() or QApplication(sys.argv[:1])
    rows = measure(args.rows, Path(tempfile.mkdtemp(prefix="vsa-gui-batch-data-")))
    print(f"{'step':<40}{'GUI-thread block ms':>21}{'longest stall ms':>18}{'done after ms':>15}")
    for label, cpu, gap, took in rows:
        flag = "  > budget" if cpu > BUDGET_MS else ""
        print(f"{label:<40}{cpu:>21.1f}{gap:>18.1f}{took:>15.0f}{flag}")
    load = os.getloadavg()[0]
    print(f"(machine load {load:.1f} on {os.cpu_count()} cores: stalls include waiting for a CPU)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
