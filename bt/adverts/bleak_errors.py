"""What bleak reports when BlueZ's values are not the type it reads, condensed to one line per device.

bleak parses ``org.bluez.Device1`` properties inside its own D-Bus message handler (on its own
connection) and indexes them as BlueZ documents them: ``ManufacturerData`` ``a{qv}``, ``ServiceData``
``a{sv}``. A device exporting another type (python-dbusmock's bluez5 template exports ``aa{qv}``) makes
that handler raise, and dbus-fast logs the exception with its traceback, on every signal of that device.
routesim does not patch bleak: while a scan runs, a filter on dbus-fast's logger drops those records and
logs one line per device instead. Exceptions that did not pass through bleak are left alone.
"""
from __future__ import annotations

import logging
from types import TracebackType
from typing import Any

DBUS_FAST_LOGGER = "dbus_fast.message_bus"
MAX_REMEMBERED = 4096  # devices already reported; a flood of fresh addresses cannot grow this without bound


def _frames(tb: TracebackType | None):
    while tb is not None:
        yield tb.tb_frame
        tb = tb.tb_next


def _from_bleak(tb: TracebackType | None) -> bool:
    return any("/bleak/" in frame.f_code.co_filename.replace("\\", "/") for frame in _frames(tb))


def _device_path(tb: TracebackType | None) -> str | None:
    """The D-Bus object path of the device the failing message was about, read from the handler's frames."""
    for frame in _frames(tb):
        path = frame.f_locals.get("device_path")
        if isinstance(path, str):
            return path
        message = frame.f_locals.get("message") or frame.f_locals.get("msg")
        path = getattr(message, "path", None)
        if isinstance(path, str) and "/dev_" in path:
            return path
    return None


class CondenseBleakErrors(logging.Filter):
    """A logging filter for dbus-fast's logger: a handler exception raised inside bleak becomes one warning
    per device on ``log`` (the first time) and nothing after."""

    def __init__(self, log: logging.Logger):
        super().__init__()
        self.log = log
        self.reported: set[str] = set()

    def filter(self, record: logging.LogRecord) -> bool:
        exc = record.exc_info[1] if record.exc_info else None
        tb = exc.__traceback__ if exc is not None else None
        if exc is None or not _from_bleak(tb):
            return True
        device = _device_path(tb) or "a BlueZ object"
        if device not in self.reported and len(self.reported) < MAX_REMEMBERED:
            self.reported.add(device)
            self.log.warning("%s: bleak cannot read its properties (%s: %s), probably a property of the wrong "
                             "D-Bus type (ManufacturerData must be a{qv}, ServiceData a{sv}); its adverts are "
                             "skipped", device, type(exc).__name__, " ".join(str(exc).split())[:200])
        return False

    def install(self) -> "CondenseBleakErrors":
        logging.getLogger(DBUS_FAST_LOGGER).addFilter(self)
        return self

    def remove(self, *_: Any) -> None:
        logging.getLogger(DBUS_FAST_LOGGER).removeFilter(self)
