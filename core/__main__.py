"""``python -m core ...``: the engine's command line (see core/cli.py)."""

from .cli import main
from .cli_common import exit_now

exit_now(main())  # not sys.exit: see exit_now (the teardown of torch's modules)
