"""Entry script of the frozen ``vsa`` executable (the command line)."""

import sys

from vsa_desktop.cli import main

if __name__ == "__main__":
    sys.exit(main())
