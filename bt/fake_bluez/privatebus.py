"""A private, throw-away ``dbus-daemon`` that behaves like a system bus and lets everyone do anything.

Tests and ``routesim fake-bluez`` run the fake ``org.bluez`` on such a bus, never on the host's. Each bus
lives in its own ``0700`` temporary directory that also holds a marker file naming the bus address, so
code in another process (``routesim watch`` after ``export DBUS_SYSTEM_BUS_ADDRESS=…``) can tell that
the address was made by us (:func:`is_private_bus`), and anything that must never touch a real bus can
refuse otherwise (:func:`require_private_bus`).
"""
from __future__ import annotations

import os
import shutil
import signal
import stat
import subprocess
import tempfile
from pathlib import Path
from typing import Any
from urllib.parse import unquote

from routesim.bt.fake_bluez.lifeline import Watchdog, die_with_parent

MARKER = "routesim-private-bus"
SOCKET = "system_bus_socket"

# The policy of the system bus, opened up: any connection may own any name and send anything to anyone.
_CONFIG = """<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>system</type>
  <listen>unix:path={socket}</listen>
  <auth>EXTERNAL</auth>
  <policy context="default">
    <allow user="*"/>
    <allow own="*"/>
    <allow send_type="method_call"/>
    <allow send_type="signal"/>
    <allow send_type="method_return"/>
    <allow send_type="error"/>
    <allow receive_type="method_call"/>
    <allow receive_type="signal"/>
    <allow receive_type="method_return"/>
    <allow receive_type="error"/>
  </policy>
  <limit name="max_replies_per_connection">50000</limit>
</busconfig>
"""

_created: set[str] = set()  # addresses made by this process


class NotAPrivateBus(RuntimeError):
    """Raised instead of touching a bus whose address routesim did not create."""


class PrivateBusError(RuntimeError):
    pass


def _unix_path(address: str) -> str | None:
    if ";" in address or not address.startswith("unix:"):
        return None
    for kv in address[len("unix:"):].split(","):
        key, _, value = kv.partition("=")
        if key == "path":
            return unquote(value)
    return None


def is_private_bus(address: str | None) -> bool:
    """True only for a bus address a :class:`PrivateBus` made (in this process or, through the marker file
    in its owner-only directory, in another process of the same user)."""
    if not address:
        return False
    if address in _created:
        return True
    path = _unix_path(address)
    if path is None:
        return False
    directory = Path(path).parent
    try:
        st = directory.stat()
        if not stat.S_ISDIR(st.st_mode) or st.st_uid != os.getuid() or st.st_mode & 0o077:
            return False
        return (directory / MARKER).read_text(encoding="utf-8").strip() == address
    except OSError:
        return False


def require_private_bus(address: str | None, what: str = "this") -> str:
    if not is_private_bus(address):
        raise NotAPrivateBus(
            f"refusing to run {what} on D-Bus address {address!r}: routesim did not create that bus "
            "(start one with bt.fake_bluez.PrivateBus or `routesim fake-bluez`)"
        )
    assert address is not None
    return address


class PrivateBus:
    """``dbus-daemon --config-file=<system-like, allow-all> --print-address`` in a temporary directory.

    Use as a context manager or call :meth:`start`/:meth:`stop`. :meth:`restart` kills the daemon and
    starts a new one on the same socket path (every client connection drops, as when the system bus
    restarts)."""

    def __init__(self, directory: str | os.PathLike[str] | None = None, daemon: str | None = None,
                 watchdog: bool = False):
        self._own_dir = directory is None
        self.directory = Path(directory) if directory is not None else None
        self.daemon = daemon or shutil.which("dbus-daemon") or "/usr/bin/dbus-daemon"
        self.process: subprocess.Popen[bytes] | None = None
        self.address: str | None = None
        self.watchdog = watchdog  # also clean up after a kill -9 of this process (bt.fake_bluez.lifeline)
        self._watchdog: Any = None

    # -- lifecycle ----------------------------------------------------------------------------------
    def start(self) -> str:
        if self.process is not None:
            raise PrivateBusError("private bus already running")
        if not os.access(self.daemon, os.X_OK):
            raise PrivateBusError(f"dbus-daemon not found ({self.daemon}); install the dbus package")
        if self.directory is None:
            self.directory = Path(tempfile.mkdtemp(prefix="routesim-bus-"))
        os.chmod(self.directory, 0o700)
        socket_path = self.directory / SOCKET
        config = self.directory / "bus.conf"
        config.write_text(_CONFIG.format(socket=socket_path), encoding="utf-8")
        self.process = subprocess.Popen(
            [self.daemon, f"--config-file={config}", "--nofork", "--nopidfile", "--print-address=1"],
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            stdin=subprocess.DEVNULL,
            start_new_session=True,  # a Ctrl-C in the terminal reaches us, not the daemon
            preexec_fn=die_with_parent,  # and it dies with us, even on kill -9
        )
        assert self.process.stdout is not None
        line = self.process.stdout.readline().decode("ascii", "replace").strip()
        if not line:
            self.process.wait(timeout=5)
            self.process = None
            raise PrivateBusError("dbus-daemon exited without printing an address")
        # dbus-daemon appends ",guid=…"; keep only the path (dbus-fast rejects nothing here, but the
        # guid changes on restart and the marker must stay valid).
        self.address = f"unix:path={socket_path}"
        (self.directory / MARKER).write_text(self.address, encoding="utf-8")
        if self.watchdog and self._watchdog is None and self._own_dir:
            self._watchdog = Watchdog(self.directory, self.process.pid)
        _created.add(self.address)
        return self.address

    def stop(self) -> None:
        proc, self.process = self.process, None
        if proc is not None:
            if proc.poll() is None:
                os.kill(proc.pid, signal.SIGTERM)
                try:
                    proc.wait(timeout=5)
                except subprocess.TimeoutExpired:
                    os.kill(proc.pid, signal.SIGKILL)
                    proc.wait()
            if proc.stdout is not None:
                proc.stdout.close()

    def close(self) -> None:
        """Stop the daemon and remove the directory (if we made it)."""
        self.stop()
        if self.address:
            _created.discard(self.address)
        if self.directory is not None:
            (self.directory / MARKER).unlink(missing_ok=True)
            if self._own_dir:
                shutil.rmtree(self.directory, ignore_errors=True)
        if self._watchdog is not None:
            self._watchdog.close()
            self._watchdog = None

    def restart(self) -> str:
        """Kill and restart the daemon on the same socket: all connections drop."""
        self.stop()
        assert self.directory is not None
        (self.directory / SOCKET).unlink(missing_ok=True)
        self.process = None
        return self.start()

    def __enter__(self) -> "PrivateBus":
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
