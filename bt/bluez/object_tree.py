"""BlueZ's object tree as the backend last heard it: path → interface → validated properties.

Only interfaces with a declared schema are kept, and only their well-typed properties
(:func:`bt.bluez.values.clean_properties`), so everything read from here can be trusted. The update
methods say whether anything that could change an accessory was touched; the caller then reconciles.
"""
from __future__ import annotations

from typing import Any, Iterator

from routesim.bt.bluez.constants import ADAPTER, BATTERY, DEVICE, TRANSPORT
from routesim.bt.bluez.values import SCHEMA, clean_properties

Props = dict[str, Any]
Node = dict[str, Props]  # interface -> properties


class ObjectTree:
    def __init__(self) -> None:
        self.objects: dict[str, Node] = {}
        self.warned: set[tuple[str, str, str]] = set()  # mistyped properties already logged (once per device)

    def clear(self) -> None:
        self.objects.clear()

    # -- updates from GetManagedObjects and the ObjectManager/Properties signals ------------------------
    def replace(self, objects: Any) -> bool:
        """Take a ``GetManagedObjects`` snapshot wholesale; False (tree unchanged) if it is not a dict."""
        if not isinstance(objects, dict):
            return False
        fresh: dict[str, Node] = {}
        for path, ifaces in objects.items():
            if not isinstance(path, str) or not path.startswith("/org/bluez") or not isinstance(ifaces, dict):
                continue
            for iface, props in ifaces.items():
                if iface in SCHEMA:
                    fresh.setdefault(path, {})[iface] = clean_properties(path, iface, props, self.warned)
        self.objects = fresh
        return True

    def add_interfaces(self, path: str, ifaces: dict[str, Any]) -> bool:
        if not path.startswith("/org/bluez"):
            return False
        node = self.objects.setdefault(path, {})
        for iface, props in ifaces.items():
            if iface in SCHEMA:
                node[iface] = clean_properties(path, iface, props, self.warned)
        if not node:
            del self.objects[path]
        return True

    def remove_interfaces(self, path: str, ifaces: list[str]) -> dict[str, Props] | None:
        """The removed interfaces with their last properties (the caller still needs their Address or
        Device), or None for an unknown path."""
        node = self.objects.get(path)
        if node is None:
            return None
        removed = {i: node.pop(i) for i in ifaces if i in node}
        if not node:
            del self.objects[path]
        return removed

    def change_properties(self, path: str, iface: str, changed: dict[str, Any], invalidated: list[str]) -> bool:
        props = self.objects.get(path, {}).get(iface)
        if props is None:
            return False  # BlueZ always announces an interface before changing it; a stray change means nothing
        props.update(clean_properties(path, iface, changed, self.warned))
        for name in invalidated:
            props.pop(name, None)
        return True

    # -- reading -----------------------------------------------------------------------------------------
    def interface(self, path: str, iface: str) -> Props | None:
        return self.objects.get(path, {}).get(iface)

    def adapters(self) -> Iterator[tuple[str, Props]]:
        for path, ifaces in sorted(self.objects.items()):
            a = ifaces.get(ADAPTER)
            if a is not None:
                yield path, a

    def devices(self) -> Iterator[tuple[str, Node]]:
        """Every object with a Device1 that has an Address, sorted by path, with all its interfaces."""
        for path, ifaces in sorted(self.objects.items()):
            d = ifaces.get(DEVICE)
            if d is not None and "Address" in d:
                yield path, ifaces

    def addresses(self) -> set[str]:
        return {ifaces[DEVICE]["Address"].upper() for _, ifaces in self.devices()}

    def find_device(self, address: str) -> tuple[str, Props] | None:
        for path, ifaces in self.objects.items():
            d = ifaces.get(DEVICE)
            if d is not None and d.get("Address", "").upper() == address:
                return path, d
        return None

    def transport_of(self, dev_path: str) -> Props | None:
        """The device's newest MediaTransport1 (BlueZ makes a new ``fdN`` object per configuration)."""
        best = None
        for path, ifaces in self.objects.items():
            t = ifaces.get(TRANSPORT)
            if t is not None and t.get("Device") == dev_path and path.startswith(dev_path + "/"):
                if best is None or path > best[0]:
                    best = (path, t)
        return best[1] if best else None

    def device_path_for(self, path: str, removed: dict[str, Props] | None = None) -> str | None:
        """The device an object belongs to: itself, the Device of its transport, or the ``dev_…``
        path above it. ``removed``: interfaces just removed from ``path``, which still count."""
        node = self.objects.get(path, {})
        for source in (node, removed or {}):
            if TRANSPORT in source:
                dev = source[TRANSPORT].get("Device")
                if dev:
                    return dev
        if DEVICE in node or (removed and DEVICE in removed) or BATTERY in node or (removed and BATTERY in removed):
            return path
        # a transport/endpoint below a device path
        parts = path.split("/")
        for i in range(len(parts), 3, -1):
            candidate = "/".join(parts[:i])
            if candidate.rsplit("/", 1)[-1].startswith("dev_"):
                return candidate
        return None


def path_is_for_address(path: str, address: str) -> bool:
    """BlueZ names device objects ``…/dev_AA_BB_CC_DD_EE_FF``."""
    return path.rsplit("/", 1)[-1] == "dev_" + address.replace(":", "_")
