"""The ``vsa`` command line: a thin argparse front over the core."""

from __future__ import annotations

import argparse
import difflib
import logging
import os
import re
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import NoReturn

from vsa_desktop import __version__
from vsa_desktop.cli import analyze, batch, exitcodes, history, models, report, selftest
from vsa_desktop.cli.common import say

log = logging.getLogger("vsa_desktop.cli")

# Kept for callers of the old names; the table lives in cli/exitcodes.py.
EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_BUG = (
    exitcodes.OK,
    exitcodes.FAILED,
    exitcodes.USAGE,
    exitcodes.BUG,
)


# Export problems that are the user's to fix (a name, a folder, a suffix): exit code 2.
INPUT_EXPORT_KINDS = frozenset(
    {"export_format", "export_exists", "export_folder", "export_name", "export_empty"}
)


class VsaParser(argparse.ArgumentParser):
    """An argument parser that suggests the command meant when a command name is mistyped."""

    def error(self, message: str) -> NoReturn:
        match = re.search(r"invalid choice: '([^']*)' \(choose from (.*)\)", message)
        if match:
            choices = re.findall(r"'([^']*)'", match.group(2))
            message += _did_you_mean(match.group(1), choices)
        super().error(message)


def _did_you_mean(word: str, candidates: list[str]) -> str:
    close = difflib.get_close_matches(word, candidates, n=1, cutoff=0.6)
    return f"; did you mean {close[0]}?" if close else ""


def _command_parser(
    parser: argparse.ArgumentParser, args: argparse.Namespace
) -> argparse.ArgumentParser:
    """The (sub)command's own parser: ``vsa analyze`` gives the ``analyze`` parser."""
    while True:
        sub = next((a for a in parser._actions if isinstance(a, argparse._SubParsersAction)), None)
        name = getattr(args, sub.dest, None) if sub is not None else None
        if sub is None or name not in sub.choices:
            return parser
        parser = sub.choices[name]


def _unknown_arguments(parser: argparse.ArgumentParser, extras: list[str]) -> str:
    """``unrecognized arguments: --txt hello; did you mean --text?``."""
    options = [o for action in parser._actions for o in action.option_strings]
    first = next((e.split("=", 1)[0] for e in extras if e.startswith("-")), "")
    hint = _did_you_mean(first, options) if first else ""
    return f"unrecognized arguments: {' '.join(extras)}{hint}"


def build_parser() -> argparse.ArgumentParser:
    """The argument parser (no heavy imports happen here)."""
    parser = VsaParser(
        prog="vsa",
        description="Read the emotion expressed in text and images.",
        epilog="Exit codes: 0 ok, 1 the analysis could not run (or a result was not kept "
        "in history), 2 bad input or usage, 3 unexpected error.",
    )
    parser.add_argument("--version", action="version", version=f"vsa {__version__}")
    parser.add_argument("-v", "--verbose", action="store_true", help="log details to stderr")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for module in (analyze, history, batch, report, models, selftest):
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
    args, extras = parser.parse_known_args(argv)
    if extras:  # said by the command's own parser, with its usage, not the top-level one
        command = _command_parser(parser, args)
        command.error(_unknown_arguments(command, extras))
    if not getattr(args, "func", None):
        parser.print_help()
        return exitcodes.USAGE
    _setup_logging(args.verbose)
    from vsa_desktop.core.errors import ExportError, InputError, VsaError

    try:
        return int(args.func(args))
    except InputError as exc:
        say(exc.message)
        return exitcodes.USAGE
    except ExportError as exc:
        log.info("detail: %s", exc.detail)
        say(exc.message)
        return exitcodes.USAGE if exc.kind in INPUT_EXPORT_KINDS else exitcodes.FAILED
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
