"""What a BlueZ device is called and which catalog model it is.

The catalog is data from outside (``profiles.catalog``, user quirk files): any failure in it falls back
to generic models rather than stopping live mode.
"""
from __future__ import annotations

import logging
from typing import Any, Iterable

from routesim.bt.bluez.constants import A2DP_SINK, AUDIO_UUIDS

log = logging.getLogger("routesim.bt.bluez")


class _GenericCatalog:
    """Used only when ``profiles.catalog`` cannot be loaded: generic ids from the UUIDs (spec ids)."""

    def from_modalias(self, text: str) -> Any:
        return None

    def generic_for_uuids(self, uuids: Iterable[str]) -> Any:
        u = set(uuids)
        a2dp, hfp = A2DP_SINK in u, bool(u & (AUDIO_UUIDS - {A2DP_SINK}))
        ident = "generic-headset" if a2dp and hfp else "generic-speaker" if a2dp else "generic-hfp-only"
        return type("GenericModel", (), {"id": ident})()


def load_catalog() -> Any:
    try:
        from routesim.profiles.catalog import default_catalog

        return default_catalog()
    except Exception as exc:  # the catalog is data from outside; never let it stop live mode
        log.warning("model catalog unavailable (%s); devices get generic models", exc)
        return _GenericCatalog()


def display_name(d: dict[str, Any]) -> str:
    """What a phone would show: BlueZ's Alias (which already falls back to Name), else the address."""
    return d.get("Alias") or d.get("Name") or d.get("Address", "?").replace(":", "-")


def model_id(catalog: Any, d: dict[str, Any]) -> str:
    modalias = d.get("Modalias")
    try:
        if modalias:
            model = catalog.from_modalias(modalias)
            if model is not None:
                return model.id
        uuids = d.get("UUIDs", [])
        if not AUDIO_UUIDS & set(uuids):
            return "unknown"  # not an audio device (a BLE advert, a keyboard …)
        return catalog.generic_for_uuids(uuids).id
    except Exception as exc:
        log.warning("catalog could not resolve %s (%s); using generic-headset", modalias, exc)
        return "generic-headset"


def in_catalog(catalog: Any, d: dict[str, Any]) -> bool:
    """True when the device's Modalias names a catalog model."""
    try:
        return bool(d.get("Modalias") and catalog.from_modalias(d["Modalias"]) is not None)
    except Exception:
        return False
