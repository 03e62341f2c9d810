"""What a loaded scenario is: typed, validated, normalised values (the runner's input contract).

Names inside (categories, modes, options, port types, reasons, notifications, errors) are always the
canonical spelling of ``routes.vocabulary``; times are float seconds.
"""
from __future__ import annotations

import math
import operator
from dataclasses import dataclass, field
from typing import Any

from routesim.profiles.platform import DEFAULT_PLATFORM, Platform
from routesim.routes.phone.behavior import DEFAULT_BEHAVIOR
from routesim.routes.phone.errors import ErrorMatch


class ScenarioError(ValueError):
    """A file is not a valid scenario. ``str(e)`` is ``FILE:LINE: message``."""

    def __init__(self, file: str, line: int, message: str):
        self.file, self.line, self.message = str(file), int(line), message
        super().__init__(f"{self.file}:{self.line}: {message}")


# ---------------------------------------------------------------- numbers in `expect`

_OPS = {
    "==": operator.eq, "!=": operator.ne, ">": operator.gt, ">=": operator.ge, "<": operator.lt, "<=": operator.le,
}


@dataclass(frozen=True, slots=True)
class Comparison:
    """``">1000"`` in an expectation: holds when ``actual OP value``. ``==``/``!=`` tolerate float noise."""

    op: str
    value: float | int

    def __post_init__(self) -> None:
        if self.op not in _OPS:
            raise ValueError(f"comparison operator {self.op!r} is not one of {', '.join(_OPS)}")

    def holds(self, actual: float | int | None) -> bool:
        if actual is None or isinstance(actual, bool):
            return False
        if self.op in ("==", "!="):
            same = math.isclose(actual, self.value, rel_tol=1e-9, abs_tol=1e-12)
            return same if self.op == "==" else not same
        return _OPS[self.op](actual, self.value)

    def __str__(self) -> str:
        return f"{self.op}{self.value}"


def number_matches(expected: Comparison | float | int, actual: float | int | None) -> bool:
    """An expected number (plain = equal, or a Comparison) against an actual one."""
    if isinstance(expected, Comparison):
        return expected.holds(actual)
    return Comparison("==", expected).holds(actual)


# ---------------------------------------------------------------- the phone, the app, the world

@dataclass(frozen=True, slots=True)
class Hardware:
    device: str = "iphone"                      # "iphone" | "ipad"
    hfp_codecs: frozenset[str] | None = None    # None: the platform's default set

    @property
    def has_receiver(self) -> bool:
        return self.device == "iphone"


@dataclass(frozen=True, slots=True)
class AppConfig:
    state: str = "foreground"                   # "foreground" | "background"
    background_audio: bool = False
    context: str = "app"                        # "app" | "extension"
    record_permission: str = "granted"          # "granted" | "denied" | "undetermined"
    now_playing: bool = False
    extension: str | None = None                # addition: the extension point (context "extension")


@dataclass(frozen=True, slots=True)
class AccessorySpec:
    id: str
    model: str
    name: str | None = None                     # None: the model's own name
    address: str | None = None                  # "AA:BB:CC:DD:EE:FF" upper-case; None: generate from the id
    firmware: str | None = None
    connected: bool = False
    line: int = 0


@dataclass(frozen=True, slots=True)
class OtherSpec:
    id: str
    category: str
    mode: str = "default"
    options: tuple[str, ...] = ()
    playing: bool = False
    line: int = 0


BEHAVIOR_DEFAULTS = DEFAULT_BEHAVIOR  # one definition: the phone model owns the switches


# ---------------------------------------------------------------- expectations

@dataclass(frozen=True, slots=True)
class PortMatch:
    type: str | None = None                     # canonical port type
    name: str | None = None
    uid: str | None = None


@dataclass(frozen=True, slots=True)
class RouteMatch:
    inputs: list[PortMatch] | None = None       # None: not checked
    outputs: list[PortMatch] | None = None


@dataclass(frozen=True, slots=True)
class NoteMatch:
    name: str                                   # canonical notification name
    fields: dict[str, Any] = field(default_factory=dict)   # only the fields given



@dataclass(frozen=True, slots=True)
class Expect:
    line: int
    route: RouteMatch | None = None
    notifications: list[NoteMatch] | None = None
    notifications_include: list[NoteMatch] | None = None
    notifications_exclude: list[NoteMatch] | None = None
    error: ErrorMatch | None = None
    session: dict[str, Any] | None = None
    others: dict[str, str] | None = None
    calls: dict[str, str] | None = None
    call_groups: dict[str, list[str]] | None = None   # addition: each call -> the calls of its group
    engine: dict[str, Any] | None = None
    recording: dict[str, Any] | None = None
    accessories: dict[str, dict[str, Any]] | None = None
    audio: dict[str, Any] | None = None        # addition: docs/audio-expectation.md
    rig: dict[str, dict[str, Any]] | None = None   # addition: the rig's facts (drift, not failure)


# ---------------------------------------------------------------- the scenario

@dataclass(frozen=True, slots=True)
class Step:
    op: str                                     # the step name as docs/scenario-format.md writes it: "wait", "session.setCategory", "expect"
    arg: Any                                    # normalised per op (see routes.scenario.steps)
    line: int


@dataclass(frozen=True, slots=True)
class Scenario:
    name: str
    file: str
    line: int                                   # first line of the document
    index: int                                  # 0-based position among the file's scenarios
    steps: list[Step]
    description: str | None = None
    platform: Platform = DEFAULT_PLATFORM
    hardware: Hardware = Hardware()
    app: AppConfig = AppConfig()
    accessories: dict[str, AccessorySpec] = field(default_factory=dict)   # in listed (connection) order
    others: dict[str, OtherSpec] = field(default_factory=dict)
    behavior: dict[str, object] = field(default_factory=lambda: dict(BEHAVIOR_DEFAULTS))

    @property
    def test_id(self) -> str:
        return f"{self.file}::{self.index}"
