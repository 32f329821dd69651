"""``vsa history`` and ``vsa export``: look at, search, delete and export kept results."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from vsa_desktop.cli import common, exitcodes
from vsa_desktop.core.terminal import safe

if TYPE_CHECKING:
    from vsa_desktop.core.history import HistoryEntry, HistoryStore
    from vsa_desktop.core.settings import Settings


def add_parser(sub: argparse._SubParsersAction) -> None:
    """Register ``history`` and ``export``."""
    p = sub.add_parser("history", help="list, show, search, delete or clear kept results")
    hsub = p.add_subparsers(dest="history_command", metavar="ACTION", required=True)
    ls = hsub.add_parser("list", help="newest first")
    _paging(ls)
    show = hsub.add_parser("show", help="print one result's JSON")
    show.add_argument("id", help="a result id (a unique prefix is enough)")
    search = hsub.add_parser("search", help="search by text, label and date")
    search.add_argument("--text", help="text (or image name) contains this")
    search.add_argument("--label", help="an emotion in any channel, e.g. happy")
    search.add_argument("--since", help="from this date/time (ISO, UTC), e.g. 2026-11-01")
    search.add_argument("--until", help="before this date/time (ISO, UTC)")
    _paging(search)
    delete = hsub.add_parser("delete", help="delete one result")
    delete.add_argument("id")
    clear = hsub.add_parser("clear", help="delete every result")
    clear.add_argument("--yes", action="store_true", help="do not ask")
    p.set_defaults(func=run_history)

    e = sub.add_parser(
        "export",
        help="export kept results to JSON, CSV, PNG, SVG or PDF",
        description="Export results from history; the format follows the "
        "suffix of --out (.json .csv .png .svg .pdf).",
    )
    e.add_argument("ids", nargs="+", metavar="ID", help="result ids (unique prefixes work)")
    e.add_argument("--out", type=Path, required=True, help="output file")
    e.add_argument("--overwrite", action="store_true", help="replace an existing file")
    e.add_argument("--no-caption", action="store_true", help="PNG/SVG/PDF: charts only")
    e.set_defaults(func=run_export)


def _paging(p: argparse.ArgumentParser) -> None:
    p.add_argument("--limit", type=int, default=20)
    p.add_argument("--offset", type=int, default=0)
    p.add_argument("--json", action="store_true", help="print JSON lines instead of a table")


def open_store(settings: Settings | None = None) -> HistoryStore:
    """The history store the settings name (default location otherwise).

    A damaged file found on opening was moved aside by the store: say so on stderr.
    """
    from vsa_desktop.core.history import HistoryStore

    settings = settings or common.settings()
    path = Path(settings.history_path) if settings.history_path else None
    store = HistoryStore(path)
    if store.recovery_message:
        common.note(store.recovery_message)
    return store


def resolve_id(store: HistoryStore, prefix: str) -> str:
    """Turn a unique id prefix into the full id."""
    from vsa_desktop.core.errors import InputError

    matches = store.ids_with_prefix(prefix)
    shown = safe(prefix, one_line=True)
    if not matches:
        raise InputError(f"No result in history has the id {shown}.")
    if len(matches) > 1:
        raise InputError(f"The id {shown} is ambiguous ({len(matches)} results); give more of it.")
    return matches[0]


def _print_entries(entries: list[HistoryEntry], as_json: bool, total: int) -> None:
    import dataclasses
    import json

    from vsa_desktop.core.verdict import percent

    if as_json:
        for entry in entries:
            print(json.dumps(dataclasses.asdict(entry), ensure_ascii=False))
        return
    if not entries:
        print("No results.")
        return
    print(
        f"{'id':8}  {'created (UTC)':20}  {'mode':10}  {'fused':8}  {'conf':>6}  {'agree':>5}  "
        "text / image"
    )
    for e in entries:
        agree = f"{e.agreement_score:.2f}" if e.agreement_score is not None else "-"
        # the one confidence shown everywhere (GUI headline, chart, exports)
        conf = percent(e.fused_confidence) if e.fused_confidence is not None else "-"
        what = (e.excerpt or "").replace("\n", " ")[:40] or (e.image_name or "")
        cells = (e.id[:8], e.created_at, e.mode, e.fused_label or "-")
        row_id, created, mode, fused = (safe(c, one_line=True) for c in cells)
        print(
            f"{row_id:8}  {created:20}  {mode:10}  {fused:8}  {conf:>6}  "
            f"{agree:>5}  {safe(what, one_line=True)}"
        )
    print(f"({len(entries)} of {total})")


def run_history(args: argparse.Namespace) -> int:
    """``vsa history ...``."""
    store = open_store()
    action = args.history_command
    if action == "list":
        _print_entries(store.list(args.limit, args.offset), args.json, store.count())
    elif action == "search":
        filters = {
            "text_contains": args.text,
            "label": args.label,
            "since": args.since,
            "until": args.until,
        }
        _print_entries(
            store.search(**filters, limit=args.limit, offset=args.offset),
            args.json,
            store.count_matching(**filters),
        )
    elif action == "show":
        print(store.get(resolve_id(store, args.id)).to_json())
    elif action == "delete":
        full = resolve_id(store, args.id)
        store.delete(full)
        print(f"Deleted {safe(full, one_line=True)}.")
    elif action == "clear":
        if not args.yes and not _confirm(f"Delete all {store.count()} results from history?"):
            print("Nothing deleted.")
            return exitcodes.FAILED
        print(f"Deleted {store.clear()} results.")
    return exitcodes.OK


def _confirm(question: str) -> bool:
    if not sys.stdin.isatty():
        from vsa_desktop.core.errors import InputError

        raise InputError("Refusing to clear history without --yes (no terminal to ask).")
    return input(f"{question} [y/N] ").strip().lower() in ("y", "yes")


def run_export(args: argparse.Namespace) -> int:
    """``vsa export ID... --out PATH``."""
    from vsa_desktop.core.errors import ExportError
    from vsa_desktop.core.export import export_results

    store = open_store()
    results = [store.get(resolve_id(store, i)) for i in args.ids]
    try:
        thumbs = {r.id: t for r in results if (t := store.thumbnail(r.id))}
        path = export_results(
            results, args.out, args.overwrite, not args.no_caption, thumbnails=thumbs
        )
    except ExportError as exc:
        if exc.kind == "export_exists":
            exc.message = f"{args.out} already exists; add --overwrite to replace it."
        raise
    print(
        f"Wrote {safe(path, one_line=True)} ({len(results)} result{'s' if len(results) != 1 else ''})."
    )
    return exitcodes.OK
