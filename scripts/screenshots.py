"""Render the main window offscreen at 1280x800 in its key states into docs/screenshots/.

Every result is a real analysis: the built-in lite text model and the local face model on
tests/data/astronaut.png. Also the settings dialog, the window at 1366x768, and an exported
chart with its caption and a PDF report page (drawn by the exporters' own figures), and
"Why this reading" (the words of the text highlighted by their weight), and File ▸ Batch… /
Open batch results… on a small real batch (``--only batch``: just those).
Run: ``python scripts/screenshots.py [--out docs/screenshots] [--only all|batch]``.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
IMAGE = ROOT / "tests" / "data" / "astronaut.png"
SIZE = (1280, 800)
HAPPY = "Finally made it to the launch pad. Best day of my life, I'm so happy and proud!"
SAD = "I feel so alone and sad since she left. Nothing matters anymore."
WHY = (
    "I hate how this trip turned out. The hotel was filthy, the food was disgusting, "
    "and honestly I just want to go home."
)
HISTORY_TEXTS = (
    "Stop lying to me, I am furious about what you did.",
    "Wow, I did not expect that at all!",
    "The meeting is at three o'clock in room 4.",
    "I am terrified of what comes next.",
)


def _setup(out: Path) -> None:
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    os.environ["VSA_HOME"] = tempfile.mkdtemp(prefix="vsa-shots-")
    os.environ["VSA_NO_DIALOGS"] = "1"
    out.mkdir(parents=True, exist_ok=True)


TEXT_MODEL = ["builtin:lite"]


def _window(**settings: object):  # -> MainWindow
    from vsa_desktop.core.settings import Settings
    from vsa_desktop.gui.main_window import MainWindow

    defaults: dict[str, object] = {
        "text_model": TEXT_MODEL[0],
        "vision_backend": "local",
        "first_run_notice_dismissed": True,
    }
    window = MainWindow(Settings(**{**defaults, **settings}))
    window.resize(*SIZE)
    window.show()
    _settle()
    return window


def _settle(ms: int = 300) -> None:
    from PySide6.QtTest import QTest

    QTest.qWait(ms)


def _analyze(window, text: str | None, image: Path | None = IMAGE):  # -> AnalysisResult
    from PySide6.QtCore import QEventLoop, QTimer

    if image is not None:
        window.drop_zone.load_path(image)
    else:
        window.drop_zone.clear()
    window.text_input.set_text(text or "")
    loop = QEventLoop()
    outcome: list[object] = []
    window.result_shown.connect(lambda r: (outcome.append(r), loop.quit()))
    window.controller.analysis_failed.connect(lambda _i, e: (outcome.append(e), loop.quit()))
    window.analyze()
    QTimer.singleShot(120_000, loop.quit)
    loop.exec()
    if not outcome or isinstance(outcome[0], BaseException):
        raise SystemExit(f"analysis failed: {outcome}")
    _settle()
    return outcome[0]


def _drawn(window) -> None:
    """Wait until the chart (drawn on a worker) and the history list are on screen."""
    from PySide6.QtWidgets import QApplication

    _settle(200)  # a resize re-renders the chart once the size settles
    while window.result_view.chart.rendering or window.history_panel.busy or window.explainer.busy:
        QApplication.processEvents()
    _settle(100)


def _save(window, out: Path, name: str) -> None:
    _drawn(window)
    path = out / f"{name}.png"
    window.grab().save(str(path))
    print(f"wrote {path}")


def _save_widget(widget, out: Path, name: str) -> None:
    _settle(200)
    path = out / f"{name}.png"
    widget.grab().save(str(path))
    print(f"wrote {path}")


def _exports(window, out: Path) -> None:
    """The exporters' own figures for the shown result: PNG caption and a PDF report page."""
    from vsa_desktop.core.export import chart_figures

    result = window.result_view.result
    thumbs = {result.id: window.history.thumbnail(result.id)} if window.history else {}
    thumbs = {k: v for k, v in thumbs.items() if v}
    (png,) = chart_figures([result], "png", True, thumbs)
    png.savefig(out / "09-export-with-caption.png", dpi=100)
    (page,) = chart_figures([result], "pdf", True, thumbs)
    page.savefig(out / "10-pdf-report-page.png", dpi=80)
    print(f"wrote {out / '09-export-with-caption.png'} and {out / '10-pdf-report-page.png'}")


def _warm(window) -> None:
    from PySide6.QtCore import QEventLoop

    loop = QEventLoop()
    window.warmup_finished.connect(loop.quit)
    window.start_warmup()
    loop.exec()
    _settle()


def main(argv: list[str] | None = None) -> int:
    """Write the screenshots."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "screenshots")
    parser.add_argument("--text-model", default="builtin:lite", help="for trying layouts")
    parser.add_argument("--only", choices=("all", "batch"), default="all")
    args = parser.parse_args(argv)
    _setup(args.out)
    TEXT_MODEL[0] = args.text_model
    from PySide6.QtWidgets import QApplication

    from vsa_desktop.gui.app import app_icon

    app = QApplication.instance() or QApplication(sys.argv[:1])
    app.setWindowIcon(app_icon())
    if args.only == "batch":
        _batch_scenes(args.out)
        return 0

    first = _window(first_run_notice_dismissed=False)
    _warm(first)
    _save(first, args.out, "01-empty-first-run")
    first.close()

    window = _window()
    _warm(window)
    _analyze(window, HAPPY)
    _save(window, args.out, "02-multimodal-consistent")
    _exports(window, args.out)
    _analyze(window, SAD)
    _save(window, args.out, "03-mixed-signals")
    _analyze(window, WHY)
    _save(window, args.out, "12-why-this-reading")
    for text in HISTORY_TEXTS:
        _analyze(window, text, image=None)
    window.history_panel.select_row(2)
    _settle()
    _save(window, args.out, "05-history")
    window.settings.vision_backend = "groq"
    window.actions.offline.setChecked(True)
    _analyze(window, HAPPY)
    _save(window, args.out, "04-offline-text-only")
    window.resize(1024, 640)
    _save(window, args.out, "06-small-1024x640")
    window.resize(1366 - 16, 768 - 48)  # the first window on a 1366x768 screen, frame aside
    _save(window, args.out, "11-laptop-1366x768")
    settings = window.open_settings()
    settings.vision_models.setPlainText("qwen/qwen3.8-27b\nqwen/qwen3.6-27b\nllama-4-vision")
    _save_widget(settings, args.out, "08-settings")
    settings.reject()
    window.close()
    _batch_scenes(args.out)

    _dark_palette(app)
    dark = _window()
    _analyze(dark, SAD)
    _save(dark, args.out, "07-dark-palette")
    dark.close()
    return 0


BATCH_TEXTS = (
    HAPPY,
    SAD,
    "Stop lying to me, I am furious about what you did.",
    "Wow, I did not expect that at all!",
    "The meeting is at three o'clock in room 4.",
    "I am terrified of what comes next.",
    "That smell is disgusting, I almost threw up.",
)


def _batch_table(folder: Path, rows: int = 240) -> Path:
    """A CSV of posts: text, the astronaut photo (every 9th row names a missing one), an
    account and a time, for the batch dialog and its report."""
    import csv
    import shutil

    shutil.copy(IMAGE, folder / IMAGE.name)  # images are read from the table's own folder
    source = folder / "posts.csv"
    with source.open("w", encoding="utf-8", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["id", "account", "posted", "text", "image"])
        for i in range(rows):
            image = "missing.png" if i % 9 == 0 else IMAGE.name
            when = f"2025-03-{1 + i % 5:02d}T{8 + i % 12:02d}:00:00Z"
            writer.writerow([f"p{i}", f"@shop{i % 4}", when, BATCH_TEXTS[i % 7], image])
    return source


def _batch_scenes(out: Path) -> None:
    """File ▸ Batch… after a cancelled-then-resumed run, and its report window."""
    from PySide6.QtWidgets import QApplication

    window = _window()
    source = _batch_table(Path(tempfile.mkdtemp(prefix="vsa-batch-")))
    dialog = window.batch.open_batch(source)
    finished: list[object] = []
    dialog.run_finished.connect(finished.append)
    dialog.start()
    while dialog.progress.value() < 30:
        QApplication.processEvents()
    dialog.cancel()
    while not finished:
        QApplication.processEvents()
    _save_widget(dialog, out, "13-batch-cancelled")
    dialog.start()
    while len(finished) < 2:
        QApplication.processEvents()
    _save_widget(dialog, out, "14-batch-resumed")
    from vsa_desktop.gui.report_view import ReportView

    report = ReportView(Path(dialog.output_edit.text()), "account", "posted", parent=window)
    report.show()
    while report.data is None:
        QApplication.processEvents()
    _save_widget(report, out, "15-batch-report")
    for i, name in ((3, "16-batch-report-groups"), (report.tabs.count() - 1, "17-batch-mixed")):
        report.tabs.setCurrentIndex(i)
        _save_widget(report, out, name)
    report.reject()
    dialog.reject()
    window.close()


def _dark_palette(app) -> None:  # app: QApplication
    """A dark system palette, as a desktop in dark mode gives the app."""
    from PySide6.QtGui import QColor, QPalette

    app.setStyle("Fusion")
    palette = QPalette()
    role = QPalette.ColorRole
    for r, colour in (
        (role.Window, "#2b2b2b"),
        (role.WindowText, "#e6e6e6"),
        (role.Base, "#1e1e1e"),
        (role.AlternateBase, "#2b2b2b"),
        (role.Text, "#e6e6e6"),
        (role.Button, "#353535"),
        (role.ButtonText, "#e6e6e6"),
        (role.Highlight, "#2f6db5"),
        (role.HighlightedText, "#ffffff"),
        (role.PlaceholderText, "#9a9a9a"),
    ):
        palette.setColor(r, QColor(colour))
    disabled = QPalette.ColorGroup.Disabled
    for r in (role.WindowText, role.Text, role.ButtonText):
        palette.setColor(disabled, r, QColor("#777777"))
    app.setPalette(palette)


if __name__ == "__main__":
    sys.exit(main())
