"""A device whose advert properties have the wrong D-Bus type, through bleak's real scanner on the fake
org.bluez: ``routesim scan`` goes on, and what bleak trips over becomes one line per device, never a
traceback (python-dbusmock's bluez5 template exports ManufacturerData as ``aa{qv}``)."""
from __future__ import annotations

import asyncio
import logging

import pytest
from dbus_fast import Variant

from routesim.bt.fake_bluez import APPLE, proximity_pairing
from routesim.routes.cli import scan as scan_cli

BROKEN = "5E:11:22:33:44:55"
GOOD = "6F:11:22:33:44:66"
PRO2 = 0x2014

ROWS = [  # (property, the wrong value, what the one line says)
    ("ManufacturerData", Variant("aa{qv}", [{APPLE: Variant("ay", b"\x07\x19")}]), "bleak cannot read its properties"),
    ("ServiceData", Variant("as", ["0000fd6f"]), "bleak cannot read its properties"),
    ("RSSI", Variant("s", "loud"), "RSSI is str 'loud'"),
]


@pytest.mark.parametrize("name, value, line", ROWS, ids=[r[0] + "-" + r[1].signature for r in ROWS])
async def test_a_mistyped_advert_property_is_one_line_per_device(fake, private_bus, monkeypatch, caplog, capfd,
                                                                  name, value, line):
    monkeypatch.setenv("DBUS_SYSTEM_BUS_ADDRESS", private_bus.address)
    caplog.set_level(logging.DEBUG)
    printed: list[str] = []
    ready: asyncio.Future = asyncio.get_running_loop().create_future()
    task = asyncio.create_task(scan_cli.scan(private_bus.address, seconds=1.5, out=printed.append, ready=ready))
    await asyncio.wait_for(ready, 10)
    # The device appears while the scan runs, so bleak reads it from InterfacesAdded and its changes.
    broken = fake.add_advert(BROKEN, {APPLE: proximity_pairing(PRO2, left=100, right=90, case=None)})
    fake.set_raw(broken.path, "org.bluez.Device1", name, value)
    for level in (80, 70, 60):  # every change of the broken device is another signal bleak parses
        fake.update_advert(BROKEN, {APPLE: proximity_pairing(PRO2, left=level, right=90, case=None)})
        await asyncio.sleep(0.05)
    fake.add_advert(GOOD, {APPLE: proximity_pairing(PRO2, left=50, right=50, case=None)})
    assert await task == 0
    assert any(p.startswith(GOOD) for p in printed), printed  # the scan went on for the others
    ours = [r for r in caplog.records if line in r.getMessage()]
    assert len(ours) == 1, [r.getMessage()[:200] for r in caplog.records if r.name.startswith(("dbus_fast", "routesim"))]
    assert broken.path in ours[0].getMessage() or BROKEN in ours[0].getMessage()
    assert not [r for r in caplog.records if r.exc_info], "a record with a traceback"
    assert "Traceback" not in capfd.readouterr().err
    assert not logging.getLogger("dbus_fast.message_bus").filters  # gone with the scanner
