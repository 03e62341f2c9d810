"""From BlueZ's object tree to :mod:`bt.events` accessory events.

Events come from *diffing* what has been announced against what the tree now says, never from the
signals themselves: a resync (bluetoothd came back, the bus connection was re-established) therefore
announces only real changes, with no duplicated ``Connected`` and no lost ``Disconnected``.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any, Callable, Protocol

from routesim.events import AccessoryEvent, AccessoryInfo, BatteryChanged, Connected, Disconnected, ProfileChanged, Renamed
from routesim.bt.bluez.constants import AUDIO_UUIDS, BATTERY, DEVICE
from routesim.bt.bluez.device_identity import display_name, in_catalog, model_id
from routesim.bt.bluez.object_tree import ObjectTree, Props, path_is_for_address
from routesim.bt.bluez.pipewire import CardTable
from routesim.bt.bluez.values import firmware_from_modalias, transport_codec

log = logging.getLogger("routesim.bt.bluez")

Profile = tuple[str, str | None]  # (a2dp/hfp/none, codec)


class Settings(Protocol):
    """Read from the backend at each use, so changing them on a running backend takes effect."""

    catalog: Any
    clock: Any
    degrade_grace: float


@dataclass
class _Announced:
    info: AccessoryInfo
    battery: int | None = None
    profile: Profile | None = None


class Announcer:
    def __init__(self, tree: ObjectTree, cards: CardTable, settings: Settings, emit: Callable[[AccessoryEvent], None]):
        self.tree = tree
        self.cards = cards
        self.settings = settings
        self.emit = emit
        self.announced: dict[str, _Announced] = {}
        self._degrade_timers: dict[str, Any] = {}
        # A bluetoothd back within the restart grace takes the name before it has announced its devices
        # (it loads them after, and a link may show down until then [INF]): until this time a device it does not
        # show connected keeps its announcement; then whatever it has not brought back is gone.
        self.hold_losses_until: float | None = None

    def cancel_timers(self) -> None:
        for timer in self._degrade_timers.values():
            timer.cancel()
        self._degrade_timers.clear()

    # -- what changed -----------------------------------------------------------------------------------
    def reconcile_path(self, path: str, removed: dict[str, Props] | None = None) -> None:
        """Something at ``path`` changed (``removed``: interfaces that just went away from it)."""
        dev_path = self.tree.device_path_for(path, removed)
        if dev_path is None:
            return
        d = self.tree.interface(dev_path, DEVICE)
        address = (d or {}).get("Address")
        if address is None and removed and DEVICE in removed:
            address = removed[DEVICE].get("Address")
        if address is None:
            # a device whose Address is missing or malformed: find it among the announced by path
            for key in self.announced:
                if path_is_for_address(dev_path, key):
                    address = key
                    break
        if address is not None:
            self.reconcile_address(address.upper())

    def reconcile_all(self) -> None:
        for key in sorted(set(self.announced) | self.tree.addresses()):
            self.reconcile_address(key)

    def reconcile_address(self, address: str, final: bool = False) -> None:
        """Announce the difference between what was announced for ``address`` and what the tree says.
        ``final``: the loss grace is over, so losses are announced too."""
        info, battery, profile = self._wanted(address)
        ann = self.announced.get(address)
        if info is None and ann is not None and not final and self._holding(address):
            return
        if info is None:
            timer = self._degrade_timers.pop(address, None)
            if timer is not None:
                timer.cancel()
            if ann is not None:
                del self.announced[address]
                self.cards.forget(address)
                self.emit(Disconnected(address))
            return
        if ann is None:
            ann = self.announced[address] = _Announced(info)
            self.emit(Connected(info))
        elif info.name != ann.info.name:
            ann.info = info
            self.emit(Renamed(address, info.name))
        elif info != ann.info:
            log.info("%s: identity changed while connected (%s → %s); keeping the first", address, ann.info, info)
        # Losses (battery reports stop, the A2DP transport goes) usually come just before the link
        # drops; they are held for ``degrade_grace`` so a disconnect is one Disconnected, not three events.
        held = False
        if battery != ann.battery:
            if battery is None and not final:
                held = True
            else:
                ann.battery = battery
                self.emit(BatteryChanged(address, left=battery))
        if profile is None and ann.profile is not None and ann.profile[0] == "a2dp":
            if final:
                profile = ("none", None)
            else:
                held = True
        if profile is not None and profile != ann.profile:
            ann.profile = profile
            self.emit(ProfileChanged(address, profile[0], profile[1]))  # type: ignore[arg-type]
        if held and address not in self._degrade_timers:
            self._degrade_timers[address] = self.settings.clock.call_later(
                self.settings.degrade_grace, lambda: self._flush(address)
            )

    def _holding(self, address: str) -> bool:
        until = self.hold_losses_until
        left = until - self.settings.clock.now() if until is not None else 0.0
        if left <= 0:
            return False
        if address not in self._degrade_timers:
            self._degrade_timers[address] = self.settings.clock.call_later(left, lambda: self._flush(address))
        return True

    def _flush(self, address: str) -> None:
        self._degrade_timers.pop(address, None)
        self.reconcile_address(address, final=True)

    # -- what the tree says --------------------------------------------------------------------------
    def _wanted(self, address: str) -> tuple[AccessoryInfo | None, int | None, Profile | None]:
        """The accessory, battery and profile the tree describes for ``address``; all None when it is
        not a connected accessory of ours."""
        found = self.tree.find_device(address)
        if found is None:
            return None, None, None
        path, d = found
        if not d.get("Connected"):
            return None, None, None
        uuids = set(d.get("UUIDs", []))
        audio = bool(uuids & AUDIO_UUIDS)
        if not audio and not d.get("ServicesResolved"):
            return None, None, None
        catalog = self.settings.catalog
        # services resolved, but nothing that carries audio: only a catalog match makes it ours
        if not audio and not in_catalog(catalog, d):
            return None, None, None
        info = AccessoryInfo(
            key=address,
            model_id=model_id(catalog, d),
            name=display_name(d),
            address=address,
            firmware=firmware_from_modalias(d.get("Modalias")),
        )
        battery = (self.tree.interface(path, BATTERY) or {}).get("Percentage")
        # PipeWire's card (when known) says which profile; for A2DP the transport says which codec.
        t = self.tree.transport_of(path)
        profile = self.cards.profiles.get(address)
        if profile is None or profile[0] == "a2dp":
            profile = ("a2dp", transport_codec(t)) if t is not None else None
        return info, battery, profile
