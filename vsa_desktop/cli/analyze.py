"""``vsa analyze``: one text and/or image to a result JSON (kept in history by default)."""

from __future__ import annotations

import argparse
import dataclasses
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from vsa_desktop.cli import common, exitcodes
from vsa_desktop.core.terminal import safe

if TYPE_CHECKING:
    from vsa_desktop.core.history import HistoryStore
    from vsa_desktop.core.pipeline import AnalysisRequest
    from vsa_desktop.core.result import AnalysisResult
    from vsa_desktop.core.settings import Settings


def add_parser(sub: argparse._SubParsersAction) -> None:
    """Register ``analyze``."""
    p = sub.add_parser(
        "analyze",
        aliases=["analyse"],
        help="analyze a text and/or an image; print the result JSON",
        description="Analyze a text and/or an image and print the vsa.result/1 "
        "JSON. Scores describe expressed emotion, not inner feelings.",
    )
    p.add_argument("--text", help="the text to analyze")
    p.add_argument(
        "--text-file",
        type=Path,
        help="read the text from a file (UTF-8, UTF-16 or a common legacy encoding)",
    )
    p.add_argument("--image", type=Path, help="an image file (JPEG, PNG, WebP, BMP, GIF, TIFF)")
    add_model_options(p)
    p.add_argument("--json", type=Path, metavar="OUT", help="also write the result JSON here")
    p.add_argument(
        "--chart", type=Path, metavar="OUT", help="also draw the chart to OUT (.png, .svg or .pdf)"
    )
    p.add_argument("--no-caption", action="store_true", help="chart without its caption")
    p.add_argument(
        "--overwrite", action="store_true", help="replace an existing --json/--chart file"
    )
    add_explain_option(p)
    p.add_argument("--no-history", action="store_true", help="do not keep this result in history")
    p.set_defaults(func=run)


def add_model_options(p: argparse.ArgumentParser) -> None:
    """Options shared by ``analyze`` and ``batch``."""
    p.add_argument("--text-model", help="auto, builtin:lite, a Hugging Face id or a local folder")
    p.add_argument(
        "--runtime",
        choices=("auto", "onnx-int8", "onnx", "torch"),
        help="text runtime (default: from settings, auto)",
    )
    p.add_argument(
        "--vision",
        choices=("auto", "groq", "local", "none"),
        help="vision backend (default: from settings, auto)",
    )
    p.add_argument("--weights", help="text,vision fusion weights summing to 1, e.g. 0.5,0.5")
    p.add_argument(
        "--fusion",
        choices=("auto", "weighted", "product"),
        help="fusion rule: weighted sum, product of the channels, or auto (the rule validation "
        "chose; see docs/validation.md). Default: from settings, auto",
    )
    p.add_argument("--offline", action="store_true", help="never use the network")


def add_explain_option(p: argparse.ArgumentParser) -> None:
    """``--explain``, shared by ``analyze`` and ``batch``."""
    p.add_argument(
        "--explain",
        action="store_true",
        help="also explain the text's reading: which words raised its label (text.explanation "
        "in the JSON, text_top_words in the CSV, a 'why:' line on stderr; see "
        "docs/explanations.md)",
    )


def print_top_words(result: AnalysisResult) -> None:
    """The label's top words on stderr (stdout stays one JSON document), escaped."""
    from vsa_desktop.core.explain.highlight import describe

    explanation = result.text.explanation if result.text else None
    if explanation is not None:
        print(f"why: {safe(describe(explanation), one_line=True)}", file=sys.stderr, flush=True)


def parse_weights(value: str) -> tuple[float, float]:
    """Parse ``"0.6,0.4"`` into two floats (validation happens in the core)."""
    from vsa_desktop.core.errors import InputError

    try:
        text_w, vision_w = (float(x) for x in value.split(","))
    except ValueError:
        raise InputError("--weights takes two numbers, text and vision, e.g. 0.5,0.5.") from None
    return text_w, vision_w


def read_text_arg(args: argparse.Namespace) -> tuple[str | None, str | None]:
    """The text from --text or --text-file (not both), and a note on its encoding.

    The note is one sentence when the file was not UTF-8, else None.
    """
    from vsa_desktop.core.errors import InputError
    from vsa_desktop.core.textfile import read_text_file

    if args.text is not None and args.text_file is not None:
        raise InputError("Give --text or --text-file, not both.")
    if args.text_file is None:
        return args.text, None
    decoded = read_text_file(args.text_file)
    return decoded.text, decoded.note(f"The text file {args.text_file.name}")


def request_from_args(
    args: argparse.Namespace,
    settings: Settings,
    text: str | None = None,
    image: Path | None = None,
) -> AnalysisRequest:
    """Build an AnalysisRequest from the shared model options and the settings file."""
    from vsa_desktop.core.pipeline import AnalysisRequest

    return AnalysisRequest(
        text=text,
        image=image,
        text_model=args.text_model or settings.effective_text_model(),
        text_runtime=args.runtime or settings.text_runtime,
        vision=args.vision or settings.vision_backend,
        weights=parse_weights(args.weights) if args.weights else settings.weights,
        fusion_rule=args.fusion or settings.fusion_rule,
        offline=args.offline or settings.effective_offline(),
        settings=settings,
        explain=getattr(args, "explain", False),
    )


def run(args: argparse.Namespace) -> int:
    """``vsa analyze``: the result is printed even when history cannot keep it."""
    from vsa_desktop.core.pipeline import analyze

    settings = common.settings()
    check_outputs(args)
    text, text_note = read_text_arg(args)
    request = request_from_args(args, settings, text, args.image)
    if text_note:  # in the result itself, so the history copy says it too
        request = dataclasses.replace(request, notes=(text_note,))
    history, problem = (None, None) if args.no_history else open_history(settings)
    result = analyze(request, history=history, keep_thumbnail=settings.keep_thumbnails)
    if problem:
        result = dataclasses.replace(
            result, warnings=(f"Not saved to history: {problem}", *result.warnings)
        )
    print(result.to_json(), flush=True)
    print_top_words(result)
    if getattr(args, "explain", False) and result.text is None:
        common.note("--explain explains the words of a text; this input has none.")
    for warning in result.warnings:
        common.note(warning)
    if args.json or args.chart:
        from vsa_desktop.core.export import export_results

        thumbnails = chart_thumbnail(result, args.image) if args.chart else None
        for out in (args.json, args.chart):
            if out:
                export_results(
                    [result], out, overwrite=args.overwrite, caption=not args.no_caption,
                    thumbnails=thumbnails,
                )  # fmt: skip
    if args.no_history or kept(history, result):
        return exitcodes.OK
    return exitcodes.FAILED


def open_history(settings: Settings) -> tuple[HistoryStore | None, str | None]:
    """The history store, or None and the reason it cannot be opened (the run goes on)."""
    from vsa_desktop.cli.history import open_store
    from vsa_desktop.core.errors import HistoryError

    try:
        return open_store(settings), None
    except HistoryError as exc:
        return None, exc.message


def kept(history: HistoryStore | None, result: AnalysisResult) -> bool:
    """True when ``result`` is in ``history`` now."""
    from vsa_desktop.core.errors import VsaError

    if history is None:
        return False
    try:
        return history.ids_with_prefix(result.id, 1) == [result.id]
    except VsaError:
        return False


def check_outputs(args: argparse.Namespace) -> None:
    """Refuse bad --json/--chart targets before anything is analysed or kept."""
    from vsa_desktop.core.errors import InputError

    for option, path, suffixes in (
        ("--json", args.json, (".json",)),
        ("--chart", args.chart, (".png", ".svg", ".pdf")),
    ):
        if path is None:
            continue
        if path.suffix.lower() not in suffixes:
            raise InputError(f"{option} needs a file name ending in {' or '.join(suffixes)}.")
        if not path.expanduser().resolve().parent.is_dir():
            raise InputError(f"{option}: the folder of {path} does not exist.")
        if path.expanduser().exists() and not args.overwrite:
            raise InputError(
                f"{option}: {path.name} already exists; add --overwrite to replace it."
            )


def chart_thumbnail(result: AnalysisResult, image: Path | None) -> dict[str, bytes] | None:
    """The photo's thumbnail for the chart's caption (as ``vsa export`` takes from history)."""
    from vsa_desktop.core.errors import ImageError
    from vsa_desktop.core.history import make_thumbnail
    from vsa_desktop.core.imaging import load_image

    if image is None or result.image is None:
        return None
    try:
        return {result.id: make_thumbnail(load_image(image).pixels)}
    except ImageError:  # it was read a moment ago; if it is gone now, the caption goes without
        return None
