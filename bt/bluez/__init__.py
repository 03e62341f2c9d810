"""Real devices through BlueZ (``org.bluez`` on the system bus, via dbus-fast)."""
from .backend import BluezBackend
from .commands import CommandResult
from .errors import BluezError, NoAdapter, NoBluetoothd, NoBus, NoPermission, NotConnected
from .views import AdapterView, DeviceView

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
