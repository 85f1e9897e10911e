"""``python -m core ...``: the engine's command line (see core/cli.py)."""

import sys

from .cli import main

sys.exit(main())
