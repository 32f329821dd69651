"""GUI responsiveness: the longest GUI-thread block in every step a person takes, and launch time.

(a) A 10 ms QTimer ticks on the GUI thread while the main window (offscreen) does one step;
    the longest gap between two ticks, from the step's start until 300 ms after it is done
    (deferred paints included), is how long the window was frozen. Steps: drop a 512 px
    photo and a 60-megapixel one, analyze and show (cold: the first analysis; then warm),
    click a history row, export PNG and PDF. A gap of about 10 ms means no block at all.
(b) A history of 100,000 results: open the window on it, scroll to the end of the list,
    and type a search one key at a time (120 ms apart), each measured the same way.
(c) ``python -m vsa_desktop --quit-after-show`` launched in a subprocess: seconds from
    launch to the window's first Show event, and whether torch was imported.

Run: ``python -m benchmarks.gui_responsiveness [--text-model builtin:lite] [--runs 3]
[--history 100000] [--skip-launch]``.
"""

from __future__ import annotations

import argparse
import dataclasses
import itertools
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
IMAGE = ROOT / "tests" / "data" / "astronaut.png"
TEXT = "What a wonderful, happy day with friends."
TICK_MS = 10
SETTLE_MS = 300
BUDGET_MS = 30.0
SEARCH = "wonderful"


def _text_model(requested: str) -> str:
    """``requested``, or the tests' tiny model when the built-in lite model is not installed."""
    from vsa_desktop.core.text.lite import default_model_path

    if requested != "builtin:lite" or default_model_path().is_file():
        return requested
    sys.path.insert(0, str(ROOT))
    from tests.tiny_model import build_tiny_model

    print("builtin:lite is not installed; using a tiny test model instead", file=sys.stderr)
    return str(build_tiny_model(Path(tempfile.mkdtemp()) / "tiny"))


def big_photo(folder: Path, megapixels: float = 60.0) -> Path:
    """A JPEG of about ``megapixels`` (the astronaut, scaled up), made once."""
    from PIL import Image

    path = folder / f"photo-{megapixels:.0f}mp.jpg"
    if not path.exists():
        width = int((megapixels * 1e6 * 4 / 3) ** 0.5)
        height = int(width * 3 / 4)
        with Image.open(IMAGE) as small:
            small.convert("RGB").resize((width, height)).save(path, quality=85)
    return path


Row = tuple[str, float, float, float]  # step, GUI-thread CPU ms, longest wall gap ms, done ms


class Ticker:
    """Watches the GUI thread while ``run`` waits: a 10 ms timer notes the wall clock and
    the GUI thread's own CPU time at every tick.

    Between two ticks the GUI thread did one stretch of work (a timer cannot fire inside
    it): the largest CPU time between ticks is the longest GUI-thread block, whatever the
    machine's load; the largest wall gap adds the time the thread waited for a CPU or for
    Python's GIL.
    """

    def __init__(self) -> None:
        from PySide6.QtCore import QElapsedTimer, QTimer

        self.clock = QElapsedTimer()
        self.timer = QTimer()
        self.timer.setInterval(TICK_MS)
        self.ticks: list[tuple[float, float]] = []
        self.timer.timeout.connect(self._tick)

    def _tick(self) -> None:
        self.ticks.append((self.clock.nsecsElapsed() / 1e6, time.thread_time() * 1000))

    def run(
        self, action: Callable[[], object], done: Callable[[], bool], timeout_s: float = 300
    ) -> tuple[float, float, float]:
        """Tick, do ``action``, wait for ``done()`` and SETTLE_MS more: (cpu, gap, done ms)."""
        from PySide6.QtCore import QCoreApplication, QEventLoop

        self.ticks = []
        self.clock.start()
        self._tick()
        self.timer.start()
        action()
        finished_at = None
        deadline = time.monotonic() + timeout_s
        while True:
            QCoreApplication.processEvents(QEventLoop.ProcessEventsFlag.AllEvents, 5)
            now = self.clock.nsecsElapsed() / 1e6
            if finished_at is None and done():
                finished_at = now
            if finished_at is not None and now - finished_at >= SETTLE_MS:
                break
            if time.monotonic() > deadline:
                raise SystemExit("a step did not finish in time")
            time.sleep(0.001)
        self.timer.stop()
        self._tick()
        pairs = list(itertools.pairwise(self.ticks))
        cpu = max(b[1] - a[1] for a, b in pairs)
        gap = max(b[0] - a[0] for a, b in pairs)
        return cpu, gap, finished_at


# ----------------------------------------------------------------------- adapters
# The same steps drive older versions of the window (for the baseline column).


def _image_ready(window: object, name: str) -> Callable[[], bool]:
    zone = window.drop_zone  # type: ignore[attr-defined]
    return lambda: not getattr(zone, "loading", False) and zone.image_name == name


def _export(window: object, path: Path, results: list[object]) -> Callable[[], bool]:
    exports = getattr(window, "exports", None)
    if exports is None:  # before exports ran in the background
        window.export_to(path, results)  # type: ignore[attr-defined]
        return lambda: True
    exports.export(path, results)
    return lambda: path.exists() and "Exporting" not in window.status.activity.text()  # type: ignore[attr-defined]


def _panel_idle(panel: object) -> bool:
    return not getattr(panel, "busy", False)


def _history_open(window: object) -> bool:
    box = getattr(window, "history_box", None)  # older windows opened it while being built
    return box is None or (box.ready and window.history is box.store)  # type: ignore[attr-defined]


# ----------------------------------------------------------------------- (a) steps


def measure_steps(text_model: str, runs: int, folder: Path) -> list[Row]:
    """Per step: (label, GUI-thread CPU ms, longest wall gap ms, ms until done)."""
    from vsa_desktop.core.settings import Settings
    from vsa_desktop.gui.main_window import MainWindow

    photo = big_photo(folder)
    window = MainWindow(
        Settings(text_model=text_model, vision_backend="local", first_run_notice_dismissed=True)
    )
    window.resize(1280, 800)
    window.show()
    ticker = Ticker()
    shown: list[object] = []
    window.result_shown.connect(shown.append)
    rows: list[Row] = []

    def step(label: str, action: Callable[[], object], done: Callable[[], bool]) -> None:
        rows.append((label, *ticker.run(action, done)))

    ticker.run(lambda: None, lambda: True)  # the first paint of the window
    warmed: list[object] = []
    window.warmup_finished.connect(warmed.append)
    step("warm-up at launch (background)", window.start_warmup, lambda: bool(warmed))
    step(
        "drop 512x512 photo",
        lambda: window.drop_zone.load_path(IMAGE),
        _image_ready(window, IMAGE.name),
    )
    window.text_input.set_text(TEXT)
    for i in range(runs + 1):
        n = len(shown)
        label = "analyze + show (first)" if i == 0 else f"analyze + show (warm #{i})"
        step(label, window.analyze, lambda n=n: len(shown) > n)
    step(
        "drop 60 MP photo",
        lambda: window.drop_zone.load_path(photo),
        _image_ready(window, photo.name),
    )
    n = len(shown)
    step("analyze + show 60 MP", window.analyze, lambda: len(shown) > n)
    for i in range(runs):
        n = len(shown)
        step(
            f"history click #{i + 1}",
            lambda i=i: window.history_panel.select_row(1 + i % 2),
            lambda n=n: len(shown) > n,
        )
    result = window.result_view.result
    for suffix in ("png", "pdf"):
        target = folder / f"bench-export.{suffix}"
        target.unlink(missing_ok=True)
        pending: list[Callable[[], bool]] = []
        step(
            f"export {suffix.upper()}",
            lambda t=target, p=pending: p.append(_export(window, t, [result])),
            lambda p=pending: bool(p) and p[0](),
        )
    window.close()
    return rows


# ----------------------------------------------------------------------- (b) big history


def fill_history(path: Path, count: int) -> None:
    """``count`` results (every third with a thumbnail), written in one transaction."""
    from PIL import Image

    from vsa_desktop.core import history
    from vsa_desktop.core.history import HistoryStore, make_thumbnail
    from vsa_desktop.core.pipeline import AnalysisRequest, analyze
    from vsa_desktop.core.result import new_id

    template = analyze(
        AnalysisRequest(text=TEXT, image=str(IMAGE), vision="local", text_model="builtin:lite")
    )
    with Image.open(IMAGE) as image:
        thumb = make_thumbnail(image.convert("RGB"))
    words = ("happy", "rainy", "beach", "family", "wonderful", "angry", "quiet", "surprise")
    start = time.time() - count * 60
    with HistoryStore(path) as store, store._cursor(write=True) as conn:
        rows = []
        for i in range(count):
            moment = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(start + 60 * i))
            text = f"Entry {i}: a {words[i % 8]} {words[(i * 3) % 8]} day number {i}"
            result = dataclasses.replace(template, id=new_id(), created_at=moment, text_input=text)
            rows.append(history._row(result, thumb if i % 3 == 0 else None))
        conn.executemany(
            "INSERT INTO analyses (id, created_at, mode, text_label, vision_label, fused_label, "
            "fused_confidence, agreement_score, agreement_level, text_excerpt, image_sha256, "
            "image_name, thumbnail, result_json) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            rows,
        )


def measure_big_history(text_model: str, count: int, folder: Path) -> tuple[list[Row], str]:
    """Launch on, scroll through and search a history of ``count`` results."""
    from PySide6.QtTest import QTest

    from vsa_desktop.core.settings import Settings
    from vsa_desktop.gui.main_window import MainWindow

    path = folder / f"history-{count}.sqlite3"
    if not path.exists():
        started = time.perf_counter()
        fill_history(path, count)
        print(
            f"(made a history of {count:,} results in {time.perf_counter() - started:.0f} s)",
            file=sys.stderr,
        )
    settings = Settings(
        text_model=text_model, vision_backend="local", first_run_notice_dismissed=True,
        history_path=str(path),
    )  # fmt: skip
    ticker = Ticker()
    holder: list[MainWindow] = []
    rows: list[Row] = []
    built: dict[str, float] = {}
    for label, chosen in (
        (
            "empty history",
            Settings(**{**settings.to_dict(), "history_path": str(folder / "empty.sqlite3")}),
        ),
        (f"{count:,} results", settings),
    ):
        started = time.perf_counter()
        window = MainWindow(chosen)
        window.resize(1280, 800)
        window.show()
        built[label] = (time.perf_counter() - started) * 1000
        holder.append(window)
        cpu, gap, took = ticker.run(
            lambda: None,
            lambda w=window: (
                _history_open(w)
                and _panel_idle(w.history_panel)
                and (w.history_panel.model.rowCount() > 0 or w.history_panel.model.total == 0)
            ),
        )
        rows.append((f"launch with {label}**", cpu, gap, took))
        if label == "empty history":
            window.close()
    note = "building and showing the window: " + ", ".join(
        f"{v:.0f} ms ({k})" for k, v in built.items()
    )
    window = holder[-1]
    panel = window.history_panel
    bar = panel.table.verticalScrollBar()
    for i in range(5):
        before = panel.model.rowCount()
        cpu, gap, took = ticker.run(
            lambda: bar.setValue(bar.maximum()),
            lambda b=before: panel.model.rowCount() > b and _panel_idle(panel),
        )
        rows.append((f"scroll to the end #{i + 1}", cpu, gap, took))
    panel.search.setFocus()

    def type_search() -> None:
        for ch in SEARCH:
            QTest.keyClick(panel.search, ch)
            QTest.qWait(120)

    cpu, gap, took = ticker.run(
        type_search, lambda: _panel_idle(panel) and panel.search.text() == SEARCH
    )
    rows.append((f"type '{SEARCH}' ({len(SEARCH)} keys)", cpu, gap, took))
    cpu, gap, took = ticker.run(lambda: panel.search.clear(), lambda: _panel_idle(panel))
    rows.append(("clear the search", cpu, gap, took))
    window.close()
    return rows, note


# ----------------------------------------------------------------------- (c) launch


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


def _table(title: str, rows: list[Row]) -> None:
    print(title)
    print(f"{'step':<36}{'GUI-thread block ms':>21}{'longest stall ms':>18}{'done after ms':>15}")
    for label, cpu, gap, took in rows:
        flag = "" if cpu <= BUDGET_MS else "  > 30"
        print(f"{label:<36}{cpu:>21.1f}{gap:>18.1f}{took:>15.0f}{flag}")


def main(argv: list[str] | None = None) -> int:
    """Print the tables."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--text-model", default="builtin:lite")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--history", type=int, default=100_000, help="0 skips table (b)")
    parser.add_argument("--skip-launch", action="store_true")
    parser.add_argument("--data", type=Path, default=Path(tempfile.gettempdir()) / "vsa-bench-data")
    args = parser.parse_args(argv)
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    os.environ.setdefault("VSA_HOME", tempfile.mkdtemp(prefix="vsa-bench-"))
    os.environ.setdefault("VSA_NO_DIALOGS", "1")
    args.data.mkdir(parents=True, exist_ok=True)
    from PySide6.QtWidgets import QApplication

    app = QApplication.instance() or QApplication([])
    model = _text_model(args.text_model)
    rows = measure_steps(model, args.runs, args.data)
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(f"(machine load {load:.1f} on {os.cpu_count()} cores: stalls include waiting for a CPU)")
    _table(f"(a) GUI thread per step ({TICK_MS} ms ticker; text {model}, local faces)", rows)
    if args.history:
        print()
        big, note = measure_big_history(model, args.history, args.data)
        _table(f"(b) a history of {args.history:,} results", big)
        print("** from the window's first show until the history's first page is on screen;")
        print(f"   {note}")
    app.processEvents()
    if not args.skip_launch:
        reports = measure_launch(args.runs)
        times = [float(r["shown_after_s"]) for r in reports]
        print("\n(c) launch to window shown (python -m vsa_desktop --quit-after-show)")
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
