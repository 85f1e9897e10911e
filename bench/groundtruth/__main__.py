"""``python -m groundtruth _render JOB.json`` (bench/ on the path): the render process, started by prepare_clip."""

import sys

from .render import render

if len(sys.argv) == 3 and sys.argv[1] == "_render":
    render(sys.argv[2])
else:
    print("usage: python -m groundtruth _render JOB.json  (run by prepare_clip, in bench/)")
    sys.exit(2)
