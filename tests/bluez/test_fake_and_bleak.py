"""The fake as other BlueZ clients see it: bleak's real scanner, BlueZ semantics, and the safety rule
that nothing here runs on a bus routesim did not create."""
from __future__ import annotations

import asyncio

import pytest
from bleak import BleakScanner
from dbus_fast import BusType, Message, MessageType, Variant
from dbus_fast.aio import MessageBus

from routesim.bt.bluez import BluezBackend, NoBluetoothd, NoBus
from routesim.bt.fake_bluez import APPLE, FakeBluez, NotAPrivateBus, PrivateBus, is_private_bus, proximity_pairing
from routesim.clock import WallClock

PODS_LE = "5E:11:22:33:44:55"


async def test_bleak_scanner_sees_the_apple_proximity_pairing_advert(fake, private_bus, monkeypatch):
    monkeypatch.setenv("DBUS_SYSTEM_BUS_ADDRESS", private_bus.address)
    payload = proximity_pairing(0x2014, left=100, right=90, case=None)
    fake.add_advert(PODS_LE, {APPLE: payload})
    seen: asyncio.Future = asyncio.get_running_loop().create_future()

    def callback(device, adv):
        if APPLE in adv.manufacturer_data and not seen.done():
            seen.set_result((device, adv))

    async with BleakScanner(detection_callback=callback):
        device, adv = await asyncio.wait_for(seen, 5)
    assert device.address == PODS_LE
    data = adv.manufacturer_data[76]
    assert data == payload and data[:3] == b"\x07\x19\x01" and data[3:5] == b"\x14\x20"
    assert data[6] == 0x9A  # left 100 % in the low nibble, right 90 % in the high one
    assert fake.discovery_filters == {} and not fake.discovery_sessions  # bleak cleaned up after itself


async def test_alias_semantics_match_bluez(fake, private_bus):
    from routesim.bt.fake_bluez import VirtualAccessory

    fake.add_device(VirtualAccessory("AA:BB:CC:00:00:10", None))
    bus = await MessageBus(bus_address=private_bus.address, bus_type=BusType.SYSTEM).connect()
    try:
        path = "/org/bluez/hci0/dev_AA_BB_CC_00_00_10"

        async def call(member, sig, body):
            return await bus.call(Message(destination="org.bluez", path=path, interface="org.freedesktop.DBus.Properties",
                                          member=member, signature=sig, body=body))

        alias = await call("Get", "ss", ["org.bluez.Device1", "Alias"])
        assert alias.body[0].value == "AA-BB-CC-00-00-10"  # neither alias nor name: the address with dashes
        ro = await call("Set", "ssv", ["org.bluez.Device1", "Address", Variant("s", "x")])
        assert ro.message_type is MessageType.ERROR and ro.error_name == "org.freedesktop.DBus.Error.PropertyReadOnly"
        bad = await call("Set", "ssv", ["org.bluez.Device1", "Alias", Variant("u", 1)])
        assert bad.error_name == "org.bluez.Error.InvalidArguments"
        fake.rename_remote("AA:BB:CC:00:00:10", "Speaker")
        assert (await call("Get", "ss", ["org.bluez.Device1", "Alias"])).body[0].value == "Speaker"
        objects = await bus.call(Message(destination="org.bluez", path="/", interface="org.freedesktop.DBus.ObjectManager",
                                         member="GetManagedObjects"))
        assert "Name" in objects.body[0][path]["org.bluez.Device1"]
        xml = await bus.call(Message(destination="org.bluez", path=path, interface="org.freedesktop.DBus.Introspectable",
                                     member="Introspect"))
        assert '<method name="ConnectProfile">' in xml.body[0] and 'name="Alias" type="s" access="readwrite"' in xml.body[0]
    finally:
        bus.disconnect()


async def test_a_second_fake_cannot_take_the_name(fake, private_bus):
    with pytest.raises(RuntimeError, match="could not own org.bluez"):
        await FakeBluez(private_bus.address, clock=WallClock()).start()


def test_refuses_a_bus_it_did_not_create(tmp_path):
    for address in ("unix:path=/var/run/dbus/system_bus_socket", f"unix:path={tmp_path}/system_bus_socket",
                    "tcp:host=localhost,port=1", None, ""):
        assert not is_private_bus(address)
        with pytest.raises(NotAPrivateBus):
            FakeBluez(address, clock=WallClock())


def test_private_bus_marker_is_recognised_only_in_an_owner_only_directory():
    with PrivateBus() as bus:
        assert is_private_bus(bus.address)
        bus.directory.chmod(0o755)
        from routesim.bt.fake_bluez import privatebus

        privatebus._created.discard(bus.address)  # as seen from another process
        assert not is_private_bus(bus.address)
        bus.directory.chmod(0o700)
        assert is_private_bus(bus.address)
    assert not is_private_bus(bus.address)


async def test_backend_gives_one_line_errors(private_bus, tmp_path, catalog):
    with pytest.raises(NoBus, match="no D-Bus system bus at"):
        await BluezBackend(f"unix:path={tmp_path}/nothing", catalog=catalog, clock=WallClock()).start()
    with pytest.raises(NoBluetoothd, match="bluetoothd is not running"):
        await BluezBackend(private_bus.address, catalog=catalog, clock=WallClock()).start()
