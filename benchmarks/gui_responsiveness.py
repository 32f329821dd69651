"""GUI responsiveness: event-loop stalls during an analysis, and launch-to-window time.

(a) A 10 ms QTimer ticks on the GUI thread while the main window runs an analysis in its
    worker (offscreen); the longest gap between two ticks is how long the GUI was frozen.
    Measured for the first (cold: models load in the worker) and later (warm) analyses.
(b) ``python -m vsa_desktop --quit-after-show`` is launched in a subprocess that prints the
    seconds from launch to the window's first Show event and whether torch was imported.

Run: ``python benchmarks/gui_responsiveness.py [--text-model builtin:lite] [--runs 5]``
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
IMAGE = ROOT / "tests" / "data" / "astronaut.png"
TEXT = "What a wonderful, happy day with friends."
TICK_MS = 10


def _text_model(requested: str) -> str:
    """``requested``, or the tests' tiny model when the built-in lite model is not installed."""
    from vsa_desktop.core.text.lite import default_model_path

    if requested != "builtin:lite" or default_model_path().is_file():
        return requested
    sys.path.insert(0, str(ROOT))
    from tests.tiny_model import build_tiny_model

    print("builtin:lite is not installed; using a tiny test model instead", file=sys.stderr)
    return str(build_tiny_model(Path(tempfile.mkdtemp()) / "tiny"))


def measure_stalls(text_model: str, runs: int) -> list[tuple[str, float, float, float]]:
    """Per analysis: (label, longest tick gap while the worker ran, display ms, total ms).

    The display time (chart drawn with Matplotlib, labels, history refresh) is GUI-thread
    work by design, so it is reported on its own.
    """
    from PySide6.QtCore import QElapsedTimer, QEventLoop, QTimer
    from PySide6.QtTest import QTest
    from PySide6.QtWidgets import QApplication

    from vsa_desktop.core.settings import Settings
    from vsa_desktop.gui.main_window import MainWindow

    app = QApplication.instance() or QApplication([])
    window = MainWindow(
        Settings(text_model=text_model, vision_backend="local", first_run_notice_dismissed=True)
    )
    window.resize(1280, 800)
    window.show()
    window.drop_zone.load_path(IMAGE)
    window.text_input.set_text(TEXT)
    _ = window.result_view.chart  # Matplotlib import is start-up cost, not analysis cost
    rows = []
    arrived: list[float] = []
    show = window.show_result

    def timed_show(result: object, origin: str = "") -> None:
        arrived.append(clock.nsecsElapsed() / 1e6)
        show(result, origin)
        window.result_view.chart.draw()  # the canvas render itself, not deferred

    window.show_result = timed_show  # type: ignore[method-assign]
    for i in range(runs + 1):
        QTest.qWait(300)  # let the previous result's deferred work finish first
        clock, ticks, arrived = QElapsedTimer(), [], []
        timer = QTimer()
        timer.setInterval(TICK_MS)
        timer.timeout.connect(lambda t=ticks, c=clock: t.append(c.nsecsElapsed() / 1e6))
        loop = QEventLoop()
        window.result_shown.connect(loop.quit)
        clock.start()
        timer.start()
        window.analyze()
        loop.exec()
        end = clock.nsecsElapsed() / 1e6
        timer.stop()
        window.result_shown.disconnect(loop.quit)
        during = [t for t in ticks if t < arrived[0]] + [arrived[0]]
        gaps = [b - a for a, b in zip([0.0, *during], during, strict=False)]
        label = "cold (first analysis)" if i == 0 else f"warm #{i}"
        rows.append((label, max(gaps), end - arrived[0], end))
    window.close()
    app.processEvents()
    return rows


def measure_launch(runs: int) -> list[dict[str, object]]:
    """Launch the app ``runs`` times; return each start-up report."""
    reports = []
    for _ in range(runs):
        with tempfile.TemporaryDirectory() as home:
            env = {
                **os.environ,
                "QT_QPA_PLATFORM": "offscreen",
                "VSA_HOME": home,
                "VSA_LAUNCH_T0": repr(time.time()),
            }
            done = subprocess.run(
                [sys.executable, "-m", "vsa_desktop", "--quit-after-show"],
                env=env,
                capture_output=True,
                text=True,
                timeout=120,
            )
        if done.returncode != 0:
            raise SystemExit(done.stderr)
        reports.append(json.loads(done.stdout.strip().splitlines()[-1]))
    return reports


def main(argv: list[str] | None = None) -> int:
    """Print both tables."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--text-model", default="builtin:lite")
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args(argv)
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    os.environ.setdefault("VSA_HOME", tempfile.mkdtemp(prefix="vsa-bench-"))
    model = _text_model(args.text_model)

    rows = measure_stalls(model, args.runs)
    print(
        f"(a) GUI thread stalls during an analysis ({TICK_MS} ms timer; text model {model}, "
        "local faces, 512x512 image)"
    )
    print(f"{'analysis':<24}{'longest gap (worker) ms':>25}{'show result ms':>16}{'total ms':>10}")
    for label, gap, display, total in rows:
        print(f"{label:<24}{gap:>25.1f}{display:>16.1f}{total:>10.1f}")
    warm = [gap for _, gap, _, _ in rows[1:]]
    shown = [display for _, _, display, _ in rows[1:]]
    print(f"{'warm median':<24}{statistics.median(warm):>25.1f}{statistics.median(shown):>16.1f}")

    reports = measure_launch(args.runs)
    times = [float(r["shown_after_s"]) for r in reports]
    print("\n(b) launch to window shown (python -m vsa_desktop --quit-after-show)")
    print(f"{'run':<6}{'seconds':>10}{'torch loaded':>15}{'transformers':>15}")
    for i, r in enumerate(reports, 1):
        print(
            f"{i:<6}{r['shown_after_s']:>10.3f}{r['torch_loaded']!s:>15}"
            f"{r['transformers_loaded']!s:>15}"
        )
    print(f"{'median':<6}{statistics.median(times):>10.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
