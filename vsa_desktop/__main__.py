"""``python -m vsa_desktop`` and the ``vsa-desktop`` script: start the desktop app."""

from __future__ import annotations

import sys


def main(argv: list[str] | None = None) -> int:
    """Start the GUI (or run its self-test)."""
    from vsa_desktop.gui.app import run

    return run(sys.argv[1:] if argv is None else argv)


if __name__ == "__main__":
    sys.exit(main())
