"""Real devices through BlueZ (``org.bluez`` on the system bus, via dbus-fast)."""
from .backend import (
    AdapterView,
    BluezBackend,
    BluezError,
    CommandResult,
    DeviceView,
    NoAdapter,
    NoBluetoothd,
    NoBus,
    NoPermission,
    NotConnected,
)

__all__ = [
    "AdapterView",
    "BluezBackend",
    "BluezError",
    "CommandResult",
    "DeviceView",
    "NoAdapter",
    "NoBluetoothd",
    "NoBus",
    "NoPermission",
    "NotConnected",
]
