"""What a test asserts on: timeline entries (everything that happened to a phone, in order) and the error an
unmet wait raises, worded like a failed scenario ``expect`` (where, what was expected, what was observed)."""
from __future__ import annotations

import json
import os
import sys
from dataclasses import dataclass, field
from types import FrameType
from typing import Any, Literal, Mapping

from routesim.events import (AccessoryEvent, BatteryChanged, CaseChanged, Connected, Disconnected, EarsChanged,
                             ProfileChanged, Renamed, WornChanged)
from routesim.routes.phone.frozen import quick_init
from routesim.routes.phone.notifications import Notification
from routesim.routes.phone.ports import Route

EntryKind = Literal["action", "event", "notification", "error"]


@quick_init
@dataclass(frozen=True, slots=True)
class TimelineEntry:
    """One thing that happened to a phone.

    ``kind``: ``action`` (the app, the user or the system did something: a scenario step such as
    ``session.setCategory``), ``event`` (an accessory event from a virtual device, BlueZ or adverts),
    ``notification`` (what the app was told) or ``error`` (an action failed; ``data`` is the exception).
    ``name`` is the scenario step name (``connect``, ``callkit.startCall``) or the notification name
    (``routeChange``); ``args`` holds the step's arguments as a scenario file writes them, or the
    notification's fields. ``route`` is the route right after an action or event (None for notifications).
    ``data`` is the typed object behind the entry: the :data:`AccessoryEvent`, the :class:`Notification`
    or the exception.
    """

    time: float
    kind: EntryKind
    name: str
    args: Mapping[str, Any] = field(default_factory=dict)
    route: Route | None = None
    data: Any = None

    def short(self) -> str:
        """One line, as the scenario timeline prints it."""
        args = " ".join(f"{k}={_short(v)}" for k, v in self.args.items() if v is not None)
        route = f"  -> {self.route.short()}" if self.route is not None else ""
        return f"{self.time:8.3f}s  {self.kind:12} {self.name} {args}".rstrip() + route


def _short(value: Any) -> str:
    if isinstance(value, Route):
        return value.short()
    if isinstance(value, (list, tuple)):
        return "[" + ",".join(map(str, value)) + "]"
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


def event_step(event: AccessoryEvent) -> tuple[str, dict[str, Any]]:
    """The scenario step an accessory event stands for, with its arguments (a recorder writes these)."""
    if isinstance(event, Connected):
        return "connect", {"accessory": event.info.key, "model": event.info.model_id, "name": event.info.name}
    if isinstance(event, Disconnected):
        return "disconnect", {"accessory": event.key}
    if isinstance(event, Renamed):
        return "rename", {"accessory": event.key, "name": event.name}
    if isinstance(event, BatteryChanged):
        return "battery", {"accessory": event.key, "left": event.left, "right": event.right, "case": event.case}
    if isinstance(event, EarsChanged):
        return "ears", {"accessory": event.key, "left": event.left, "right": event.right}
    if isinstance(event, CaseChanged):
        return "ears", {"accessory": event.key, "case": "open" if event.open else "closed"}
    if isinstance(event, WornChanged):
        return "worn", {"accessory": event.key, "worn": event.worn}
    if isinstance(event, ProfileChanged):
        return "profile", {"accessory": event.key, "profile": event.profile, "codec": event.codec}
    return type(event).__name__, {}


class ExpectationFailed(AssertionError):
    """An awaited or asserted expectation did not hold. Reads like a failed scenario ``expect``:

    ``tests/test_rig.py:41: routeChange: expected {"routeChange": {"reason": "newDeviceAvailable"}} within
    5 s (virtual time), got nothing``, followed by what was observed meanwhile.
    """

    def __init__(self, key: str, expected: Any, observed: Any, *, within: str = "", context: list[str] | None = None,
                 where: str | None = None):
        self.key, self.expected, self.observed = key, expected, observed
        self.where = where or caller_location()
        head = f"{self.where}: " if self.where else ""
        message = f"{head}{key}: expected {_json(expected)}{within}, got {_json(observed)}"
        self.context = list(context or ())
        super().__init__("\n".join([message, *(f"  {line}" for line in self.context)]))


ExpectationFailed.__module__ = "routesim"  # tracebacks name it as users import it


def _json(value: Any) -> str:
    if isinstance(value, str) and value == "nothing":
        return value
    return json.dumps(_plain(value), default=str)


def _plain(value: Any) -> Any:
    if isinstance(value, Notification):
        return value.as_dict()
    if isinstance(value, Route):
        return value.as_dict()
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return value


def caller_location() -> str | None:
    """``file:line`` of the nearest frame outside this API (the test line that awaited or asserted)."""
    frame: FrameType | None = sys._getframe(1)
    while frame is not None:
        module = frame.f_globals.get("__name__", "")
        if not (module.startswith("routesim.api") or module.startswith("asyncio")):
            return f"{_relative(frame.f_code.co_filename)}:{frame.f_lineno}"
        frame = frame.f_back
    return None


def _relative(path: str) -> str:
    """Relative to the working directory when inside it (the way pytest prints paths)."""
    try:
        rel = os.path.relpath(path)
    except ValueError:
        return path
    return path if rel.startswith("..") else rel
