"""Real devices through BlueZ (``org.bluez`` on the system bus, via dbus-fast)."""
from routesim.bt.bluez.backend import BluezBackend
from routesim.bt.bluez.commands import CommandResult
from routesim.bt.bluez.errors import BluezError, NoAdapter, NoBluetoothd, NoBus, NoPermission, NotAnswering, NotConnected
from routesim.bt.bluez.views import AdapterView, DeviceView

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
    "NotAnswering",
    "NotConnected",
]
