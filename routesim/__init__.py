"""routesim: simulate how a phone negotiates audio routes with Bluetooth and wired accessories, and what an
iOS app's audio session sees while that happens.

The public Python API is the names below (docs/python-api.md)::

    from routesim import Phone

    phone = Phone(platform="ios-26.0")
    phone.add_accessory("pods", "airpods-pro-2")
    phone.set_category("playback")
    phone.connect("pods")
    note = await phone.route_change(reason="newDeviceAvailable")

One import name holds everything: ``routesim.profiles`` (what accessories are), ``routesim.bt`` (where
they come from), ``routesim.routes`` (the phone, audio I/O, scenarios, live rigs, the command line) and
``routesim.fixtures`` (the model catalog and the bundled scenarios); those are internal. This module,
``routesim.events`` (the accessory events and negotiation commands that ``bt`` and the phone share) and
``routesim.clock`` are the package's face.
"""
from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

if TYPE_CHECKING:
    from routesim.api.fake import FakeBluetooth
    from routesim.api.phone import Accessory, CallKit, Capture, Cellular, Engine, Phone, Recorder
    from routesim.api.records import ExpectationFailed, TimelineEntry
    from routesim.api.rig import Rig
    from routesim.clock import VirtualClock, WallClock
    from routesim.events import AccessoryEvent, AccessoryInfo
    from routesim.routes.phone.errors import AppException, CallKitRequestError, SessionError, StepError
    from routesim.routes.phone.notifications import Notification
    from routesim.routes.phone.ports import Port, Route
    from routesim.routes.phone.session import AppState

# Loaded on first use, so that ``import routesim.events`` (which bt/ does) stays light and import order
# between the package's face and the parts it re-exports cannot matter.
_EXPORTS = {
    "Phone": "routesim.api.phone", "Accessory": "routesim.api.phone", "CallKit": "routesim.api.phone",
    "Cellular": "routesim.api.phone", "Engine": "routesim.api.phone", "Recorder": "routesim.api.phone",
    "Capture": "routesim.api.phone",
    "Rig": "routesim.api.rig", "FakeBluetooth": "routesim.api.fake",
    "TimelineEntry": "routesim.api.records", "ExpectationFailed": "routesim.api.records",
    "Notification": "routesim.routes.phone.notifications", "Route": "routesim.routes.phone.ports",
    "Port": "routesim.routes.phone.ports", "AppState": "routesim.routes.phone.session",
    "SessionError": "routesim.routes.phone.errors", "AppException": "routesim.routes.phone.errors",
    "StepError": "routesim.routes.phone.errors", "CallKitRequestError": "routesim.routes.phone.errors",
    "VirtualClock": "routesim.clock", "WallClock": "routesim.clock",
    "AccessoryEvent": "routesim.events", "AccessoryInfo": "routesim.events",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'routesim' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *_EXPORTS])
