"""What a virtual accessory is before it is on the fake's bus, and how a catalog model looks to BlueZ."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from routesim.bt.bluez.constants import A2DP_SINK, ADVANCED_AUDIO, APPLE_AAP, AVRCP, AVRCP_TARGET, HFP_HF, HFP_UUIDS, PNP_INFO, SDP_SERVER


@dataclass
class VirtualAccessory:
    address: str
    name: str | None  # the remote's own name (Device1.Name); None = unknown
    modalias: str | None = None
    uuids: tuple[str, ...] = ()
    model_id: str | None = None
    battery: int | None = None  # single level, as PipeWire's HFP battery provider reports it
    a2dp_codec: str = "sbc"
    hfp_codec: str = "cvsd"
    icon: str = "audio-headphones"
    device_class: int = 0x240418
    address_type: str = "public"
    a2dp_codecs: tuple[str, ...] = ("sbc",)  # every A2DP codec the headset has, best first
    hfp_codecs: tuple[str, ...] = ("cvsd",)  # every HFP codec, best first

    @property
    def has_a2dp(self) -> bool:
        return A2DP_SINK in self.uuids

    @property
    def has_hfp(self) -> bool:
        return bool(HFP_UUIDS & set(self.uuids))


def uuids_for_model(model: Any) -> tuple[str, ...]:
    """The SDP service UUIDs a model's profiles put in ``Device1.UUIDs`` (remote roles)."""
    uuids = [SDP_SERVER]
    if model.has_a2dp:
        uuids += [A2DP_SINK, AVRCP_TARGET, ADVANCED_AUDIO, AVRCP]
    if model.has_hfp:
        uuids.append(HFP_HF)
    if model.vendor_id is not None and model.product_id is not None:
        uuids.append(PNP_INFO)
    if any(getattr(p, "value", p) == "aap" for p in getattr(model, "profiles", ())):
        uuids.append(APPLE_AAP)
    return tuple(sorted(set(uuids)))


def accessory_from_model(
    model: Any,
    address: str,
    *,
    name: str | None = None,
    firmware: int = 0x0001,
    battery: int | None = None,
) -> VirtualAccessory:
    """A virtual accessory as BlueZ would show the model: Modalias from vendor/product and the DI version
    ``firmware``, UUIDs from its profiles, best codecs first."""
    modalias = None
    if model.modalias_prefix:
        modalias = f"{model.modalias_prefix}d{firmware:04X}"
    hfp = [c.codec for c in getattr(model, "hfp_codecs", ())]
    return VirtualAccessory(
        address=address.upper(),
        name=name if name is not None else model.name,
        modalias=modalias,
        uuids=uuids_for_model(model),
        model_id=model.id,
        battery=battery,
        a2dp_codec=(model.a2dp_codecs[0] if model.a2dp_codecs else "sbc"),
        hfp_codec=(hfp[0] if hfp else "cvsd"),
        a2dp_codecs=tuple(model.a2dp_codecs) or ("sbc",),
        hfp_codecs=tuple(hfp) or ("cvsd",),
    )
