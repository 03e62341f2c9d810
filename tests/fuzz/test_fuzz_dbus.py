"""D-Bus property values and advert bytes from outside: every property is type-checked before use (a
mistyped one is dropped), every advert payload is decoded or reported as unreadable; nothing raises."""
from __future__ import annotations

from types import SimpleNamespace

import pytest
from dbus_fast import Variant
from hypothesis import given, strategies as st

from routesim.bt.adverts import AdvertSource
from routesim.bt.bluez.constants import ADAPTER, BATTERY, DEVICE, TRANSPORT
from routesim.bt.bluez.object_tree import ObjectTree
from routesim.bt.bluez.values import SCHEMA, clean_properties
from routesim.bt.fake_bluez import APPLE, proximity_pairing
from routesim.clock import VirtualClock
from routesim.profiles.catalog import default_catalog
from tests.fuzz.settings import examples

PY_TYPES = {"s": str, "o": str, "b": bool, "y": int, "q": int, "u": int, "as": list, "ay": bytes}

# (signature, values) pairs dbus-fast accepts, typed right or wrong for any property.
variants = st.one_of(
    st.text(max_size=40).map(lambda s: Variant("s", s)),
    st.booleans().map(lambda b: Variant("b", b)),
    st.integers(0, 255).map(lambda i: Variant("y", i)),
    st.integers(0, 65535).map(lambda i: Variant("q", i)),
    st.integers(0, 2 ** 32 - 1).map(lambda i: Variant("u", i)),
    st.integers(-2 ** 31, 2 ** 31 - 1).map(lambda i: Variant("i", i)),
    st.floats(allow_nan=True).map(lambda f: Variant("d", f)),
    st.lists(st.text(max_size=40), max_size=4).map(lambda v: Variant("as", v)),
    st.binary(max_size=32).map(lambda b: Variant("ay", b)),
    st.dictionaries(st.integers(0, 65535), st.binary(max_size=8).map(lambda b: Variant("ay", b)), max_size=3)
      .map(lambda d: Variant("a{qv}", d)),
    st.lists(st.dictionaries(st.integers(0, 65535), st.binary(max_size=8).map(lambda b: Variant("ay", b)),
                             max_size=2), max_size=2).map(lambda v: Variant("aa{qv}", v)),
    st.just("not a variant"), st.none(), st.integers(),
)
names = st.one_of(st.sampled_from(sorted({n for props in SCHEMA.values() for n in props})), st.text(max_size=12))
interfaces = st.sampled_from([ADAPTER, DEVICE, TRANSPORT, BATTERY, "org.bluez.Other1"])


@examples(suite=150)
@given(iface=interfaces, props=st.one_of(st.dictionaries(names, variants, max_size=8), st.lists(st.integers())))
def test_only_well_typed_known_properties_get_through(iface, props):
    clean = clean_properties("/org/bluez/hci0/dev_AA", iface, props, set())
    schema = SCHEMA.get(iface, {})
    for name, value in clean.items():
        sig = schema[name]
        assert isinstance(value, PY_TYPES[sig]), (name, sig, value)
        assert props[name].signature == sig


@examples(suite=60)
@given(changes=st.lists(st.tuples(interfaces, st.dictionaries(names, variants, max_size=4)), max_size=6))
def test_the_object_tree_takes_any_signal_sequence(changes):
    tree = ObjectTree()
    path = "/org/bluez/hci0/dev_AA_BB_CC_DD_EE_01"
    for iface, props in changes:
        tree.add_interfaces(path, {iface: props})
        tree.change_properties(path, iface, props, list(props)[:1])
    for node in tree.objects.values():
        for iface, props in node.items():
            assert set(props) <= set(SCHEMA[iface])


VALID = proximity_pairing(0x2014, left=100, right=90, case=50)


@st.composite
def advert_bytes(draw) -> bytes:
    base = draw(st.sampled_from([VALID, b"", b"\x07", b"\x07\x19", b"\x10\x05\x01\x18"]))
    data = bytearray(base)
    for _ in range(draw(st.integers(0, 4))):
        if data and draw(st.booleans()):
            data[draw(st.integers(0, len(data) - 1))] = draw(st.integers(0, 255))
        else:
            at = draw(st.integers(0, len(data)))
            data[at:at] = draw(st.binary(max_size=4))
    if draw(st.booleans()):
        data = data[: draw(st.integers(0, len(data)))]
    return bytes(data)


def _source(seen: list, events: list) -> AdvertSource:
    return AdvertSource(clock=VirtualClock(), catalog=default_catalog(), on_advert=seen.append,
                        on_event=events.append, hints={"airpods-pro-2": "AA:BB:CC:DD:EE:01"}, min_rssi=-90,
                        preflight=False)


@examples(suite=200)
@given(data=advert_bytes(), rssi=st.one_of(st.integers(-127, 20), st.none()))
def test_any_advert_payload_is_decoded_or_reported_never_raised(data, rssi):
    seen: list = []
    events: list = []
    _source(seen, events).handle("5E:11:22:33:44:55", rssi, data)  # raises nothing
    for s in seen:
        assert (s.status is None) != (s.error is None)


MISTYPED = [  # (rssi, manufacturer data as bleak might pass it on, what the one line names)
    ("loud", VALID, "RSSI is str 'loud'"),
    (True, VALID, "RSSI is bool"),
    (1.5, VALID, "RSSI is float"),
    (-50, list(VALID), "ManufacturerData[0x004C] is list"),
    (-50, VALID.hex(), "ManufacturerData[0x004C] is str"),
]


@pytest.mark.parametrize("rssi, payload, line", MISTYPED)
def test_a_mistyped_advert_value_is_one_line_once_per_address(rssi, payload, line, caplog):
    seen: list = []
    source = _source(seen, [])
    adv = SimpleNamespace(rssi=rssi, manufacturer_data={APPLE: payload})
    for _ in range(3):  # bleak reports every advert: the line comes once
        source._on_advert(SimpleNamespace(address="5E:11:22:33:44:55"), adv)  # bleak's detection callback
    lines = [r.getMessage() for r in caplog.records if r.name == "routesim.bt.adverts"]
    assert len([m for m in lines if line in m]) == 1, lines
    assert not any(r.exc_info for r in caplog.records)


@examples(suite=60)
@given(value=st.one_of(advert_bytes().map(bytes.hex), advert_bytes().map(lambda b: "4c00" + b.hex()),
                       st.text(max_size=40), st.just("bluetooth:v004Cp2014d") .map(lambda s: s + "x" * 3)))
def test_identify_reads_any_argument_or_says_why_not(value):
    from tests.fuzz.promise import run_cli

    if value.startswith("-"):
        value = " " + value  # not an option
    run_cli(["identify", value], allowed=(0, 1, 2), about_a_file=False)
