"""``vsa models``: status, download and ONNX conversion of the text model."""

from __future__ import annotations

import argparse
import json
import sys
import time

from vsa_desktop.cli import exitcodes


def add_parser(sub: argparse._SubParsersAction) -> None:
    """Register ``models``."""
    p = sub.add_parser("models", help="text model status, download and ONNX conversion")
    msub = p.add_subparsers(dest="models_command", metavar="ACTION", required=True)
    st = msub.add_parser("status", help="is the model on disk, how big, which runtimes are ready")
    st.add_argument("model", nargs="?", help="model id or folder (default: the configured one)")
    st.add_argument("--json", action="store_true", help="print JSON")
    dl = msub.add_parser("download", help="fetch a model from the Hugging Face hub (once)")
    dl.add_argument("model", nargs="?", help="HF id (default: the DistilRoBERTa emotion model)")
    cv = msub.add_parser("convert", help="export the model to ONNX (fp32 + checked int8)")
    cv.add_argument("model", nargs="?", help="model id or folder (default: the configured one)")
    cv.add_argument("--force", action="store_true", help="convert again even when cached")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """``vsa models ...``."""
    return {"status": _status, "download": _download, "convert": _convert}[args.models_command](
        args
    )


def _size(n: int) -> str:
    return f"{n / 2**20:.0f} MB" if n >= 2**20 else f"{n / 1024:.0f} kB"


def _s(value: object) -> str:
    """``value`` for the terminal: control characters shown, not obeyed."""
    from vsa_desktop.core.terminal import safe

    return safe(value, one_line=True)


def _status(args: argparse.Namespace) -> int:
    from vsa_desktop.core.models import status

    s = status(args.model)
    if args.json:
        print(json.dumps(s.to_dict(), indent=2))
        return exitcodes.OK
    yes = {True: "yes", False: "no"}
    print(f"model:      {_model_line(s.model_id, s.configured, bool(args.model))}")
    if s.builtin:
        print("on disk:    built in (ships with the app; numpy runtime)")
        if not args.model:
            from vsa_desktop.core.settings import DEFAULT_TEXT_MODEL

            full = status(DEFAULT_TEXT_MODEL)
            where = f"on disk at {_s(full.path)}" if full.on_disk else "not on disk"
            print(f"full model: {DEFAULT_TEXT_MODEL} is {where}")
            if not full.on_disk:
                print("get it:     vsa models download  (then `auto` uses it)")
        return exitcodes.OK
    print(
        f"on disk:    {yes[s.on_disk]}"
        + (f"  {_size(s.size_bytes)} at {_s(s.path)}" if s.path else "")
    )
    print(f"torch:      {yes[s.torch_ready]}")
    print(f"onnx fp32:  {yes[s.onnx_ready]}")
    int8 = yes[s.onnx_int8_ready] + (f"  ({_s(s.int8_reason)})" if s.int8_reason else "")
    print(f"onnx int8:  {int8}")
    print(f"auto runs:  {s.best_runtime or 'nothing: the model is not on disk'}")
    if not s.on_disk:
        print(f"get it:     vsa models download {_s(s.model_id)}")
    elif not s.onnx_ready:
        print(f"faster:     vsa models convert {_s(s.model_id)}")
    return exitcodes.OK if s.on_disk else exitcodes.FAILED


def _model_line(model_id: str, configured: bool, asked: bool) -> str:
    """``auto → builtin:lite`` when the setting is auto, else ``id  (configured)``."""
    from vsa_desktop.core.settings import load_settings
    from vsa_desktop.core.text.loader import AUTO

    setting = load_settings().effective_text_model()
    if configured and setting in ("", AUTO):
        return f"auto → {_s(model_id)}" + ("  (configured)" if asked else "")
    return f"{_s(model_id)}{'  (configured)' if configured else ''}"


class ByteBar:
    """Download progress on stderr: a bar on a terminal, a line every few seconds otherwise."""

    def __init__(self) -> None:
        self.tty = sys.stderr.isatty()
        self.last = 0.0

    def __call__(self, done: int, total: int) -> None:
        now = time.monotonic()
        if now - self.last < (0.1 if self.tty else 5.0) and done < total:
            return
        self.last = now
        frac = done / total if total else 0.0
        bar = "#" * int(30 * frac)
        line = f"[{bar:<30}] {_size(done)} / {_size(total) if total else '?'}"
        sys.stderr.write(("\r" + line) if self.tty else line + "\n")
        sys.stderr.flush()


def _download(args: argparse.Namespace) -> int:
    from vsa_desktop.core.models import download
    from vsa_desktop.core.settings import DEFAULT_TEXT_MODEL

    model = args.model or DEFAULT_TEXT_MODEL
    print(f"Downloading {_s(model)} ...", file=sys.stderr)
    path = download(model, ByteBar())
    if sys.stderr.isatty():
        sys.stderr.write("\n")
    print(f"{_s(model)} is ready at {_s(path)}.")
    return exitcodes.OK


def _convert(args: argparse.Namespace) -> int:
    from vsa_desktop.core.errors import InputError
    from vsa_desktop.core.models import configured_model
    from vsa_desktop.core.text.convert import ensure_onnx
    from vsa_desktop.core.text.loader import LITE_ID

    model = args.model or configured_model()
    if model == LITE_ID:
        raise InputError(
            "The text model in use is the built-in lite model, which needs no conversion: "
            "download the full model with `vsa models download`, then run `vsa models convert`."
        )

    def progress(stage: str, fraction: float) -> None:
        print(f"  {fraction:4.0%} {stage}", file=sys.stderr)

    report = ensure_onnx(model, progress, force=args.force)
    f = report.fidelity
    print(
        f"{_s(model)}: {'reused the cached copy' if report.reused else 'converted'} in "
        f"{_s(report.folder)}"
    )
    print(
        f"fidelity on {f.probes} probes: int8 top-1 agreement {f.agreement:.1%}, mean |diff| "
        f"{f.mean_abs_diff:.4f}; fp32 max |diff| {f.fp32_max_abs_diff:.2e}"
    )
    print(f"auto runs: {report.best_runtime}" + (f" ({report.reason})" if report.reason else ""))
    return exitcodes.OK
