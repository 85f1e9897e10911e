"""``python -m core ...``: the engine's command line (see core/cli.py)."""

from .cli import main
from .cli_common import exit_now

exit_now(main())  # not sys.exit: the interpreter's teardown of torch's modules would cost the user ~0.5 s
