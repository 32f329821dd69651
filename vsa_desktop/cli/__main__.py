"""``python -m vsa_desktop.cli``."""

import sys

from vsa_desktop.cli import main

sys.exit(main())
