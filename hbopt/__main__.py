"""``python -m hbopt``: the command line."""

import sys

from hbopt.cli import main

sys.exit(main())
