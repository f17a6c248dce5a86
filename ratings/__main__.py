"""``python -m ratings``: the same command line as the ``ratings`` console script."""

import sys

from .cli import main

sys.exit(main())
