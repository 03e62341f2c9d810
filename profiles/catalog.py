"""The model catalog: one YAML file per model under ``fixtures/models``, quirks under ``fixtures/quirks``,
loaded with PyYAML's safe composer (nodes, so every error names file and line) and validated strictly.

Model file schema (every fact carries a tagged source: either the group's ``source`` or the fact's own,
written ``fact: {value: X, source: "[TAG] reference"}``)::

    id: airpods-pro-2                         # must equal the file name
    device:    {name, product, kind, transport, source}
    identity:  {vendor_id, product_id, advert_model, source}   # nulls for generic models
    profiles:  {supported: [a2dp, hfp, avrcp, le-audio, aap], source}
    a2dp:      {codecs: [aac, sbc], sample_rate: 48000, source}            # iff a2dp is supported
    hfp:       {codecs: [{codec, platform: ">=18", source}, ...], source}   # iff hfp; best first
    hardware:  {microphones, in_ear_detection, case, battery: [left, right, case] | [single] | [],
                high_quality_recording?: bool, source}
    ports:     {output, input, input_rate?, source}                         # wired, usb and car only
    advert:    {worn: status-bit-5 | earcup-bits | null, source}            # optional: how adverts say "worn"

``_catalog.yaml`` (optional) gives the catalog order: ``order: [id, ...]``; without it files load in name
order. Quirk files: ``quirks: [{id, effect, params, match: {product_ids, vendor_id, firmware}, platform,
when, source, confidence, summary}, ...]`` (see ``profiles.quirks``).
"""
from __future__ import annotations

import dataclasses
import functools
import re
from importlib import resources
from importlib.resources.abc import Traversable
from pathlib import Path
from typing import Iterable, Iterator, Sequence

from routesim.profiles import continuity
from routesim.profiles.model import Model, Quirk
from routesim.profiles.model_file import load_models_dir
from routesim.profiles.platform import Platform
from routesim.profiles.quirk_file import load_quirks_dir
from routesim.profiles.quirks import parse_firmware, suggest
from routesim.profiles.catalog_fields import CatalogError

APPLE = continuity.APPLE

GENERIC_HEADSET = "generic-headset"
GENERIC_SPEAKER = "generic-speaker"
GENERIC_HFP_ONLY = "generic-hfp-only"

# Bluetooth SIG 16-bit UUIDs.
_BASE_UUID_TAIL = "-0000-1000-8000-00805f9b34fb"
_HFP_HSP_HEADSET = {0x111E, 0x1108, 0x1131}  # HFP Hands-Free, HSP Headset (and BlueZ's "Headset HS")
_A2DP_SINK = {0x110B}


class UnknownModel(KeyError):
    def __init__(self, model_id: object, suggestion: str | None):
        self.model_id, self.suggestion = model_id, suggestion
        hint = f"; did you mean {suggestion!r}?" if suggestion else ""
        super().__init__(f"unknown model {model_id!r}{hint}")

    def __str__(self) -> str:
        return str(self.args[0])


class NoAudioProfile(ValueError):
    """The UUIDs name no audio sink or headset profile, so no generic model fits."""


# ---------------------------------------------------------------------------------------------- catalog ---


class Catalog:
    """The loaded models (in catalog order) with their quirks attached, and identity resolution."""

    def __init__(self, models: Iterable[Model], quirk_layers: Sequence[Sequence[Quirk]] = ()):
        self._loaded: list[tuple[int, Quirk]] = [(i, q) for i, layer in enumerate(quirk_layers) for q in layer]
        effective: dict[str, Quirk] = {}
        for _, q in self._loaded:  # a later quirk with the same id replaces the earlier one
            effective.pop(q.id, None)
            effective[q.id] = q
        self._quirks = tuple(effective.values())
        self._models: dict[str, Model] = {}
        self._by_pid: dict[tuple[int, int], Model] = {}
        for m in models:
            if m.id in self._models:
                raise CatalogError([f"{m.origin}:1: field 'id': {m.id!r} is defined twice; each id names one model"])
            attached = tuple(q for q in self._quirks if q.vendor_id == m.vendor_id and m.product_id in q.product_ids)
            m = dataclasses.replace(m, quirks=attached)
            self._models[m.id] = m
            if m.product_id is not None and m.vendor_id is not None:
                self._by_pid[(m.vendor_id, m.product_id)] = m

    # --- lookup ---
    def get(self, model_id: str) -> Model:
        try:
            return self._models[model_id]
        except (KeyError, TypeError):
            raise UnknownModel(model_id, suggest(model_id, self._models)) from None

    def ids(self) -> list[str]:
        return list(self._models)

    def models(self) -> list[Model]:
        return list(self._models.values())

    def __contains__(self, model_id: object) -> bool:
        return model_id in self._models

    def __iter__(self) -> Iterator[Model]:
        return iter(self._models.values())

    def __len__(self) -> int:
        return len(self._models)

    # --- identity ---
    def by_product_id(self, product_id: int, vendor_id: int = APPLE) -> Model | None:
        return self._by_pid.get((vendor_id, product_id))

    _MODALIAS_RX = re.compile(r"^(bluetooth|usb):v([0-9A-Fa-f]{4})p([0-9A-Fa-f]{4})(?:d([0-9A-Fa-f]{4}))?$")

    def from_modalias(self, text: str) -> Model | None:
        """``bluetooth:v004Cp2014d0B21`` (BlueZ ``Device1.Modalias``, BlueZ-modalias). The ``d`` field
        is firmware-dependent and ignored. ``usb:`` forms carry USB-IF vendor ids, a different numbering from
        the Bluetooth SIG company ids the catalog holds, so they match nothing."""
        if not isinstance(text, str):
            return None
        m = self._MODALIAS_RX.match(text.strip())
        if not m or m.group(1) != "bluetooth":
            return None
        return self.by_product_id(int(m.group(3), 16), int(m.group(2), 16))

    def from_advertisement(self, payload: bytes) -> Model | None:
        """Apple manufacturer data (company 0x004C, without the company id, as bleak's ``manufacturer_data[76]``
        gives it): a sequence of TLVs; the 0x07 proximity-pairing TLV of a genuine device has length 0x19 and
        prefix 0x01, and bytes 3-4 hold the product id little-endian (furiousMAC, capod, librepods). Other
        lengths (clones send 0x13) and prefixes (0x00, pairing mode) are not identified. The walk is
        :func:`profiles.continuity.proximity_pairing`, shared with the status decoder (``bt.adverts``)."""
        try:
            data = bytes(payload)
        except (TypeError, ValueError):
            return None
        try:
            record = continuity.proximity_pairing(data)
        except continuity.ContinuityError:
            return None  # truncated record, clone length, pairing-mode prefix
        if record is None:
            return None
        return self.by_product_id(continuity.product_id(record), APPLE)

    def generic_for_uuids(self, uuids: Iterable[str]) -> Model:
        """The generic model for a device the catalog does not know, from its service UUIDs
        (``Device1.UUIDs``): HFP/HSP headset + A2DP sink -> generic-headset (narrowband: the UUIDs cannot tell
        whether it has mSBC [INF]), A2DP sink only -> generic-speaker, HFP/HSP only -> generic-hfp-only."""
        short = {s for s in (_short_uuid(u) for u in uuids) if s is not None}
        headset, sink = bool(short & _HFP_HSP_HEADSET), bool(short & _A2DP_SINK)
        if headset and sink:
            return self.get(GENERIC_HEADSET)
        if sink:
            return self.get(GENERIC_SPEAKER)
        if headset:
            return self.get(GENERIC_HFP_ONLY)
        raise NoAudioProfile(
            "the UUIDs name neither an A2DP sink (0000110b) nor an HFP/HSP headset (0000111e, 00001108); "
            "no generic audio model fits"
        )

    # --- quirks ---
    def quirks(self) -> tuple[Quirk, ...]:
        """Effective quirks, bundled first then user layers (a same-id user quirk replaces the bundled one)."""
        return self._quirks

    def loaded_quirks(self) -> list[tuple[int, Quirk]]:
        """Every quirk as loaded, with its layer index (0 = bundled), replaced ones included (for lint)."""
        return list(self._loaded)

    def quirks_for(self, model: Model, platform: Platform, firmware: str | None) -> list[Quirk]:
        """Quirks matching the model's product id that apply on this platform and firmware (unknown firmware:
        firmware-scoped quirks apply). ``when`` conditions are the session's to check
        (``profiles.quirks.session_matches``). Raises ValueError for an unparseable firmware string."""
        if model.product_id is None or model.vendor_id is None:
            return []
        fw = parse_firmware(firmware) if firmware is not None else None
        return [
            q for q in self._quirks
            if q.vendor_id == model.vendor_id and model.product_id in q.product_ids and q.applies(platform, fw)
        ]


def _short_uuid(text: object) -> int | None:
    if not isinstance(text, str):
        return None
    t = text.strip().lower()
    if t.startswith("0x"):
        t = t[2:]
    if len(t) == 36 and t.endswith(_BASE_UUID_TAIL):
        t = t[:8]
    if re.fullmatch(r"[0-9a-f]{4}|[0-9a-f]{8}", t):
        v = int(t, 16)
        return v if v <= 0xFFFF else None
    return None


def _bundled(sub: str) -> Traversable:
    return resources.files("routesim.fixtures").joinpath(sub)


def load_catalog(extra_quirk_dirs: Sequence[Path] = (), *, models_dir: Path | Traversable | None = None,
                 bundled_quirks: bool = True) -> Catalog:
    """Load the bundled models (or ``models_dir``) and quirks, with ``extra_quirk_dirs`` layered over the bundled
    quirks in order; raises CatalogError listing every problem."""
    errors: list[str] = []
    models: list[Model] = []
    try:
        if models_dir is None:
            models = load_models_dir(_bundled("models"), label="fixtures/models")
        else:
            models = load_models_dir(models_dir)
    except CatalogError as e:
        errors += e.errors
    layers: list[list[Quirk]] = []
    dirs: list[tuple[Path | Traversable, str | None]] = []
    if bundled_quirks:
        bundled = _bundled("quirks")
        if bundled.is_dir():
            dirs.append((bundled, "fixtures/quirks"))
    dirs += [(Path(d), None) for d in extra_quirk_dirs]
    for d, label in dirs:
        try:
            layers.append(load_quirks_dir(d, label=label))
        except CatalogError as e:
            errors += e.errors
    if errors:
        raise CatalogError(errors)
    return Catalog(models, layers)


@functools.lru_cache(maxsize=1)
def default_catalog() -> Catalog:
    """The bundled catalog, loaded once."""
    return load_catalog()


__all__ = [
    "APPLE", "Catalog", "CatalogError", "NoAudioProfile", "UnknownModel", "default_catalog", "load_catalog",
    "load_models_dir", "load_quirks_dir",
]
