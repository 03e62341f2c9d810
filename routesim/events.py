"""Typed accessory events (world -> route manager) and negotiation commands (route manager -> world).

Virtual headsets, the BlueZ backend and the advertisement scanner all speak only these types, so the
route manager cannot tell a real device from a virtual one.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, Union

Ear = Literal["in", "out"]


@dataclass(frozen=True, slots=True)
class AccessoryInfo:
    key: str  # stable identity within the run: a scenario id, or a BlueZ device address
    model_id: str  # a catalog id (a generic one when the device is unknown)
    name: str  # what the phone shows now (Alias, or the user's name for a virtual device)
    address: str  # "AA:BB:CC:DD:EE:FF" (upper case); wired accessories get a synthetic one
    firmware: str | None = None


@dataclass(frozen=True, slots=True)
class Connected:
    info: AccessoryInfo


@dataclass(frozen=True, slots=True)
class Disconnected:
    key: str


@dataclass(frozen=True, slots=True)
class Renamed:
    key: str
    name: str


@dataclass(frozen=True, slots=True)
class BatteryChanged:
    key: str
    left: int | None = None
    right: int | None = None
    case: int | None = None


@dataclass(frozen=True, slots=True)
class EarsChanged:
    key: str
    left: Ear | None = None
    right: Ear | None = None


@dataclass(frozen=True, slots=True)
class WornChanged:
    """Headphones with head detection (AirPods Max) put on or taken off; not in-ear detection."""

    key: str
    worn: bool


@dataclass(frozen=True, slots=True)
class CaseChanged:
    key: str
    open: bool


@dataclass(frozen=True, slots=True)
class ProfileChanged:
    """The device itself reports its active audio profile changed (e.g. BlueZ transport / PipeWire card)."""

    key: str
    profile: Literal["a2dp", "hfp", "none"]
    codec: str | None = None


AccessoryEvent = Union[Connected, Disconnected, Renamed, BatteryChanged, EarsChanged, WornChanged, CaseChanged,
                       ProfileChanged]


# Commands, the one narrow door back to bt/.
@dataclass(frozen=True, slots=True)
class SwitchProfile:
    key: str
    profile: Literal["a2dp", "hfp", "none"]
    codec: str | None = None


@dataclass(frozen=True, slots=True)
class ConnectDevice:
    key: str


@dataclass(frozen=True, slots=True)
class DisconnectDevice:
    key: str


@dataclass(frozen=True, slots=True)
class RenameDevice:
    key: str
    name: str  # "" restores the device's own name


NegotiationCommand = Union[SwitchProfile, ConnectDevice, DisconnectDevice, RenameDevice]
