"""``vsa batch``: analyze a CSV or a folder of images, resumably, with a progress bar."""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING

from vsa_desktop.cli import common, exitcodes
from vsa_desktop.cli.analyze import (
    add_explain_option,
    add_model_options,
    open_history,
    request_from_args,
)
from vsa_desktop.core.terminal import safe

if TYPE_CHECKING:
    from vsa_desktop.core.batch import BatchItem, BatchSummary


def add_parser(sub: argparse._SubParsersAction) -> None:
    """Register ``batch``."""
    p = sub.add_parser(
        "batch",
        help="analyze many items from a CSV or a folder of images",
        description="INPUT is a CSV with 'text' and/or 'image' columns (image paths relative "
        "to the CSV; other columns are kept) or a folder of images (a same-name .txt file "
        "holds an image's text). Image and text paths must stay inside INPUT's folder. "
        "Re-running with the same outputs skips what is done.",
    )
    p.add_argument("input", type=Path, metavar="INPUT")
    p.add_argument("--jsonl", type=Path, help="write one vsa.result/1 document per line here")
    p.add_argument("--csv", type=Path, help="write one CSV row per result here")
    add_model_options(p)
    add_explain_option(p)
    p.add_argument("--no-history", action="store_true", help="do not keep results in history")
    p.add_argument(
        "--allow-paths-outside",
        action="store_true",
        help="follow image and text paths that lead outside INPUT's folder (refused by default)",
    )
    p.set_defaults(func=run)


class ProgressBar:
    """A one-line terminal progress bar on stderr (plain lines when not a terminal)."""

    def __init__(self, stream=sys.stderr, width: int = 30) -> None:
        self.stream, self.width = stream, width
        self.tty = stream.isatty()
        self.started = time.perf_counter()
        self.last_line = 0.0

    def __call__(self, processed: int, total: int, summary: BatchSummary) -> None:
        now = time.perf_counter()
        if not self.tty and processed < total and now - self.last_line < 5:
            return
        self.last_line = now
        filled = int(self.width * processed / total) if total else self.width
        rate = summary.done / (now - self.started) if now > self.started else 0.0
        line = (
            f"[{'#' * filled}{'.' * (self.width - filled)}] {processed}/{total} "
            f"{rate:.1f} items/s, {len(summary.failures)} failed"
        )
        self.stream.write(("\r" + line) if self.tty else line + "\n")
        self.stream.flush()

    def close(self) -> None:
        if self.tty:
            self.stream.write("\n")


def print_summary(summary: BatchSummary, stream=sys.stderr) -> None:
    """The end-of-run summary: counts per label, skipped, failures, history not kept."""
    print(
        f"Analysed {summary.done} of {summary.total} items in {summary.seconds:.1f} s "
        f"({summary.per_second:.1f} items/s); {summary.skipped} already done, "
        f"{len(summary.failures)} failed.",
        file=stream,
    )
    if summary.not_kept:
        print(
            f"{summary.not_kept:,} result{'s' if summary.not_kept != 1 else ''} not kept in "
            f"history: {safe(summary.history_problem or '', one_line=True)}",
            file=stream,
        )
    if summary.labels:
        counts = ", ".join(f"{label} {n}" for label, n in summary.labels.most_common())
        print(f"Fused labels: {counts}.", file=stream)
    for key, message in summary.failures[:50]:
        print(f"  failed {safe(key, one_line=True)}: {safe(message, one_line=True)}", file=stream)
    if len(summary.failures) > 50:
        print(f"  ... and {len(summary.failures) - 50} more.", file=stream)
    if summary.cancelled:
        print("Stopped early; run the same command again to continue.", file=stream)


def encoding_notes(items: list[BatchItem], source: Path) -> list[str]:
    """One sentence per encoding that texts were read with, when not UTF-8."""
    from collections import Counter

    counts = Counter(item.text_encoding for item in items if item.text_encoding)
    if source.is_dir():
        return [
            f"{n} text file{'s are' if n != 1 else ' is'} not UTF-8; read as {enc.upper()}."
            for enc, n in counts.most_common()
        ]
    return [f"{source.name} is not UTF-8; it was read as {enc.upper()}." for enc in counts]


def run(args: argparse.Namespace) -> int:
    """``vsa batch``: failures and results not kept in history exit with 1."""
    from vsa_desktop.core.batch import BatchOutputs, batch_scope, read_items, run_batch

    settings = common.settings()
    items, extra = read_items(args.input, allow_outside=args.allow_paths_outside)
    outputs = BatchOutputs(args.jsonl, args.csv, extra)
    request_from_args(args, settings)  # validate options before starting
    history, problem = (None, None) if args.no_history else open_history(settings)
    for sentence in encoding_notes(items, args.input):
        common.note(sentence)
    bar = ProgressBar()
    summary = run_batch(
        items,
        outputs,
        lambda item: request_from_args(args, settings, item.text, item.image),
        history=history,
        keep_thumbnail=settings.keep_thumbnails,
        progress=bar,
        history_scope=batch_scope(args.input),
    )
    bar.close()
    if problem is not None:
        summary.not_kept, summary.history_problem = summary.done, problem
    print_summary(summary)
    if summary.failures or summary.not_kept:
        return exitcodes.FAILED
    return exitcodes.OK
