"""Problems reaching BlueZ, each with a message fit for one line of CLI output."""
from __future__ import annotations

import asyncio

from dbus_fast import DBusError


class BluezError(RuntimeError):
    """A problem reaching BlueZ, with a message fit for one line of output."""


class NoBus(BluezError):
    pass


class NoPermission(BluezError):
    pass


class NoBluetoothd(BluezError):
    pass


class NoAdapter(BluezError):
    pass


class NotConnected(BluezError):
    pass


class NotAnswering(BluezError):
    """Someone owns org.bluez but does not answer (a hung or stopped bluetoothd)."""


# What a failed D-Bus call can raise; commands turn these into a CommandResult error, not an exception.
CALL_ERRORS = (DBusError, BluezError, asyncio.TimeoutError)


def one_line(exc: BaseException) -> str:
    """A failed call as the CLI prints it after the command: the D-Bus error name and text, or why."""
    if isinstance(exc, DBusError):
        return f"{exc.type}: {exc.text}" if exc.text else exc.type
    if isinstance(exc, asyncio.TimeoutError):
        return "timed out"
    return str(exc)
