"""The ``vsa`` command line: a thin argparse front over the core."""

from __future__ import annotations

import argparse
import logging
import os
import sys
from collections.abc import Sequence
from pathlib import Path

from vsa_desktop import __version__
from vsa_desktop.cli import analyze, batch, history, models, selftest

log = logging.getLogger("vsa_desktop.cli")

EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_BUG = 0, 1, 2, 3


def build_parser() -> argparse.ArgumentParser:
    """The argument parser (no heavy imports happen here)."""
    parser = argparse.ArgumentParser(
        prog="vsa",
        description="Read the emotion expressed in text and images.",
    )
    parser.add_argument("--version", action="version", version=f"vsa {__version__}")
    parser.add_argument("-v", "--verbose", action="store_true", help="log details to stderr")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for module in (analyze, history, batch, models, selftest):
        module.add_parser(sub)
    return parser


def _setup_logging(verbose: bool) -> None:
    logging.basicConfig(
        level=logging.INFO if verbose else logging.WARNING,
        format="%(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``vsa`` command."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return EXIT_USAGE
    _setup_logging(args.verbose)
    from vsa_desktop.core.errors import InputError, VsaError

    try:
        return int(args.func(args))
    except InputError as exc:
        print(f"vsa: {exc.message}", file=sys.stderr)
        return EXIT_USAGE
    except VsaError as exc:
        log.info("detail: %s", exc.detail)
        print(f"vsa: {exc.message}", file=sys.stderr)
        return EXIT_FAILED
    except BrokenPipeError:  # e.g. `vsa history list | head -1`: not an error
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 141
    except KeyboardInterrupt:
        print("vsa: interrupted.", file=sys.stderr)
        return 130
    except Exception as exc:  # a bug: one line, full details in the log file
        path = write_crash_log(exc)
        print(f"vsa: unexpected error ({type(exc).__name__}); details in {path}", file=sys.stderr)
        return EXIT_BUG


def write_crash_log(exc: BaseException) -> Path:
    """Write the traceback of an unexpected error to the log folder and return the path."""
    import traceback
    from datetime import datetime

    from vsa_desktop.core.paths import log_dir

    folder = log_dir()
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"crash-{datetime.now():%Y%m%d-%H%M%S}.log"
    path.write_text("".join(traceback.format_exception(exc)), encoding="utf-8")
    return path


if __name__ == "__main__":
    sys.exit(main())
