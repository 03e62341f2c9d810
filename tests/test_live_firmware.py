"""Firmware on live rigs: BlueZ's Modalias version (D408) is not a firmware version, so firmware-scoped quirks
are left out (and said so) unless the user states the firmware with --firmware MODEL=VERSION."""
from __future__ import annotations

import pytest

from routesim.events import AccessoryInfo, Connected
from routesim.profiles.catalog import load_catalog
from routesim.profiles.platform import Platform
from routesim.routes.live.firmware import FirmwareArgError, live_quirks, parse_firmware_args
from routesim.routes.live.manager import RouteManager
from routesim.routes.phone.session import Phone

QUIRKS = """\
quirks:
  - id: scoped
    effect: negotiation-delay
    params: {delay: 500ms}
    match: {product_ids: [0x2014], firmware: ">=6A300,<7A305"}
    platform: ">=17.0"
    when: {}
    source: "[DEV] a rig log"
    confidence: one rig
    summary: a firmware-scoped test quirk
  - id: unscoped
    effect: negotiation-delay
    params: {delay: 200ms}
    match: {product_ids: [0x2014]}
    platform: ">=17.0"
    when: {}
    source: "[DEV] a rig log"
    confidence: one rig
    summary: a test quirk for every firmware
"""
IOS = Platform.parse("ios-18.1")


@pytest.fixture(scope="module")
def catalog(tmp_path_factory):
    d = tmp_path_factory.mktemp("quirks")
    (d / "q.yaml").write_text(QUIRKS, encoding="utf-8")
    return load_catalog([d])


@pytest.mark.parametrize("reported,stated,expect_ids,noted", [
    ("D408", {}, {"unscoped"}, True),  # the Modalias version: scoped quirks left out, and said so
    ("D408", {"airpods-pro-2": "6F8"}, {"scoped", "unscoped"}, False),  # stated firmware in range
    ("D408", {"airpods-pro-2": "7A305"}, {"unscoped"}, False),  # stated firmware out of range
    ("0001", {}, {"unscoped"}, True),  # looks like a version, but it is the Device ID version all the same
    (None, {}, {"unscoped"}, True),  # BlueZ gives none: not applied either
])
def test_live_quirks(catalog, reported, stated, expect_ids, noted):
    quirks, note = live_quirks(catalog, catalog.get("airpods-pro-2"), IOS, reported, stated)
    assert {q.id for q in quirks if q.id in ("scoped", "unscoped")} == expect_ids
    assert (note is not None) is noted
    if noted:
        assert note.startswith("firmware-scoped quirks not applied (1 for airpods-pro-2): ")
        assert f"the Modalias version {reported} is not a firmware version" in note if reported \
            else "BlueZ gives no firmware version" in note
        assert note.endswith("; state it with --firmware airpods-pro-2=VERSION")


def test_the_route_manager_says_when_it_leaves_firmware_scoped_quirks_out(catalog):
    notes: list[str] = []
    phone = Phone(platform=IOS)
    manager = RouteManager(phone, catalog, strict=False, on_note=notes.append)
    manager.dispatch(Connected(AccessoryInfo("pods", "airpods-pro-2", "AirPods Pro", "AA:BB:CC:DD:EE:01", "D408")))
    assert "scoped" not in {q.id for q in phone.accessories["pods"].quirks}
    assert notes and notes[0].startswith("pods: firmware-scoped quirks not applied")
    stated = Phone(platform=IOS)
    RouteManager(stated, catalog, strict=False, firmware={"airpods-pro-2": "6F8"}).dispatch(
        Connected(AccessoryInfo("pods", "airpods-pro-2", "AirPods Pro", "AA:BB:CC:DD:EE:01", "D408")))
    assert "scoped" in {q.id for q in stated.accessories["pods"].quirks}


@pytest.mark.parametrize("value,message", [
    ("airpods-pro-2", "write MODEL=VERSION, e.g. airpods-pro-2=7A305"),
    ("airpods-pro-22=7A305", "no catalog model 'airpods-pro-22'"),
    ("airpods-pro-2=D408", "neither a dotted version"),
    ("=7A305", "write MODEL=VERSION"),
])
def test_bad_firmware_argument_is_one_clear_error(catalog, value, message):
    with pytest.raises(FirmwareArgError, match=message):
        parse_firmware_args([value], catalog)


def test_firmware_arguments_parse(catalog):
    assert parse_firmware_args(["airpods-pro-2=7A305", "airpods-max=6.8"], catalog) == {
        "airpods-pro-2": "7A305", "airpods-max": "6.8"}
