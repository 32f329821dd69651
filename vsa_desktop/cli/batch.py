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
from vsa_desktop.core.plural import count, word
from vsa_desktop.core.terminal import safe

if TYPE_CHECKING:
    from vsa_desktop.core.batch import BatchItem, BatchSummary


def add_parser(sub: argparse._SubParsersAction) -> None:
    """Register ``batch``."""
    p = sub.add_parser(
        "batch",
        help="analyze many items from a CSV, JSONL or Parquet file or a folder of images",
        description="INPUT is a CSV, a JSONL (.jsonl, one object per line) or a Parquet file "
        "with 'text' and/or 'image' fields (image paths relative to the file; other columns "
        "are kept), or a folder of images (a same-name .txt file holds an image's text). "
        "Image and text paths must stay inside INPUT's folder. Every row gets an output row "
        "with its status (ok, partial: read without its missing image, failed: with the "
        "reason). Re-running with the same outputs skips what is done and retries failed "
        "rows.",
    )
    p.add_argument("input", type=Path, metavar="INPUT")
    p.add_argument("--jsonl", type=Path, help="write one vsa.result/1 document per line here")
    p.add_argument("--csv", type=Path, help="write one CSV row per result here")
    p.add_argument(
        "--parquet",
        type=Path,
        metavar="FOLDER",
        help="write Parquet part files into this folder (needs the scale extra)",
    )
    add_model_options(p)
    add_explain_option(p)
    p.add_argument("--no-history", action="store_true", help="do not keep results in history")
    p.add_argument(
        "--allow-paths-outside",
        action="store_true",
        help="follow image and text paths that lead outside INPUT's folder (refused by default)",
    )
    p.add_argument(
        "--engine",
        choices=("local", "ray"),
        default="local",
        help="local: this process (default); ray: Ray Data workers, on this machine or a "
        "cluster (needs the scale extra; history is not written)",
    )
    p.add_argument(
        "--ray-address",
        metavar="ADDRESS",
        help="the Ray cluster to use (auto, ray://host:10001); default: a local Ray with "
        "this machine's cores",
    )
    p.add_argument(
        "--workers",
        type=_positive_int,
        metavar="N",
        help="Ray workers, each with its own copy of the models (default: one per CPU)",
    )
    p.add_argument(
        "--vision-rpm",
        type=_positive_float,
        metavar="N",
        help="cloud vision requests per minute for the whole run, all workers together "
        "(default: from settings, 30)",
    )
    p.set_defaults(func=run)


def _positive_int(value: str) -> int:
    try:
        number = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{value!r} is not a whole number") from None
    if number < 1:
        raise argparse.ArgumentTypeError("give at least 1")
    return number


def _positive_float(value: str) -> float:
    try:
        number = float(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{value!r} is not a number") from None
    if not 0 < number <= 100_000:
        raise argparse.ArgumentTypeError("give a number above 0 (at most 100000)")
    return number


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


def print_summary(
    summary: BatchSummary, stream=sys.stderr, names: dict[str, str] | None = None
) -> None:
    """The end-of-run summary: counts per label, skipped, failures, history not kept.

    ``names`` maps a row's key to how people know it (``row 5 (id a4)``); a key not in it
    is named from the key alone.
    """
    from vsa_desktop.core.batch_input import row_name

    retried = f" ({summary.retried} tried again)" if summary.retried else ""
    print(
        f"Analysed {summary.done:,} of {count(summary.total, 'item')} in {summary.seconds:.1f} s "
        f"({summary.per_second:.1f} items/s){retried}; {summary.skipped:,} already done, "
        f"{len(summary.failures):,} failed.",
        file=stream,
    )
    if summary.partial:
        print(
            f"{count(summary.partial, 'item was', 'items were')} read from the text alone: "
            f"{word(summary.partial, 'its image was', 'their images were')} not found (status "
            f"partial; a re-run reads {word(summary.partial, 'it', 'them')} again once the "
            f"{word(summary.partial, 'image is', 'images are')} there).",
            file=stream,
        )
    if summary.not_kept:
        print(
            f"{count(summary.not_kept, 'result')} not kept in "
            f"history: {safe(summary.history_problem or '', one_line=True)}",
            file=stream,
        )
    if summary.labels:
        counts = ", ".join(f"{label} {n}" for label, n in summary.labels.most_common())
        print(f"Fused labels: {counts}.", file=stream)
    for key, message in summary.failures[:50]:
        name = (names or {}).get(key) or row_name(key)
        print(f"  failed {safe(name, one_line=True)}: {safe(message, one_line=True)}", file=stream)
    if len(summary.failures) > 50:
        print(f"  ... and {len(summary.failures) - 50} more.", file=stream)
    if summary.failures:
        print(
            f"{word(len(summary.failures), 'The failed row is', 'Failed rows are')} in the outputs too (status failed, with the reason); run the "
            "same command again to retry them.",
            file=stream,
        )
    if summary.cancelled:
        print("Stopped early; run the same command again to continue.", file=stream)


def failed_row_names(summary: BatchSummary, items: list[BatchItem]) -> dict[str, str]:
    """The failed rows' names, from their input's ``id`` column when it has one."""
    from vsa_desktop.core.batch_input import row_name

    failed = {key for key, _message in summary.failures[:50]}  # only the ones printed
    return {i.key: row_name(i.key, i.extra) for i in items if i.key in failed}


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
    from vsa_desktop.core import ratelimit
    from vsa_desktop.core.batch import (
        BatchOutputs,
        RequestTemplate,
        batch_scope,
        read_items,
        run_batch,
    )
    from vsa_desktop.core.errors import InputError

    if args.ray_address and args.engine != "ray":
        raise InputError("--ray-address needs --engine ray.")
    if args.workers and args.engine != "ray":
        raise InputError("--workers needs --engine ray (the local engine is one process).")
    settings = common.settings()
    template = RequestTemplate(request_from_args(args, settings))  # options checked first
    items, extra = read_items(args.input, allow_outside=args.allow_paths_outside)
    outputs = BatchOutputs(args.jsonl, args.csv, extra, args.parquet, source=args.input)
    for sentence in encoding_notes(items, args.input):
        common.note(sentence)
    rpm = args.vision_rpm or settings.groq_requests_per_minute
    bar = ProgressBar()
    if args.engine == "ray":
        from vsa_desktop.core.batch_ray import run_batch_ray

        if not args.no_history:
            common.note(
                "History is not written by the Ray engine (--no-history is implied); the "
                "results are in the output files."
            )
        summary = run_batch_ray(
            items,
            outputs,
            template,
            address=args.ray_address,
            workers=args.workers,
            requests_per_minute=rpm,
            progress=bar,
        )
        problem = None
    else:
        history, problem = (None, None) if args.no_history else open_history(settings)
        with ratelimit.installed(ratelimit.TokenBucket(rpm)):
            summary = run_batch(
                items,
                outputs,
                template,
                history=history,
                keep_thumbnail=settings.keep_thumbnails,
                progress=bar,
                history_scope=batch_scope(args.input),
            )
    bar.close()
    if problem is not None:
        summary.not_kept, summary.history_problem = summary.done, problem
    print_summary(summary, names=failed_row_names(summary, items))
    if summary.failures or summary.not_kept:
        return exitcodes.FAILED
    return exitcodes.OK
