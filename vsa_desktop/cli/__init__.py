"""The ``vsa`` command line: a thin argparse front over the core."""

from __future__ import annotations

import argparse
import logging
import os
import sys
from collections.abc import Sequence
from pathlib import Path

from vsa_desktop import __version__
from vsa_desktop.cli import analyze, batch, exitcodes, history, models, selftest
from vsa_desktop.cli.common import say

log = logging.getLogger("vsa_desktop.cli")

# Kept for callers of the old names; the table lives in cli/exitcodes.py.
EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_BUG = (
    exitcodes.OK,
    exitcodes.FAILED,
    exitcodes.USAGE,
    exitcodes.BUG,
)


def build_parser() -> argparse.ArgumentParser:
    """The argument parser (no heavy imports happen here)."""
    parser = argparse.ArgumentParser(
        prog="vsa",
        description="Read the emotion expressed in text and images.",
        epilog="Exit codes: 0 ok, 1 the analysis could not run (or a result was not kept "
        "in history), 2 bad input or usage, 3 unexpected error.",
    )
    parser.add_argument("--version", action="version", version=f"vsa {__version__}")
    parser.add_argument("-v", "--verbose", action="store_true", help="log details to stderr")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for module in (analyze, history, batch, models, selftest):
        module.add_parser(sub)
    return parser


def _setup_logging(verbose: bool) -> None:
    """Log lines on stderr only with -v (else only errors): the CLI speaks in ``vsa:`` and
    ``note:`` lines itself. Every record is scrubbed of credentials first."""
    from vsa_desktop.core import logsafety

    logsafety.install()
    logging.basicConfig(
        level=logging.INFO if verbose else logging.ERROR,
        format="%(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``vsa`` command."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return exitcodes.USAGE
    _setup_logging(args.verbose)
    from vsa_desktop.core.errors import InputError, VsaError

    try:
        return int(args.func(args))
    except InputError as exc:
        say(exc.message)
        return exitcodes.USAGE
    except VsaError as exc:
        log.info("detail: %s", exc.detail)
        say(exc.message)
        return exitcodes.FAILED
    except BrokenPipeError:  # e.g. `vsa history list | head -1`: not an error
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return exitcodes.BROKEN_PIPE
    except KeyboardInterrupt:
        print("vsa: interrupted.", file=sys.stderr)
        return exitcodes.INTERRUPTED
    except Exception as exc:  # a bug: one line, full details in the log file
        return _crashed(exc)


def _crashed(exc: Exception) -> int:
    try:
        where = f"details in {write_crash_log(exc)}"
    except OSError:  # a full or read-only disk: the details go to stderr's log line
        log.info("unexpected error", exc_info=exc)
        where = "run with -v for details"
    say(f"unexpected error ({type(exc).__name__}); {where}")
    return exitcodes.BUG


def write_crash_log(exc: BaseException) -> Path:
    """Write the traceback of an unexpected error to the log folder and return the path."""
    import traceback
    from datetime import datetime

    from vsa_desktop.core.logsafety import scrub
    from vsa_desktop.core.paths import log_dir

    folder = log_dir()
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"crash-{datetime.now():%Y%m%d-%H%M%S}.log"
    path.write_text(scrub("".join(traceback.format_exception(exc))), encoding="utf-8")
    return path


if __name__ == "__main__":
    sys.exit(main())
