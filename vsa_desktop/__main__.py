"""``python -m vsa_desktop`` and the ``vsa-desktop`` script: start the desktop app."""

from __future__ import annotations

import sys


def main(argv: list[str] | None = None) -> int:
    """Start the GUI (or run its self-test)."""
    args = sys.argv[1:] if argv is None else argv
    if "--self-test" in args:
        from vsa_desktop.cli.selftest import run_self_test

        return run_self_test()
    from vsa_desktop.gui.app import run

    return run(args)


if __name__ == "__main__":
    sys.exit(main())
