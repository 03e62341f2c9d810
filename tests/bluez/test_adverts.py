"""Apple proximity adverts from the fake bluetoothd, through bleak's real BleakScanner on the private bus
(no mocks), into accessory events; and ``routesim scan`` printing them."""
from __future__ import annotations

import argparse
import asyncio
from typing import Any, Callable

import pytest

from routesim.bt.adverts import AdvertSource, Sighting
from routesim.bt.bluez import BluezError
from routesim.events import BatteryChanged, EarsChanged, WornChanged
from routesim.bt.fake_bluez import APPLE, proximity_pairing
from routesim.routes.cli import scan as scan_cli
from routesim.clock import WallClock

AIRPODS = "AA:BB:CC:DD:EE:01"  # the connected device's identity address (conftest)
PODS_LE = "5E:11:22:33:44:55"  # the rotating random address its adverts come from
OTHER_LE = "6F:11:22:33:44:66"
PRO2 = 0x2014


class Seen:
    """Collects events or sightings; ``await wait(pred)`` until one matches."""

    def __init__(self) -> None:
        self.items: list[Any] = []
        self._changed = asyncio.Event()

    def __call__(self, item: Any) -> None:
        self.items.append(item)
        self._changed.set()

    async def wait(self, pred: Callable[[Any], bool], timeout: float = 3.0) -> Any:
        async def _wait() -> Any:
            seen = 0
            while True:
                for item in self.items[seen:]:
                    if pred(item):
                        return item
                seen = len(self.items)
                self._changed.clear()
                await self._changed.wait()

        return await asyncio.wait_for(_wait(), timeout)


@pytest.fixture
async def scanning(fake, private_bus, monkeypatch, catalog):
    """Start an AdvertSource on the fake's bus; returns (source, events, sightings)."""
    monkeypatch.setenv("DBUS_SYSTEM_BUS_ADDRESS", private_bus.address)
    made: list[AdvertSource] = []

    async def start(**kw: Any) -> tuple[AdvertSource, Seen, Seen]:
        events, sightings = Seen(), Seen()
        kw.setdefault("hints", {"airpods-pro-2": AIRPODS})
        kw.setdefault("clock", WallClock())
        source = AdvertSource(private_bus.address, catalog=catalog, on_event=events,
                              on_advert=sightings, **kw)
        await source.start()
        made.append(source)
        return source, events, sightings

    yield start
    for source in made:
        await source.stop()
    assert not fake.discovery_sessions  # bleak stopped discovery


async def test_an_advert_yields_battery_and_ears_through_the_async_iterator(fake, scanning):
    source, events, _ = await scanning()
    fake.add_advert(PODS_LE, {APPLE: proximity_pairing(PRO2, left=100, right=90, case=None)})
    it = source.events()
    first = await asyncio.wait_for(it.__anext__(), 3)
    second = await asyncio.wait_for(it.__anext__(), 3)
    assert [first, second] == [BatteryChanged(AIRPODS, 100, 90, None), EarsChanged(AIRPODS, "in", "in")]
    await source.stop()
    assert [e async for e in it] == []  # the iterator ends after stop, like the BlueZ backend's


async def test_a_changed_advert_yields_only_what_changed(fake, scanning):
    _, events, _ = await scanning()
    fake.add_advert(PODS_LE, {APPLE: proximity_pairing(PRO2, left=100, right=90, case=None)})
    await events.wait(lambda e: isinstance(e, EarsChanged))
    fake.update_advert(PODS_LE, {APPLE: proximity_pairing(PRO2, left=80, right=90, case=None)})
    assert await events.wait(lambda e: e.left == 80) == BatteryChanged(AIRPODS, 80, 90, None)
    fake.update_advert(PODS_LE, {APPLE: proximity_pairing(PRO2, left=80, right=90, right_in_ear=False)})
    assert await events.wait(lambda e: e.right == "out") == EarsChanged(AIRPODS, "in", "out")
    assert len(events.items) == 4  # battery, ears, battery, ears: nothing repeated


MAX2_TAIL = "F6 8F 03 14 04 E1 8B 99 98 20 0B C3 C1 12 2D B0 43 98 94 D6 A0"  # capod AirPodsMax2Test.kt captures


async def test_airpods_max_2_adverts_yield_one_battery_and_the_worn_state(fake, scanning):
    _, events, _ = await scanning(hints={"airpods-max-2": AIRPODS})
    fake.add_advert(PODS_LE, {APPLE: bytes.fromhex("07 19 01 2D 20 2B " + MAX2_TAIL)})  # both ear-cup bits: worn
    await events.wait(lambda e: isinstance(e, WornChanged))
    fake.update_advert(PODS_LE, {APPLE: bytes.fromhex("07 19 01 2D 20 20 " + MAX2_TAIL)})  # bit 5 alone: off
    await events.wait(lambda e: isinstance(e, WornChanged) and not e.worn)
    assert events.items == [BatteryChanged(AIRPODS, 60, None, None), WornChanged(AIRPODS, True),
                            WornChanged(AIRPODS, False)]  # no ears: head detection is not in-ear detection


async def test_an_unchanged_advert_yields_no_event(fake, scanning):
    _, events, sightings = await scanning()
    payload = proximity_pairing(PRO2, left=100, right=90, case=50)
    fake.add_advert(PODS_LE, {APPLE: payload}, rssi=-50)
    await events.wait(lambda e: isinstance(e, EarsChanged))
    fake.update_advert(PODS_LE, {APPLE: payload}, rssi=-60)  # bleak reports it again (RSSI changed) ...
    await sightings.wait(lambda s: s.rssi == -60)
    fake.update_advert(PODS_LE, {APPLE: payload}, rssi=-55)
    await sightings.wait(lambda s: s.rssi == -55)
    assert len(events.items) == 2  # ... and the debounce drops it


async def test_non_apple_and_malformed_adverts_yield_nothing_and_do_not_stop_the_scanner(fake, scanning):
    _, events, sightings = await scanning()
    fake.add_advert("70:00:00:00:00:01", {0x0006: b"\x01\x09\x20\x02"})  # Microsoft, not Apple
    fake.add_advert("70:00:00:00:00:02", {APPLE: bytes.fromhex("0715010220") + bytes(18)})  # neither 0x19 nor 0x13
    fake.add_advert("70:00:00:00:00:06", {APPLE: bytes.fromhex("0713010220") + bytes(16)})  # a clone: read, not paired
    fake.add_advert("70:00:00:00:00:03", {APPLE: proximity_pairing(PRO2, left=50)[:12]})  # truncated
    fake.add_advert("70:00:00:00:00:04", {APPLE: bytes.fromhex("10050118 4c1a2b")})  # Nearby Info (a phone)
    fake.add_advert("70:00:00:00:00:05", {APPLE: b"\x07"})  # one byte
    unreadable = {"70:00:00:00:00:02", "70:00:00:00:00:03", "70:00:00:00:00:05"}
    for address in unreadable:
        s: Sighting = await sightings.wait(lambda s, a=address: s.address == a)
        assert s.status is None and s.error
    clone: Sighting = await sightings.wait(lambda s: s.address == "70:00:00:00:00:06")
    assert clone.status.genuine is False and clone.status.model is None and clone.error is None
    fake.add_advert(PODS_LE, {APPLE: proximity_pairing(PRO2, left=70, right=60)})
    await events.wait(lambda e: isinstance(e, EarsChanged))
    assert events.items == [BatteryChanged(AIRPODS, 70, 60, None), EarsChanged(AIRPODS, "in", "in")]
    assert {s.address for s in sightings.items} == unreadable | {PODS_LE, "70:00:00:00:00:06"}  # non-Apple, non-0x07: none


async def test_adverts_pair_by_model_with_the_connected_device(fake, scanning, airpods, make_backend):
    fake.add_device(airpods, connected=True)
    backend, _ = await make_backend()
    assert set(backend.announced()) == {AIRPODS}
    _, events, sightings = await scanning(hints=None, accessories=backend.announced)
    fake.add_advert("60:00:00:00:00:01", {APPLE: proximity_pairing(0x200F, left=10, right=10)})  # AirPods 2: not ours
    fake.add_advert(PODS_LE, {APPLE: proximity_pairing(PRO2, left=40, right=30, case=100)})
    assert await events.wait(lambda e: isinstance(e, BatteryChanged)) == BatteryChanged(AIRPODS, 40, 30, 100)
    # someone else's AirPods Pro 2 while ours are still heard: held off (address hold)
    fake.add_advert(OTHER_LE, {APPLE: proximity_pairing(PRO2, left=0, right=0, case=0)})
    await sightings.wait(lambda s: s.address == OTHER_LE)
    assert [e for e in events.items if isinstance(e, BatteryChanged)] == [BatteryChanged(AIRPODS, 40, 30, 100)]
    assert {s.address for s in sightings.items} >= {"60:00:00:00:00:01", PODS_LE, OTHER_LE}


async def test_scan_prints_the_decoded_line(fake, private_bus, monkeypatch):
    monkeypatch.setenv("DBUS_SYSTEM_BUS_ADDRESS", private_bus.address)
    lines: list[str] = []
    ready = asyncio.get_running_loop().create_future()
    task = asyncio.ensure_future(scan_cli.scan(private_bus.address, out=lines.append, ready=ready))
    await asyncio.wait_for(ready, 3)
    fake.add_advert(PODS_LE, {APPLE: proximity_pairing(PRO2, left=100, right=90, case=None)}, name="Kim's", rssi=-42)
    fake.add_advert(OTHER_LE, {APPLE: bytes.fromhex("0713010220") + bytes(16)})
    for _ in range(60):
        if len(lines) >= 3:
            break
        await asyncio.sleep(0.05)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert lines[0].startswith(f"scanning {private_bus.address} for Apple proximity adverts (read-only")
    decoded = next(line for line in lines if line.startswith(PODS_LE))
    assert decoded == (f'{PODS_LE}  rssi  -42  0x2014 airpods-pro-2 "AirPods Pro (2nd generation, Lightning)"  '
                       "battery L 100% R 90% case --  in-ear L in R in  lid --  idle")
    clone = next(line for line in lines if line.startswith(OTHER_LE))
    assert "0x2002 clone (not genuine; claims this product id)  battery L 0% R 0% case 0%" in clone
    assert not fake.discovery_sessions


def _args(*argv: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="routesim")
    scan_cli.add_command(parser.add_subparsers())
    return parser.parse_args(["scan", *argv])


def test_scan_runs_for_seconds_and_says_one_line_errors(private_bus, tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("DBUS_SYSTEM_BUS_ADDRESS", private_bus.address)  # restored after the test
    args = _args("--bus", f"unix:path={tmp_path}/nothing", "--seconds", "0.1")
    assert args.func(args) == 1
    assert capsys.readouterr().err == (f"routesim scan: no D-Bus system bus at unix:path={tmp_path}/nothing "
                                       "(No such file or directory)\n")
    args = _args("--bus", private_bus.address, "--seconds", "0.1")  # no fake: nobody owns org.bluez
    assert args.func(args) == 1
    err = capsys.readouterr().err
    assert err.startswith("routesim scan: bluetoothd is not running") and err.count("\n") == 1
    args = _args("--seconds", "0")
    assert args.func(args) == 1 and "positive" in capsys.readouterr().err


async def test_scan_with_the_adapter_powered_off_is_one_line(fake, private_bus, monkeypatch, capsys):
    monkeypatch.setenv("DBUS_SYSTEM_BUS_ADDRESS", private_bus.address)
    fake.set_powered(False)
    lines: list[str] = []
    assert await scan_cli.scan(private_bus.address, seconds=0.1, out=lines.append) == 1
    assert lines == []
    assert capsys.readouterr().err == "routesim scan: the Bluetooth adapter is powered off (bluetoothctl power on)\n"


async def test_an_adapter_bleak_cannot_read_is_an_error_not_a_crash(fake, private_bus, monkeypatch):
    monkeypatch.setenv("DBUS_SYSTEM_BUS_ADDRESS", private_bus.address)
    fake.set_raw(fake.adapter_path, "org.bluez.Adapter1", "Roles", None)  # bleak indexes Roles directly
    source = AdvertSource(private_bus.address, clock=WallClock())
    with pytest.raises(BluezError, match="bleak could not read BlueZ's adapter: KeyError"):
        await source.start()
    await source.stop()


async def test_scan_seconds_ends_cleanly(fake, private_bus, monkeypatch):
    monkeypatch.setenv("DBUS_SYSTEM_BUS_ADDRESS", private_bus.address)
    lines: list[str] = []
    assert await scan_cli.scan(private_bus.address, seconds=0.2, out=lines.append) == 0
    assert lines and "0.2 s" in lines[0]
    assert not fake.discovery_sessions


async def test_the_route_manager_runs_the_advert_source_next_to_the_bluez_backend(fake, scanning, airpods, make_backend,
                                                                                  catalog):
    from routesim.routes.live.manager import RouteManager
    from routesim.routes.phone.session import Phone

    phone = Phone()
    phone.set_category("playback", "default", ())
    manager = RouteManager(phone, catalog, strict=False, keep_pending=False)
    fake.add_device(airpods, connected=True)
    backend, _ = await make_backend()
    source, events, _ = await scanning(hints=None, accessories=backend.announced)
    task = asyncio.create_task(manager.run(backend.events(), source))  # the source itself is an async iterator
    try:
        fake.add_advert(PODS_LE, {APPLE: proximity_pairing(PRO2, left=60, right=50, left_in_ear=False,
                                                           right_in_ear=False)})
        await events.wait(lambda e: isinstance(e, EarsChanged))
        for _ in range(100):
            acc = phone.accessories.get(AIRPODS)
            if acc is not None and acc.ears == {"left": "out", "right": "out"}:
                break
            await asyncio.sleep(0.01)
        assert acc.ears == {"left": "out", "right": "out"} and acc.battery == {"left": 60, "right": 50}
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)


async def test_a_rotated_address_is_taken_once_the_old_one_is_silent_and_faint_adverts_are_dropped(fake, scanning):
    from routesim.clock import VirtualClock

    clock = VirtualClock()
    _, events, sightings = await scanning(clock=clock, min_rssi=-80)
    fake.add_advert(PODS_LE, {APPLE: proximity_pairing(PRO2, left=90, right=90)})
    await events.wait(lambda e: isinstance(e, EarsChanged))
    fake.add_advert(OTHER_LE, {APPLE: proximity_pairing(PRO2, left=80, right=90)})  # rotated, old one still heard
    await sightings.wait(lambda s: s.address == OTHER_LE)
    assert len(events.items) == 2
    clock.advance(31)  # the old address has been silent longer than address_hold (30 s)
    fake.update_advert(OTHER_LE, {APPLE: proximity_pairing(PRO2, left=70, right=90)})
    assert await events.wait(lambda e: isinstance(e, BatteryChanged) and e.left == 70) == \
        BatteryChanged(AIRPODS, 70, 90, None)
    fake.update_advert(OTHER_LE, {APPLE: proximity_pairing(PRO2, left=10, right=90)}, rssi=-90)  # too faint
    await sightings.wait(lambda s: s.rssi == -90)
    assert events.items[-1] == BatteryChanged(AIRPODS, 70, 90, None)
