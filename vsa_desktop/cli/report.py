"""``vsa report``: a batch's results JSONL as a report a person can read (HTML or PDF)."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING

from vsa_desktop.cli import common, exitcodes
from vsa_desktop.core.errors import InputError
from vsa_desktop.core.plural import count
from vsa_desktop.core.terminal import safe

if TYPE_CHECKING:
    from vsa_desktop.core.batch_report import ReportData

SUFFIXES = (".html", ".htm", ".pdf")
MAX_NAMED = 20  # input columns named in the error for a misspelt --by/--time


def add_parser(sub: argparse._SubParsersAction) -> None:
    """Register ``report``."""
    p = sub.add_parser(
        "report",
        help="turn a batch's results JSONL into an HTML or PDF report",
        description="Read RESULTS (the JSONL `vsa batch --jsonl` wrote) in one streaming pass "
        "and write a report: counts per fused label, per-channel distributions, agreement "
        "shares, the readings whose text and image disagree (worth reading), a breakdown by a column and a trend "
        "over a date column, the models and calibration used. The HTML file is self-contained "
        "(no network, no scripts); the PDF has the same sections.",
    )
    p.add_argument("results", type=Path, metavar="RESULTS", help="a vsa batch JSONL")
    p.add_argument("--out", type=Path, required=True, help="report.html or report.pdf")
    p.add_argument("--by", metavar="COLUMN", help="break the counts down by this input column")
    p.add_argument(
        "--time", metavar="COLUMN", help="show a trend over this date/time column (ISO 8601)"
    )
    p.add_argument(
        "--top",
        type=int,
        default=20,
        metavar="N",
        help="readings where text and image disagree to show (default 20)",
    )
    p.add_argument(
        "--images",
        type=Path,
        metavar="FOLDER",
        help="the folder the batch input's image paths are relative to (default: the "
        "folder of RESULTS); thumbnails come from there, else from history",
    )
    p.add_argument(
        "--allow-paths-outside",
        action="store_true",
        help="follow image paths that lead outside the images folder (refused by default)",
    )
    p.add_argument("--overwrite", action="store_true", help="replace an existing report")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """``vsa report``."""
    from vsa_desktop.core.batch_report import collect_file, disagree_count
    from vsa_desktop.core.batch_report_images import thumbnails
    from vsa_desktop.core.export import atomic_write
    from vsa_desktop.core.history import default_path

    suffix = args.out.suffix.lower()
    if suffix not in SUFFIXES:
        raise InputError("--out needs a file name ending in .html or .pdf.")
    if not 0 <= args.top <= 1000:
        raise InputError("--top takes a number from 0 to 1000.")
    settings = common.settings()
    data = collect_file(args.results, args.by, args.time, args.top)
    for note in column_notes(data, args.by, args.time):
        common.note(note)
    history = Path(settings.history_path) if settings.history_path else default_path()
    images = args.images or args.results.parent
    thumbs = thumbnails(data.mixed, images, args.allow_paths_outside, history)
    if suffix == ".pdf":
        from vsa_desktop.core.batch_report_pdf import write_pdf

        atomic_write(args.out, lambda stream: write_pdf(data, thumbs, stream), args.overwrite)
    else:
        from vsa_desktop.core.batch_report_html import write_html

        page = write_html(data, thumbs)
        atomic_write(args.out, lambda stream: stream.write(page), args.overwrite)
    print(
        f"Wrote {safe(args.out, one_line=True)}: {count(data.rows, 'row')}, "
        f"{count(data.results, 'reading')}, {data.failed:,} failed, "
        f"{disagree_count(data.disagreements)}."
    )
    return exitcodes.OK


def column_notes(data: ReportData, by: str | None, time: str | None) -> list[str]:
    """What to say about the ``--by``/``--time`` columns.

    Raises:
        InputError: a column that no row has (a misspelt name): exit code 2, naming the
            columns there are.
    """
    from vsa_desktop.core.batch_report import NO_VALUE

    notes = []
    for option, column, seen in (("--by", by, data.group_seen), ("--time", time, data.time_seen)):
        if column and not seen:
            raise InputError(f"{option} {safe(column, one_line=True)}: {_columns_there(data)}")
    if by and not any(name != NO_VALUE for name in data.by_group):
        notes.append(f"--by {safe(by, one_line=True)}: no row has a value in that column.")
    if time and not data.times:
        if data.bad_time_example:
            example = safe(data.bad_time_example, one_line=True)
            notes.append(
                f"--time {safe(time, one_line=True)}: its values are not dates or times "
                f"(e.g. '{example}'); give a column of ISO 8601 dates or Unix seconds."
            )
        else:
            notes.append(f"--time {safe(time, one_line=True)}: no row has a value in that column.")
    return notes


def _columns_there(data: ReportData) -> str:
    """The sentence's end that names the input columns the results have."""
    names = sorted(data.columns)
    if not names:
        return "no row has that column, and the results keep no input columns."
    shown = ", ".join(safe(n, one_line=True) for n in names[:MAX_NAMED])
    more = f" and {len(names) - MAX_NAMED:,} more" if len(names) > MAX_NAMED else ""
    return f"no row has that column; the columns are {shown}{more}."
