"""Checking an ``expect`` block against what the app would observe at that moment."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

from routesim.routes.phone.errors import AppException, SessionError, StepError
from routesim.routes.phone.notifications import Notification
from routesim.routes.phone.ports import Port, Route
from routesim.routes.scenario.model import Comparison, ErrorMatch, Expect, NoteMatch, PortMatch, RouteMatch, number_matches


@dataclass(slots=True)
class Check:
    key: str
    ok: bool
    expected: Any
    actual: Any
    message: str = ""
    drift: bool = False  # a fact of the rig against the model's view: reported, not a failure

    def as_dict(self) -> dict:
        return {"key": self.key, "pass": self.ok, "expected": _plain(self.expected), "actual": _plain(self.actual),
                **({"message": self.message} if self.message else {}), **({"drift": True} if self.drift else {})}


def _plain(value: Any) -> Any:
    if isinstance(value, (Route, Port)):
        return value.as_dict()
    if isinstance(value, Notification):
        return value.as_dict()
    if isinstance(value, (RouteMatch, PortMatch, NoteMatch, ErrorMatch, Comparison)):
        return describe(value)
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set, frozenset)):
        items = [_plain(v) for v in value]
        return sorted(items, key=str) if isinstance(value, (set, frozenset)) else items
    return value


def describe(value: Any) -> Any:
    if isinstance(value, PortMatch):
        given = {k: v for k, v in (("type", value.type), ("name", value.name), ("uid", value.uid)) if v is not None}
        return given["type"] if list(given) == ["type"] else given
    if isinstance(value, RouteMatch):
        out = {}
        if value.inputs is not None:
            out["inputs"] = [describe(p) for p in value.inputs]
        if value.outputs is not None:
            out["outputs"] = [describe(p) for p in value.outputs]
        return out
    if isinstance(value, NoteMatch):
        return {value.name: {k: describe(v) for k, v in value.fields.items()}} if value.fields else value.name
    if isinstance(value, ErrorMatch):
        return value.name or value.code or {"exception": value.exception}
    if isinstance(value, Comparison):
        return str(value)
    return value


# ---------------------------------------------------------------- matchers

def port_matches(m: PortMatch, port: Port) -> bool:
    return ((m.type is None or m.type == port.type) and (m.name is None or m.name == port.name)
            and (m.uid is None or m.uid == port.uid))


def route_matches(m: RouteMatch, route: Route) -> bool:
    for wanted, actual in ((m.inputs, route.inputs), (m.outputs, route.outputs)):
        if wanted is None:
            continue
        if len(wanted) != len(actual) or not all(port_matches(w, a) for w, a in zip(wanted, actual)):
            return False
    return True


def note_matches(m: NoteMatch, note: Notification) -> bool:
    if m.name != note.name:
        return False
    for key, want in m.fields.items():
        have = note.fields.get(key)
        if isinstance(want, RouteMatch):
            if not isinstance(have, Route) or not route_matches(want, have):
                return False
        elif isinstance(want, (Comparison, int, float)) and not isinstance(want, bool):
            if not number_matches(want, have):
                return False
        elif want != have:
            return False
    return True


def error_matches(m: ErrorMatch, err: BaseException) -> bool:
    if m.exception is not None:
        return isinstance(err, AppException) and m.exception in str(err)
    if not isinstance(err, SessionError):
        return False
    if m.domain != getattr(err, "domain", None):
        return False  # a CallKit request error never matches an AVAudioSession error, nor the reverse
    if m.name is not None:
        return m.name == err.name
    return m.code == err.code


def _subsequence(wanted: list[NoteMatch], notes: list[Notification]) -> bool:
    i = 0
    for note in notes:
        if i < len(wanted) and note_matches(wanted[i], note):
            i += 1
    return i == len(wanted)


# ---------------------------------------------------------------- the checker

def check_expect(expect: Expect, view: "Observation") -> list[Check]:
    checks: list[Check] = []
    notes = view.notifications
    if expect.route is not None:
        checks.append(Check("route", route_matches(expect.route, view.route), expect.route, view.route))
    if expect.notifications is not None:
        ok = len(expect.notifications) == len(notes) and all(
            note_matches(m, n) for m, n in zip(expect.notifications, notes))
        checks.append(Check("notifications", ok, expect.notifications, notes))
    if expect.notifications_include is not None:
        checks.append(Check("notificationsInclude", _subsequence(expect.notifications_include, notes),
                            expect.notifications_include, notes))
    if expect.notifications_exclude is not None:
        hits = [n for n in notes if any(note_matches(m, n) for m in expect.notifications_exclude)]
        checks.append(Check("notificationsExclude", not hits, expect.notifications_exclude, hits))
    if expect.session:
        actual = view.session()
        for key, want in expect.session.items():
            checks.append(_value_check(f"session.{key}", want, actual.get(key)))
    if expect.others:
        for oid, want in expect.others.items():
            other = view.phone.others.get(oid)
            if other is None:
                raise StepError(f"expect others: no other app {oid!r}")
            checks.append(Check(f"others.{oid}", other.state == want, want, other.state))
    if expect.accessories:
        for key, fields in expect.accessories.items():
            actual = view.phone.accessory_view(key)
            for field_name, want in fields.items():
                have = actual.get(field_name)
                if field_name == "battery":
                    for part, level in want.items():
                        checks.append(_value_check(f"accessories.{key}.battery.{part}", level, have.get(part)))
                else:
                    checks.append(_value_check(f"accessories.{key}.{field_name}", want, have))
    if expect.rig:
        checks.extend(rig_checks(expect.rig, view.phone))
    for key, attr in (("calls", "calls"), ("callGroups", "call_groups"), ("engine", "engine"),
                      ("recording", "recording")):
        want = getattr(expect, attr)
        if want:
            getter = view.extras.get(key)
            if getter is None:
                raise StepError(f"expect {key}: this part of the model is not built yet")
            actual = getter()
            for name, value in want.items():
                checks.extend(_nested_checks(f"{key}.{name}", value, _get(actual, name)))
    audio = getattr(expect, "audio", None)
    if audio:  # addition (docs/audio-expectation.md): the getter renders the named signal, then measures
        getter = view.extras.get("audio")
        if getter is None:
            raise StepError("expect audio: the signal model is not attached")
        actual = getter(audio)
        for name, value in audio.items():
            if name not in AUDIO_SETTINGS:
                checks.append(_value_check(f"audio.{name}", value, actual.get(name)))
    return checks


def rig_checks(rig: dict[str, dict[str, Any]], phone: Any) -> list[Check]:
    """The rig's facts against the model's view of the same link: ``profile`` and ``codec`` against the
    accessory's link, ``sampleRate`` against the session's rate while the accessory carries the route.
    ``card`` has no counterpart in the model and is kept for people only. Every check is drift."""
    checks = []
    for key, facts in rig.items():
        model = phone.accessory_view(key)
        for fact in ("profile", "codec"):
            if fact in facts:
                checks.append(Check(f"rig.{key}.{fact}", facts[fact] == model.get(fact), facts[fact], model.get(fact),
                                    drift=True))
        if facts.get("sampleRate") is not None and key in phone.route.owners():
            have = phone.sample_rate
            checks.append(Check(f"rig.{key}.sampleRate", number_matches(facts["sampleRate"], have),
                                facts["sampleRate"], have, drift=True))
    return checks


AUDIO_SETTINGS = frozenset({"signal", "direction", "frequency", "duration", "sourceLevel"})


def _get(container: Any, name: str) -> Any:
    return container.get(name) if isinstance(container, dict) else None


def _nested_checks(key: str, want: Any, have: Any) -> list[Check]:
    if isinstance(want, dict):
        out = []
        for k, v in want.items():
            out.extend(_nested_checks(f"{key}.{k}", v, _get(have, k)))
        return out
    return [_value_check(key, want, have)]


def _value_check(key: str, want: Any, have: Any) -> Check:
    if isinstance(want, Comparison) or (isinstance(want, (int, float)) and not isinstance(want, bool)):
        return Check(key, number_matches(want, have), want, have)
    if isinstance(want, (set, frozenset)):
        return Check(key, frozenset(have or ()) == frozenset(want), want, have)
    if isinstance(want, (list, tuple)):
        return Check(key, list(have or ()) == list(want), want, have)
    return Check(key, want == have, want, have)


@dataclass
class Observation:
    """What an expect can look at: the phone, the notifications since the last expect, extra models."""

    phone: Any
    notifications: list[Notification]
    extras: dict[str, Callable[[], Any]]

    @property
    def route(self) -> Route:
        return self.phone.route

    def session(self) -> dict[str, Any]:
        return self.phone.session_view()
