"""The backend survives bluetoothd restarts, a dropped bus connection, malformed D-Bus values and
impostors, without crashing and without duplicated or lost events."""
from __future__ import annotations

import asyncio
import logging
import socket

from dbus_fast import BusType, Message, Variant
from dbus_fast.aio import MessageBus

from routesim.bt.bluez.constants import ADAPTER, BATTERY, DEVICE, OBJECT_MANAGER, PROPERTIES, TRANSPORT
from routesim.events import BatteryChanged, Connected, Disconnected, ProfileChanged, Renamed
from routesim.bt.fake_bluez import FakeBluez, PrivateBus, VirtualAccessory
from routesim.clock import WallClock

AIRPODS = "AA:BB:CC:DD:EE:01"
SPEAKER = "AA:BB:CC:DD:EE:02"
OTHER = "AA:BB:CC:DD:EE:03"


def _count(log, kind, key):
    return len([e for e in log.of(kind) if getattr(e, "key", None) == key or getattr(getattr(e, "info", None), "key", None) == key])


async def test_bluetoothd_restart_drops_devices_then_resyncs(fake, make_backend, airpods):
    fake.add_device(airpods, connected=True)
    backend, log = await make_backend()
    await fake.restart()  # links drop with the daemon
    await log.wait(lambda e: isinstance(e, Disconnected))
    await log.settle()
    assert backend.bluetoothd_running and [d.address for d in backend.devices()] == [AIRPODS]
    assert _count(log, Connected, AIRPODS) == 1 and _count(log, Disconnected, AIRPODS) == 1
    fake.connect(AIRPODS)
    await log.wait(lambda e: isinstance(e, ProfileChanged) and len(log.of(ProfileChanged)) == 2)
    assert _count(log, Connected, AIRPODS) == 2


async def test_bluetoothd_restart_that_kept_the_links_announces_nothing(fake, make_backend, airpods, speaker):
    """A restart whose new bluetoothd finds the links up is no news: no Disconnected/Connected pair, and
    one status line saying it restarted (the devices stay announced for restart_grace meanwhile)."""
    fake.add_device(airpods, connected=True)
    fake.add_device(speaker, connected=True)
    statuses: list[tuple[str, str]] = []
    backend, log = await make_backend(on_status=lambda kind, text: statuses.append((kind, text)))
    log.clear()
    # the new bluetoothd announces every object with InterfacesAdded while we also read GetManagedObjects
    await fake.restart(keep_connections=True)
    await log.settle(0.2)
    assert log.events == []
    assert [k for k, _ in statuses] == ["bluetoothd-restarted"], statuses
    assert set(backend.announced()) == {AIRPODS, SPEAKER}


async def test_bluetoothd_gone_longer_than_the_grace_drops_devices_once_and_says_so(fake, make_backend, airpods):
    fake.add_device(airpods, connected=True)
    statuses: list[str] = []
    backend, log = await make_backend(restart_grace=0.2, on_status=lambda kind, text: statuses.append(kind))
    await fake.stop()
    await log.settle(0.1)
    assert not log.of(Disconnected), "devices stay announced during the grace"
    await log.wait(lambda e: isinstance(e, Disconnected))
    await fake.start()
    await log.wait(lambda e: isinstance(e, Connected) and len(log.of(Connected)) == 2)
    assert statuses == ["bluetoothd-gone", "bluetoothd-back"]


async def test_bluetoothd_gone_for_a_while(fake, make_backend, airpods):
    fake.add_device(airpods, connected=True)
    backend, log = await make_backend()
    await fake.stop()
    await log.wait(lambda e: isinstance(e, Disconnected))
    assert not backend.bluetoothd_running and backend.devices() == []
    await fake.start()
    await log.settle(0.05)
    assert backend.bluetoothd_running and [d.address for d in backend.devices()] == [AIRPODS]


async def test_our_bus_connection_drops_and_we_report_only_real_changes(fake, make_backend, airpods, speaker):
    """Only our connection dies (as with dbus-fast's fatal EAGAIN); bluetoothd stays. While we are away
    one device leaves, another arrives and a battery level moves; after reconnecting we report exactly
    that, and nothing twice."""
    fake.add_device(airpods, connected=True)
    fake.add_device(speaker, connected=True)
    fake.add_device(VirtualAccessory(OTHER, "Car", uuids=("0000111e-0000-1000-8000-00805f9b34fb",)))
    backend, log = await make_backend(backoff=(0.05, 0.2))
    log.clear()
    backend._bus._sock.shutdown(socket.SHUT_RDWR)  # the test's way to cut one connection
    await asyncio.sleep(0.01)
    fake.disconnect(SPEAKER)
    fake.connect(OTHER)
    fake.set_battery(AIRPODS, 40)
    await log.wait(lambda e: isinstance(e, Connected), timeout=5)
    await log.settle()
    assert backend.reconnects == 1
    assert sorted(map(repr, log.events)) == sorted(map(repr, [
        Disconnected(SPEAKER), BatteryChanged(AIRPODS, left=40), log.of(Connected)[0],
        ProfileChanged(OTHER, "hfp", "cvsd")]))
    assert log.of(Connected)[0].info.key == OTHER
    assert set(backend.announced()) == {AIRPODS, OTHER}


async def test_system_bus_restart_reconnects_with_backoff_and_resyncs(make_backend, airpods, speaker):
    """The whole bus restarts: bluetoothd goes with it (Disconnected for all), we reconnect with
    backoff and announce each device once when bluetoothd is back."""
    with PrivateBus() as bus:
        fake = FakeBluez(bus.address, clock=WallClock())
        await fake.start()
        fake.add_device(airpods, connected=True)
        fake.add_device(speaker, connected=True)
        backend, log = await make_backend(bus.address, backoff=(0.02, 0.2))
        log.clear()
        bus.restart()  # kills the daemon under everyone
        await fake.stop()
        await log.wait(lambda e: isinstance(e, Disconnected) and len(log.of(Disconnected)) == 2, timeout=5)
        await asyncio.sleep(0.1)  # bluetoothd takes its time to come back
        await fake.restart(keep_connections=True)
        await log.wait(lambda e: isinstance(e, Connected) and len(log.of(Connected)) == 2, timeout=5)
        await log.settle()
        assert backend.reconnects == 1
        for key in (AIRPODS, SPEAKER):
            assert _count(log, Connected, key) == 1 and _count(log, Disconnected, key) == 1
        await backend.stop()
        await fake.stop()


async def test_malformed_properties_are_logged_and_ignored(fake, make_backend, airpods, caplog):
    caplog.set_level(logging.WARNING, logger="routesim.bt.bluez")
    fake.add_device(airpods, connected=True)
    # objects that are broken from the start
    fake.add_raw_object("/org/bluez/hci0/dev_11_22_33_44_55_66", {DEVICE: {"Connected": Variant("b", True)}})  # no Address
    fake.add_raw_object("/org/bluez/hci0/dev_11_22_33_44_55_77", {DEVICE: {
        "Address": Variant("s", "not-an-address"), "Connected": Variant("s", "yes"), "UUIDs": Variant("s", "x")}})
    fake.add_raw_object("/org/bluez/hci0/dev_11_22_33_44_55_88", {BATTERY: {"Percentage": Variant("y", 250)}})
    backend, log = await make_backend()
    assert [e.info.key for e in log.of(Connected)] == [AIRPODS]

    path = fake.device(AIRPODS).path
    fake.set_raw(path, DEVICE, "Alias", Variant("u", 5))  # wrong type: ignored, name unchanged
    fake.set_raw(path, DEVICE, "Connected", Variant("s", "false"))  # wrong type: still connected
    fake.set_raw(path, BATTERY, "Percentage", Variant("q", 50))  # wrong type
    fake.set_raw(path, BATTERY, "Percentage", Variant("y", 101))  # out of range
    fake.set_raw(fake.device(AIRPODS).transport_path, TRANSPORT, "Codec", Variant("s", "aac"))
    fake.set_raw(fake.adapter_path, ADAPTER, "Powered", Variant("i", 1))
    fake.emit_raw_signal(path, PROPERTIES, "PropertiesChanged", "sa{sv}", [DEVICE, {"Alias": Variant("s", "x")}])
    fake.emit_raw_signal("/", OBJECT_MANAGER, "InterfacesAdded", "os", ["/org/bluez/hci0/dev_X", "junk"])
    fake.emit_raw_signal("/", OBJECT_MANAGER, "InterfacesRemoved", "oas", ["/org/bluez/hci0/nothing", [DEVICE]])
    fake.set_raw(path, DEVICE, "Alias", None)  # invalidated: the name falls back to Name
    fake.set_raw(path, DEVICE, "Alias", Variant("s", "Still alive"))
    await log.wait(lambda e: e == Renamed(AIRPODS, "Still alive"))
    await log.settle()
    assert not log.of(Disconnected)
    assert [e.left for e in log.of(BatteryChanged)] == [80]
    text = caplog.text
    for needle in ("Alias has D-Bus type 'u'", "Connected has D-Bus type 's'", "Percentage has D-Bus type 'q'",
                   "percentage above 100", "not a Bluetooth address", "Codec has D-Bus type 's'",
                   "PropertiesChanged with signature 'sa{sv}'", "InterfacesAdded with signature 'os'"):
        assert needle in text, needle
    # still fully working afterwards
    fake.clear_raw(AIRPODS)
    fake.disconnect(AIRPODS)
    await log.wait(lambda e: e == Disconnected(AIRPODS))


async def test_signals_from_anyone_but_bluez_are_ignored(fake, make_backend, airpods, private_bus):
    fake.add_device(airpods, connected=True)
    backend, log = await make_backend()
    impostor = await MessageBus(bus_address=private_bus.address, bus_type=BusType.SYSTEM).connect()
    try:
        path = fake.device(AIRPODS).path
        await impostor.send(Message.new_signal(path, PROPERTIES, "PropertiesChanged", "sa{sv}as",
                                               [DEVICE, {"Connected": Variant("b", False)}, []]))
        await impostor.send(Message.new_signal("/", OBJECT_MANAGER, "InterfacesRemoved", "oas", [path, [DEVICE]]))
        await log.settle(0.05)
        assert not log.of(Disconnected) and backend.announced().keys() == {AIRPODS}
    finally:
        impostor.disconnect()


async def test_a_mistyped_property_is_logged_once_per_device(fake, make_backend, airpods, caplog):
    """BlueZ repeats a bad value on every change of the device: the warning comes once, not per signal."""
    caplog.set_level(logging.WARNING, logger="routesim.bt.bluez")
    fake.add_device(airpods, connected=True)
    backend, log = await make_backend()
    path = fake.device(AIRPODS).path
    fake.set_raw(path, DEVICE, "Alias", Variant("u", 5))
    for name in ("One", "Two", "Three"):  # each rename re-sends the device's properties with the bad Alias
        fake.set_raw(path, DEVICE, "Name", Variant("s", name))
        fake.emit_raw_signal(path, PROPERTIES, "PropertiesChanged", "sa{sv}as",
                             [DEVICE, {"Alias": Variant("u", 5)}, []])
    await log.settle()
    warnings = [r.getMessage() for r in caplog.records if "Alias has D-Bus type 'u'" in r.getMessage()]
    assert len(warnings) == 1, warnings
    assert not [r for r in caplog.records if r.exc_info]
