"""The asyncio route manager in live mode: events from concurrent sources are serialised into the model,
notifications reach listeners as they happen, and negotiation commands go back to the owning source."""
from __future__ import annotations

import asyncio

import pytest

from routesim.events import AccessoryInfo, Connected, Disconnected, NegotiationCommand, Renamed, SwitchProfile
from routesim.bt.virtual import VirtualAccessories
from routesim.profiles.catalog import default_catalog
from routesim.routes.live.manager import RouteManager
from routesim.routes.phone.errors import StepError
from routesim.routes.phone.session import Phone


class AsyncSink:
    """A source whose commands complete asynchronously, as BlueZ's do."""

    def __init__(self, keys):
        self.keys, self.done = set(keys), []

    def owns(self, key):
        return key in self.keys

    async def execute(self, command: NegotiationCommand):
        await asyncio.sleep(0)
        self.done.append(command)


async def feed(events, gate: asyncio.Event | None = None):
    for ev in events:
        if gate is not None:
            await gate.wait()
        yield ev
        await asyncio.sleep(0)


async def test_live_events_become_notifications_and_commands():
    catalog = default_catalog()
    phone = Phone()
    phone.set_category("playAndRecord", "voiceChat", ())
    manager = RouteManager(phone, catalog, strict=False, keep_pending=False)
    virtual = VirtualAccessories()
    pods = virtual.add("AA:BB:CC:DD:EE:01", "airpods-pro", "Kim's AirPods Pro")
    sink = AsyncSink({pods.key})
    manager.add_sink(sink)
    seen = []
    manager.listeners.append(lambda note: seen.append((note.name, note.fields.get("reason"))))

    events = [Connected(pods), Renamed(pods.key, "xxxx"), Connected(pods), Disconnected(pods.key)]
    task = asyncio.create_task(manager.run(feed(events)))
    for _ in range(50):
        await asyncio.sleep(0)
        if len(seen) >= 5:
            break
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)

    # connect -> HFP (voiceChat implies HFP), rename while in the route, the duplicate Connected is
    # ignored in live mode, disconnect -> back to the receiver.
    # availableInputsChange (iOS 26) follows connect and disconnect: the HFP input comes and goes.
    assert seen == [("routeChange", "newDeviceAvailable"), ("availableInputsChange", None),
                    ("routeChange", "routeConfigurationChange"),
                    ("routeChange", "oldDeviceUnavailable"), ("availableInputsChange", None)]
    assert SwitchProfile(pods.key, "hfp", "msbc") in sink.done
    assert phone.pending == []  # live mode does not accumulate


async def test_two_sources_are_serialised_in_arrival_order():
    catalog = default_catalog()
    phone = Phone()
    phone.set_category("playback", "default", ())
    manager = RouteManager(phone, catalog, strict=False)
    virtual = VirtualAccessories()
    a = virtual.add("a", "wired-headphones", "Wired")
    b = virtual.add("b", "airpods-2", "AirPods")
    manager.add_sink(virtual)
    gate = asyncio.Event()
    task = asyncio.create_task(manager.run(feed([Connected(a)]), feed([Connected(b)], gate)))
    for _ in range(10):
        await asyncio.sleep(0)
    assert phone.route.types() == ((), ("headphones",))
    gate.set()
    for _ in range(10):
        await asyncio.sleep(0)
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)
    assert phone.route.types() == ((), ("bluetoothA2DP",))  # last in wins


def test_a_second_connect_is_refused_by_the_manager_and_by_the_model_itself():
    """A Connected for a connected device: the manager refuses it before the model sees it; the model, used
    directly, refuses it too, naming the accessory."""
    phone = Phone()
    manager = RouteManager(phone, default_catalog())
    event = Connected(AccessoryInfo("pods", "airpods-pro", "AirPods", "AA:BB:CC:DD:EE:01", None))
    manager.dispatch(event)
    with pytest.raises(StepError, match=r"^pods is already connected$"):
        manager.dispatch(event)
    with pytest.raises(StepError, match=r"^accessory 'pods' is already connected$"):
        phone.connect("pods")


def test_the_model_is_an_iphone_unless_told():
    # [DEV gh:react-native-device-info/react-native-device-info#1020] the built-in mic's name per device
    phone = Phone()
    phone.set_category("playAndRecord", "default", ())
    assert [(p.type, p.name) for p in phone.route.inputs] == [("builtInMic", "iPhone Microphone")]
