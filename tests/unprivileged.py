"""Run a check as a real unprivileged user: root reads every file, so permission errors need one.

A forked child drops to ``nobody`` (uid/gid 65534) and runs the function; the
modules it needs are already imported, so nothing under root's home is read
after the switch. Only root can switch, hence ``needs_root``.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

NOBODY = 65534

needs_root = pytest.mark.skipif(
    not hasattr(os, "fork") or os.geteuid() != 0,
    reason="needs root, to drop to the unprivileged user nobody in a child process",
)


@pytest.fixture
def shared_folder() -> Iterator[Path]:
    """A fresh folder nobody may enter (pytest's tmp_path under root is private), removed afterwards."""
    folder = Path(tempfile.mkdtemp(prefix="mocap-perm-"))
    folder.chmod(0o755)
    yield folder
    shutil.rmtree(folder, ignore_errors=True)


def error_as_nobody(action: Callable[[], object], expected: type[BaseException]) -> str:
    """The message of the ``expected`` error ``action()`` raises as user nobody.

    "no error" when it raises none; any other exception comes back as its type and text.
    """

    def check() -> str:
        try:
            action()
        except expected as exc:
            return str(exc)
        return "no error"

    return as_nobody(check)


def as_nobody(check: Callable[[], str]) -> str:
    """``check()``'s message as user nobody; an unexpected exception comes back as its type and text."""
    read_fd, write_fd = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: never return into pytest
        os.close(read_fd)
        try:
            os.setgid(NOBODY)
            os.setuid(NOBODY)
            message = check()
        except BaseException as exc:  # noqa: BLE001 - reported to the parent, which asserts on it
            message = f"{type(exc).__name__}: {exc}"
        os.write(write_fd, message.encode())
        os._exit(0)
    os.close(write_fd)
    with os.fdopen(read_fd, "rb") as fh:
        message = fh.read().decode()
    os.waitpid(pid, 0)
    return message
