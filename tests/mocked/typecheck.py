"""Run mypy on the Blender side from a checkout folder of any name.

mypy names modules after the folders that hold ``__init__.py``; the repository
root is the extension package, so a checkout in e.g. ``blender-mocap/`` (not an
identifier) breaks ``python -m mypy --config-file tests/mocked/mypy.ini``. This
links the root under a valid name in a temporary folder and checks it there.
Usage (small venv): ``python tests/mocked/typecheck.py [extra mypy args]``.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
CONFIG = Path(__file__).resolve().parent / "mypy.ini"


def main() -> int:
    with tempfile.TemporaryDirectory(prefix="mocap-typecheck-") as tmp:
        link = Path(tmp) / "blender_mocap_ext"
        os.symlink(ROOT, link, target_is_directory=True)
        targets = [str(link / name) for name in ("blender_mocap", "operators", "panels", "registration.py")]
        cmd = [sys.executable, "-m", "mypy", "--config-file", str(CONFIG),
               "--cache-dir", str(Path(tmp) / ".mypy_cache"), *sys.argv[1:], *targets]
        return subprocess.call(cmd, cwd=tmp)


if __name__ == "__main__":
    sys.exit(main())
