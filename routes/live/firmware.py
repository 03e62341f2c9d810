"""Which quirks apply to a live device, given what BlueZ says of its firmware and what the user states.

BlueZ's Modalias carries the Device ID version (``bluetooth:v004Cp2014dD408`` → ``D408``), which is not
the firmware version the quirk ranges use (``7A305``); no public source maps one to the other. So live
rigs apply no firmware-scoped quirk unless the user states the firmware (``--firmware MODEL=VERSION``),
and ``devices`` and ``watch`` say so.
"""
from __future__ import annotations

from typing import Any, Mapping, Sequence

from routesim.profiles.quirks import parse_firmware


class FirmwareArgError(ValueError):
    """A bad ``--firmware`` value; the message says what is wrong and what would be right."""


def parse_firmware_args(values: Sequence[str] | None, catalog: Any) -> dict[str, str]:
    """``["airpods-pro-2=7A305", ...]`` → ``{"airpods-pro-2": "7A305"}``; raises FirmwareArgError."""
    out: dict[str, str] = {}
    for value in values or ():
        model_id, sep, version = value.partition("=")
        model_id, version = model_id.strip(), version.strip()
        if not sep or not model_id or not version:
            raise FirmwareArgError(f"--firmware {value!r}: write MODEL=VERSION, e.g. airpods-pro-2=7A305")
        if model_id not in catalog:
            raise FirmwareArgError(f"--firmware {value!r}: no catalog model {model_id!r} (see `routesim models`)")
        try:
            parse_firmware(version)
        except ValueError as exc:
            raise FirmwareArgError(f"--firmware {value!r}: {exc}") from None
        out[model_id] = version
    return out


def is_firmware_scoped(quirk: Any) -> bool:
    return bool(quirk.firmware.low or quirk.firmware.high)


def live_quirks(catalog: Any, model: Any, platform: Any, reported: str | None,
                stated: Mapping[str, str] | None = None) -> tuple[list[Any], str | None]:
    """(quirks that apply, a note for the user or None). ``reported`` is what BlueZ gives, the Modalias
    (Device ID) version: never a firmware version, even when it looks like one ("0001"). A stated firmware
    is matched against the quirk ranges; without one every firmware-scoped quirk is left out, and the note
    says so (for models with a product id, the only ones quirks can match)."""
    stated_fw = (stated or {}).get(model.id)
    if stated_fw is not None:
        return list(catalog.quirks_for(model, platform, stated_fw)), None
    every = catalog.quirks_for(model, platform, None)
    kept = [q for q in every if not is_firmware_scoped(q)]
    if model.product_id is None:
        return kept, None
    why = (f"the Modalias version {reported} is not a firmware version" if reported
           else "BlueZ gives no firmware version")
    note = (f"firmware-scoped quirks not applied ({len(every) - len(kept)} for {model.id}): {why}; "
            f"state it with --firmware {model.id}=VERSION")
    return kept, note
