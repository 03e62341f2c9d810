"""BLE advertisements: Apple proximity-pairing adverts decoded into accessory events.

:mod:`.decode` is pure (bytes in, :class:`~.decode.ProximityStatus` out) and imports no bleak, so
importing it (or this package) does not load bleak; :class:`AdvertSource` (:mod:`.source`), the
asyncio source on bleak's ``BleakScanner``, loads on first use.
"""
from __future__ import annotations

from typing import Any

from routesim.bt.adverts.decode import ContinuityError, ProximityStatus, decode_proximity

__all__ = ["AdvertSource", "ContinuityError", "ProximityStatus", "Sighting", "decode_proximity"]


def __getattr__(name: str) -> Any:
    if name in ("AdvertSource", "Sighting"):
        from routesim.bt.adverts import source

        return getattr(source, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
