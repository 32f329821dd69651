"""Explanation speed: exact lite attributions, and occlusion on the int8 ONNX runtime.

Run ``python -m benchmarks.explain_speed [--quick]``.

(a) Lite: ``explain_text`` on GoEmotions dev texts with the built-in model (the target is
    < 5 ms per text), next to the model's own ``analyze``.
(b) Occlusion: ``explain_text`` on 64-word texts with the int8 ONNX runtime of a
    DistilRoBERTa-shaped model with random weights (built and converted with the app's
    converter exactly as ``benchmarks/text_speed.py`` does, in the same ``--work`` folder, so
    one build serves both). Its labels are meaningless; the speed is real. Target < 300 ms.
    Shown for the default budget and for every word (``max_words=64``), with the number of
    texts scored, wall time (p50/p95), CPU time of this process, and the ratio to one
    analysis of the same text measured in the same run (which a busy machine slows alike).
(c) Cancel: an occlusion run in a thread is cancelled 30 ms in; the time from ``cancel()`` to
    ``Cancelled`` reaching the thread is the cancel latency.
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from benchmarks.text_speed import _texts, build_model, percentile


class _Counting:
    """Passes calls to an analyzer and counts the texts it scored."""

    def __init__(self, analyzer: Any) -> None:
        self.model_id, self.runtime = analyzer.model_id, analyzer.runtime
        self._analyzer = analyzer
        self.texts = 0

    def analyze(self, text: str) -> Any:
        return self.analyze_batch([text])[0]

    def analyze_batch(self, texts: list[str]) -> Any:
        self.texts += len(texts)
        return self._analyzer.analyze_batch(texts)


def timed(fn: Callable[[], Any], reps: int) -> tuple[list[float], list[float]]:
    """Wall and CPU milliseconds of ``reps`` calls (after one warm-up call)."""
    fn()
    wall, cpu = [], []
    for _ in range(reps):
        w0, c0 = time.perf_counter(), time.process_time()
        fn()
        wall.append((time.perf_counter() - w0) * 1000)
        cpu.append((time.process_time() - c0) * 1000)
    return wall, cpu


def sixty_four_words(texts: list[str], sentences: bool) -> str:
    """64 words of dev comments: as they are (several sentences), or as one run-on sentence."""
    words = " ".join(texts).split()[:64]
    if sentences:
        return " ".join(words)
    return " ".join(w.strip(".!?") for w in words if w.strip(".!?"))


def lite_section(dev: list[str]) -> None:
    from vsa_desktop.core.explain import explain_text
    from vsa_desktop.core.text.lite import load_lite

    lite = load_lite()
    for text in dev[:20]:
        explain_text(lite, text)
    explain_ms, analyze_ms = [], []
    for text in dev:
        t0 = time.perf_counter()
        explain_text(lite, text)
        t1 = time.perf_counter()
        lite.analyze(text)
        t2 = time.perf_counter()
        explain_ms.append((t1 - t0) * 1000)
        analyze_ms.append((t2 - t1) * 1000)
    long = sixty_four_words(dev, sentences=True)
    wall, _ = timed(lambda: explain_text(lite, long), 50)
    print(f"\n(a) lite, exact, on {len(dev)} dev texts (ms per text)")
    print("| what | p50 | p95 | max |")
    print("|---|---|---|---|")
    for name, values in (
        ("explain_text", explain_ms),
        ("analyze (the reading itself)", analyze_ms),
    ):
        print(
            f"| {name} | {statistics.median(values):.2f} | {percentile(values, 95):.2f} "
            f"| {max(values):.2f} |"
        )
    print(
        f"| explain_text, 64-word text | {statistics.median(wall):.2f} "
        f"| {percentile(wall, 95):.2f} | {max(wall):.2f} |"
    )


def occlusion_section(model: Path, dev: list[str], reps: int) -> Any:
    from vsa_desktop.core.explain import explain_text, occlusion
    from vsa_desktop.core.text.convert import cached_report
    from vsa_desktop.core.text.onnx_backend import OnnxTextAnalyzer

    report = cached_report(str(model))
    assert report is not None
    int8 = OnnxTextAnalyzer(report.folder, str(model), int8=True)
    print(f"\n(b) occlusion, int8 ONNX, DistilRoBERTa-shaped random model (ms, {reps} runs)")
    print(
        "| text | budget | tokens | texts scored | wall p50 | wall p95 | CPU p50 "
        "| one analyze p50 | ratio |"
    )
    print("|---|---|---|---|---|---|---|---|---|")
    for sentences in (True, False):
        text = sixty_four_words(dev, sentences)
        tokens = len(int8.encode(text)[0])
        one, _ = timed(lambda text=text: int8.analyze(text), reps)
        for budget in (None, 64):
            counter = _Counting(int8)

            def run(text: str = text, budget: int | None = budget, counter: Any = counter) -> None:
                counter.texts = 0
                explain_text(counter, text, max_words=budget)

            wall, cpu = timed(run, reps)
            kind = "sentences" if sentences else "one sentence"
            words = f"default ({occlusion.budget_for(text)})" if budget is None else "every word"
            print(
                f"| 64 words, {kind} | {words} | {tokens} | {counter.texts} "
                f"| {statistics.median(wall):.0f} | {percentile(wall, 95):.0f} "
                f"| {statistics.median(cpu):.0f} | {statistics.median(one):.1f} "
                f"| {statistics.median(wall) / statistics.median(one):.1f}x |"
            )
    return int8


def cancel_section(int8: Any, dev: list[str], reps: int) -> None:
    from vsa_desktop.core.cancel import CancelToken
    from vsa_desktop.core.errors import Cancelled
    from vsa_desktop.core.explain import explain_text

    text = sixty_four_words(dev, sentences=False)
    latencies = []
    for _ in range(reps):
        token = CancelToken()
        done: dict[str, float] = {}

        def work(token: CancelToken = token, done: dict[str, float] = done) -> None:
            try:
                explain_text(int8, text, max_words=64, cancel=token)
            except Cancelled:
                done["at"] = time.perf_counter()

        thread = threading.Thread(target=work)
        thread.start()
        time.sleep(0.03)
        asked = time.perf_counter()
        token.cancel()
        thread.join()
        if "at" in done:
            latencies.append((done["at"] - asked) * 1000)
    print("\n(c) cancel latency of an occlusion run (ms from cancel() to Cancelled)")
    if latencies:
        print(
            f"p50 {statistics.median(latencies):.0f}, max {max(latencies):.0f} "
            f"({len(latencies)}/{reps} runs were still going at 30 ms)"
        )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer texts and repetitions")
    parser.add_argument("--work", type=Path, default=Path(tempfile.gettempdir()) / "vsa-text-speed")
    args = parser.parse_args(argv)
    os.environ["VSA_HOME"] = str(args.work / "home")
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    print(f"{os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f} at the start")
    dev = _texts("dev.tsv")
    reps = 5 if args.quick else 15
    lite_section(dev[: 300 if args.quick else 2000])
    model = args.work / "model"
    if not (model / "config.json").is_file():
        print("building the DistilRoBERTa-shaped model...", flush=True)
        build_model(model)
    from vsa_desktop.core.text.convert import ensure_onnx

    ensure_onnx(str(model))
    int8 = occlusion_section(model, dev, reps)
    cancel_section(int8, dev, reps)
    print(f"\nload average {os.getloadavg()[0]:.1f} at the end")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
