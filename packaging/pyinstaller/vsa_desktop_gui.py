"""Entry script of the frozen ``vsa-desktop`` executable (the window; ``--self-test`` too)."""

import sys

from vsa_desktop.__main__ import main

if __name__ == "__main__":
    sys.exit(main())
