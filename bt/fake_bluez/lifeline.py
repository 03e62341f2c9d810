"""Children that die with their parent, even when the parent gets ``kill -9``.

``routesim fake-bluez`` starts a ``dbus-daemon`` and owns a temporary directory; a SIGKILL runs no
clean-up of ours. Two things cover it: the daemon is started with ``PR_SET_PDEATHSIG`` (Linux sends it
SIGTERM when its parent dies), and a small watchdog process holds the read end of a pipe whose write
end only the parent has; when the parent dies the pipe reads EOF and the watchdog stops the daemon and
removes the directory. Both are no-ops on systems without ``prctl``.
"""
from __future__ import annotations

import ctypes
import ctypes.util
import os
import signal
import subprocess
import sys
from pathlib import Path

PR_SET_PDEATHSIG = 1

_WATCHDOG = r"""
import os, shutil, signal, sys, time
directory, pid = sys.argv[1], int(sys.argv[2])
try:
    while sys.stdin.buffer.read(1):
        pass
except (OSError, KeyboardInterrupt):
    pass
try:
    os.kill(pid, signal.SIGTERM)
    for _ in range(50):
        os.kill(pid, 0)
        time.sleep(0.02)
    os.kill(pid, signal.SIGKILL)
except (ProcessLookupError, PermissionError):
    pass
shutil.rmtree(directory, ignore_errors=True)
"""


def die_with_parent() -> None:
    """A ``preexec_fn``: this child gets SIGTERM when the process that started it dies."""
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0)
    except (OSError, AttributeError):
        pass


class Watchdog:
    """Removes ``directory`` and stops ``pid`` once this process is gone (however it went)."""

    def __init__(self, directory: Path, pid: int):
        read, self._write = os.pipe()
        try:
            self.process = subprocess.Popen(
                [sys.executable, "-c", _WATCHDOG, str(directory), str(pid)],
                stdin=read, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                start_new_session=True,  # a Ctrl-C in the terminal is the parent's to handle
            )
        finally:
            os.close(read)

    def close(self) -> None:
        """The parent cleans up itself: the watchdog finds nothing left to do and exits."""
        if self._write >= 0:
            os.close(self._write)
            self._write = -1
        try:
            self.process.wait(timeout=3)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
