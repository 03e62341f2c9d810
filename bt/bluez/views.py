"""Adapters and devices as ``routesim devices`` lists them, read from the object tree."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from routesim.bt.bluez.constants import A2DP_SINK, BATTERY, DEVICE, HFP_HF
from routesim.bt.bluez.device_identity import display_name, model_id
from routesim.bt.bluez.object_tree import ObjectTree
from routesim.bt.bluez.pipewire import CardTable
from routesim.bt.bluez.values import firmware_from_modalias, transport_codec


@dataclass
class DeviceView:
    """A device as ``routesim devices`` lists it."""

    path: str
    address: str
    name: str
    remote_name: str | None
    model_id: str
    modalias: str | None
    firmware: str | None
    profiles: tuple[str, ...]
    connected: bool
    paired: bool
    battery: int | None
    transport: str | None  # "aac active" …
    card_profile: str | None
    adapter: str | None


@dataclass
class AdapterView:
    path: str
    address: str | None
    name: str | None
    powered: bool | None
    discovering: bool | None


def adapter_views(tree: ObjectTree) -> list[AdapterView]:
    return [
        AdapterView(path, a.get("Address"), a.get("Alias") or a.get("Name"), a.get("Powered"), a.get("Discovering"))
        for path, a in tree.adapters()
    ]


def device_views(tree: ObjectTree, cards: CardTable, catalog: Any) -> list[DeviceView]:
    out = []
    for path, ifaces in tree.devices():
        d = ifaces[DEVICE]
        address = d["Address"].upper()
        uuids = d.get("UUIDs", [])
        t = tree.transport_of(path)
        out.append(
            DeviceView(
                path=path,
                address=address,
                name=display_name(d),
                remote_name=d.get("Name"),
                model_id=model_id(catalog, d),
                modalias=d.get("Modalias"),
                firmware=firmware_from_modalias(d.get("Modalias")),
                profiles=tuple(p for p, u in (("a2dp", A2DP_SINK), ("hfp", HFP_HF)) if u in uuids),
                connected=bool(d.get("Connected")),
                paired=bool(d.get("Paired")),
                battery=(ifaces.get(BATTERY) or {}).get("Percentage"),
                transport=(f"{transport_codec(t)} {t.get('State', '?')}" if t else None),
                card_profile=cards.names.get(address),
                adapter=d.get("Adapter"),
            )
        )
    return out
