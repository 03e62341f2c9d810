"""The fake's object tree, computed from its state with the D-Bus types BlueZ uses, and the signals
that turn what clients have seen into it.

Computing the whole tree and diffing (instead of emitting signals by hand at each change) is what
keeps the fake's signals consistent with ``GetManagedObjects`` whatever the drivers do.
"""
from __future__ import annotations

from typing import Iterator, Protocol

from dbus_fast import Message, Variant

from routesim.bt.bluez.constants import (
    A2DP_SINK,
    A2DP_SOURCE,
    ADAPTER,
    BATTERY,
    DEVICE,
    ENDPOINT,
    HFP_AG,
    OBJECT_MANAGER,
    PNP_INFO,
    PROPERTIES,
    TRANSPORT,
)

from routesim.bt.fake_bluez.a2dp import codec_byte as a2dp_codec_byte, sink_capabilities
from routesim.bt.fake_bluez.device import FakeDevice, codec_config
from routesim.bt.fake_bluez.interfaces import AGENT_MANAGER, MEDIA, PROFILE_MANAGER, Tree
from routesim.bt.fake_bluez.monitors import MONITOR_MANAGER, manager_properties



class FakeState(Protocol):
    """What the exported tree is built from (the fake bluetoothd's state; FakeBluez provides it)."""
    adapter_path: str
    adapter_address: str
    adapter_name: str
    powered: bool
    discovery_sessions: set[str]
    adapter_overrides: dict[str, Variant | None]
    devices: dict[str, FakeDevice]
    raw_objects: Tree
    audio_server: bool

Props = dict[str, Variant]


def with_overrides(props: Props, overrides: dict[str, Variant | None]) -> Props:
    """``props`` with raw values injected by tests (``None`` removes the property)."""
    for name, value in overrides.items():
        if value is None:
            props.pop(name, None)
        else:
            props[name] = value
    return props


def adapter_properties(fake: FakeState) -> Props:
    props = {
        "Address": Variant("s", fake.adapter_address),
        "AddressType": Variant("s", "public"),
        "Name": Variant("s", fake.adapter_name),
        "Alias": Variant("s", fake.adapter_name),
        "Class": Variant("u", 0x7C010C),
        "Connectable": Variant("b", True),
        "Powered": Variant("b", fake.powered),
        "PowerState": Variant("s", "on" if fake.powered else "off"),
        "Discoverable": Variant("b", False),
        "DiscoverableTimeout": Variant("u", 180),
        "Pairable": Variant("b", True),
        "PairableTimeout": Variant("u", 0),
        "Discovering": Variant("b", bool(fake.discovery_sessions)),
        "UUIDs": Variant("as", [A2DP_SOURCE, HFP_AG, PNP_INFO]),
        "Modalias": Variant("s", "usb:v1D6Bp0246d0555"),
        "Roles": Variant("as", ["central", "peripheral"]),
    }
    return with_overrides(props, fake.adapter_overrides)


def device_properties(dev: FakeDevice, adapter_path: str) -> Props:
    """Device1 as bluetoothd shows it: optional properties (Name, Modalias, RSSI …) only when known."""
    acc = dev.accessory
    props: Props = {
        "Address": Variant("s", dev.address),
        "AddressType": Variant("s", acc.address_type),
        "Alias": Variant("s", dev.alias_value),
        "Paired": Variant("b", dev.paired),
        "Bonded": Variant("b", dev.bonded),
        "Trusted": Variant("b", dev.trusted),
        "Blocked": Variant("b", False),
        "LegacyPairing": Variant("b", False),
        "Connected": Variant("b", dev.connected),
        "ServicesResolved": Variant("b", dev.services_resolved),
        "WakeAllowed": Variant("b", False),
        "Adapter": Variant("o", adapter_path),
    }
    if dev.name:
        props["Name"] = Variant("s", dev.name)
    if acc.icon:
        props["Icon"] = Variant("s", acc.icon)
    if acc.device_class:
        props["Class"] = Variant("u", acc.device_class)
    if acc.modalias:
        props["Modalias"] = Variant("s", acc.modalias)
    if acc.uuids:
        props["UUIDs"] = Variant("as", list(acc.uuids))
    if dev.rssi is not None:
        props["RSSI"] = Variant("n", dev.rssi)
    if dev.manufacturer_data:
        props["ManufacturerData"] = Variant(
            "a{qv}", {cid: Variant("ay", bytes(data)) for cid, data in dev.manufacturer_data.items()}
        )
    return with_overrides(props, dev.overrides.get(DEVICE, {}))


def desired_tree(fake: FakeState) -> Tree:
    """Everything the fake bluetoothd exports right now. Battery1 exists only while HFP is up (on real
    systems it comes from PipeWire's HFP backend); endpoint and transport only for A2DP, never HFP.
    ``/org/bluez`` carries the profile and agent managers and the adapter ``Media1``, as bluetoothd's
    do: PipeWire starts its HFP backend only when it sees ``ProfileManager1`` there [DEV PipeWire-bluez5]."""
    tree: Tree = {
        "/org/bluez": {AGENT_MANAGER: {}, PROFILE_MANAGER: {}},
        fake.adapter_path: {ADAPTER: adapter_properties(fake), MEDIA: {}},
    }
    if getattr(fake, "monitor_support", False):  # passive scanning (bt.fake_bluez.monitors)
        tree[fake.adapter_path][MONITOR_MANAGER] = manager_properties()
    for dev in fake.devices.values():
        ifaces: dict[str, Props] = {DEVICE: device_properties(dev, fake.adapter_path)}
        if dev.connected and dev.hfp_up and dev.battery is not None:
            ifaces[BATTERY] = with_overrides(
                {"Percentage": Variant("y", dev.battery), "Source": Variant("s", "HFP")},
                dev.overrides.get(BATTERY, {}),
            )
        for iface, values in dev.overrides.items():
            if iface not in ifaces and iface not in (DEVICE, BATTERY, TRANSPORT):
                ifaces[iface] = {k: v for k, v in values.items() if v is not None}
        tree[dev.path] = ifaces
        if dev.connected and dev.accessory.has_a2dp and fake.audio_server:
            tree.update(audio_server_endpoints(dev))
        elif dev.connected and dev.accessory.has_a2dp:
            codec_byte, config = codec_config(dev.codec)
            tree[dev.sep_path] = {
                ENDPOINT: {
                    "UUID": Variant("s", A2DP_SINK),
                    "Codec": Variant("y", codec_byte),
                    "Capabilities": Variant("ay", config),
                    "Device": Variant("o", dev.path),
                    "DelayReporting": Variant("b", True),
                }
            }
            if dev.a2dp_up:
                tree[dev.transport_path] = {
                    TRANSPORT: with_overrides(
                        {
                            "Device": Variant("o", dev.path),
                            "UUID": Variant("s", A2DP_SOURCE),
                            "Codec": Variant("y", codec_byte),
                            "Configuration": Variant("ay", config),
                            "State": Variant("s", dev.transport_state),
                            "Volume": Variant("q", dev.volume),
                            "Endpoint": Variant("o", dev.sep_path),
                        },
                        dev.overrides.get(TRANSPORT, {}),
                    )
                }
    for path, ifaces in fake.raw_objects.items():
        tree.setdefault(path, {}).update(ifaces)
    return tree


def audio_server_endpoints(dev: FakeDevice) -> Tree:
    """With an audio server: one remote endpoint per A2DP codec of the headset (``sep1`` … in the
    model's order), and the transport of the configured stream under the endpoint it runs on."""
    tree: Tree = {}
    for index, codec in enumerate(dev.accessory.a2dp_codecs, start=1):
        tree[f"{dev.path}/sep{index}"] = {
            ENDPOINT: {
                "UUID": Variant("s", A2DP_SINK),
                "Codec": Variant("y", a2dp_codec_byte(codec)),
                "Capabilities": Variant("ay", sink_capabilities(codec)),
                "Device": Variant("o", dev.path),
                "DelayReporting": Variant("b", True),
            }
        }
    link = dev.a2dp_link
    if dev.a2dp_up and link is not None:
        props = {
            "Device": Variant("o", dev.path),
            "UUID": Variant("s", link.endpoint.uuid),
            "Codec": Variant("y", link.endpoint.codec),
            "Configuration": Variant("ay", link.configuration),
            "State": Variant("s", dev.transport_state),
            "Volume": Variant("q", dev.volume),
            "Endpoint": Variant("o", dev.sep_path),
        }
        if dev.delay is not None:
            props["Delay"] = Variant("q", dev.delay)
        tree[dev.transport_path] = {TRANSPORT: with_overrides(props, dev.overrides.get(TRANSPORT, {}))}
    return tree


def tree_changes(old: Tree, new: Tree) -> Iterator[Message]:
    """The signals BlueZ would emit going from ``old`` to ``new``, in its order: removals (deepest
    first), property changes (only changed keys; removed ones invalidated), additions (parents first).
    ObjectManager signals come from ``/``, PropertiesChanged from the object's own path."""
    depth = lambda p: (p.count("/"), p)  # noqa: E731
    for path in sorted(old, key=depth, reverse=True):
        gone = [i for i in old[path] if i not in new.get(path, {})]
        if gone:
            yield Message.new_signal("/", OBJECT_MANAGER, "InterfacesRemoved", "oas", [path, gone])
    for path in sorted(new, key=depth):
        for iface, props in new[path].items():
            before = old.get(path, {}).get(iface)
            if before is None:
                continue
            changed = {k: v for k, v in props.items() if k not in before or not _same(before[k], v)}
            invalidated = [k for k in before if k not in props]
            if changed or invalidated:
                yield Message.new_signal(path, PROPERTIES, "PropertiesChanged", "sa{sv}as", [iface, changed, invalidated])
    for path in sorted(new, key=depth):
        added = {i: p for i, p in new[path].items() if i not in old.get(path, {})}
        if added:
            yield Message.new_signal("/", OBJECT_MANAGER, "InterfacesAdded", "oa{sa{sv}}", [path, added])


def copy_tree(tree: Tree) -> Tree:
    """A copy whose dicts later changes cannot reach (Variants are never mutated)."""
    return {p: {i: dict(v) for i, v in ifs.items()} for p, ifs in tree.items()}


def _same(a: Variant, b: Variant) -> bool:
    return a.signature == b.signature and a.value == b.value
