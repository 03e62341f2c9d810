"""A recorded session written as a scenario file in the public format, readable and editable.

A recording keeps two things apart:

- the rig's facts: the steps (what the accessories, the user and the app did, with the real timing as
  ``wait`` steps) and ``expect: rig`` (what BlueZ and the audio server showed: card profile, codec,
  sample rate), read independently of the model;
- the model's view at record time, the golden view: ``expect: route`` and ``expect: notifications``.

Replaying the file checks the golden view like any scenario (a difference is a regression) and compares
the rig's facts with the model (a difference is drift). :func:`update_golden` rewrites the golden view
in place after a reviewed change.
"""
from __future__ import annotations

import math
import re
import textwrap
from dataclasses import dataclass, field
from typing import Any, Callable, Iterable

import yaml

from routesim.events import AccessoryInfo
from routesim.routes.phone.notifications import Notification
from routesim.routes.phone.ports import Port, Route

# Notification fields a scenario can match (routesim.routes.scenario.expect.NOTE_FIELDS), in writing order.
NOTE_FIELDS = {
    "routeChange": ("reason", "previousRoute"),
    "interruption": ("type", "reason", "shouldResume"),
    "silenceSecondaryAudioHint": ("type",),
    "timedOutPerforming": ("action",),
}
# Steps a scenario writes as a bare value: step name -> the argument the timeline names it by.
SCALAR_STEPS = {
    "connect": "accessory", "disconnect": "accessory", "pickRoute": "target", "app": "state",
    "others.play": "other", "others.stop": "other", "system": "event", "session.setMode": "mode",
    "session.setPreferredInput": "input", "session.overrideOutputAudioPort": "port",
    "session.setPreferredSampleRate": "hz", "session.setPreferredIOBufferDuration": "seconds",
    "session.setPreferredInputNumberOfChannels": "count", "callkit.speaker": "on",
    "session.setPrefersNoInterruptionsFromSystemAlerts": "value",
    "session.setPrefersInterruptionOnRouteDisconnect": "value", "engine.setVoiceProcessingEnabled": "enabled",
}
BARE_STEPS = frozenset({"player.play", "player.stop", "engine.start", "engine.stop", "engine.removeTap",
                        "capture.stop"})
# A notification later than this after the step before it came from a timer: it gets its own wait [INF].
DELAYED = 0.05
# The rig's facts are written at an expect only when the rig had this long before the next step: a link
# still switching (the model asked, the audio server is on its way) is not a fact worth keeping [INF].
SETTLE = 0.25
# Waits are written in whole milliseconds, rounded up so that the virtual clock never runs behind the
# real one at a step (a timer that fired before a step on the rig fires before it on replay too).
RESOLUTION = 0.001


@dataclass(slots=True)
class Moment:
    """One timeline entry as it was recorded: the entry (``routesim.TimelineEntry``), the route at that
    moment, and the rig's facts (accessory key -> ``LinkFacts.as_dict()``) as last read for its group."""

    kind: str  # action | event | notification | error
    time: float
    name: str
    args: dict[str, Any]
    route: Route
    data: Any = None
    facts: dict[str, dict[str, Any]] = field(default_factory=dict)


@dataclass(slots=True)
class Capture:
    """Everything a recording session saw, in order."""

    moments: list[Moment]
    accessories: dict[str, AccessoryInfo]  # key (the rig's: a Bluetooth address) -> identity at first sight
    platform: str
    origin: str  # one line for the header: where and when it was recorded
    final_facts: dict[str, dict[str, Any]] = field(default_factory=dict)


# ------------------------------------------------------------------ anonymising
class Anonymiser:
    """Consistent stand-ins: the same name or address always gets the same replacement."""

    def __init__(self) -> None:
        self.names: dict[str, str] = {}
        self.addresses: dict[str, str] = {}

    def name(self, text: str) -> str:
        return self.names.setdefault(text, f"Device name {len(self.names) + 1}")

    def address(self, text: str) -> str:
        return self.addresses.setdefault(text.upper(), f"02:00:00:00:00:{len(self.addresses) + 1:02X}")

    def scrub(self, text: str) -> str:
        """Last pass over the written file: any original left anywhere (also in the ``AA_BB_…`` form of
        card names, or in lower case) is replaced."""
        for original, stand_in in self.addresses.items():
            for form, repl in ((original, stand_in), (original.replace(":", "_"), stand_in.replace(":", "_"))):
                text = re.sub(re.escape(form), repl, text, flags=re.IGNORECASE)
        for original, stand_in in sorted(self.names.items(), key=lambda kv: -len(kv[0])):
            if original.strip():
                text = text.replace(original, stand_in)
        return text

    def originals(self) -> list[str]:
        return [*self.names, *self.addresses, *(a.replace(":", "_") for a in self.addresses)]


# ------------------------------------------------------------------ YAML pieces
def flow(value: Any) -> str:
    """One value in YAML flow style, quoted where YAML would read it as something else."""
    text = yaml.safe_dump(value, default_flow_style=True, sort_keys=False, width=1 << 20, allow_unicode=True)
    text = text.strip()
    return text[:-4].rstrip() if text.endswith("\n...") else text


def _seconds(value: float) -> str:
    ms = round(value * 1000)
    return f"{ms}ms" if ms < 1000 or ms % 1000 else f"{ms // 1000}s"


def port_value(port: Port, names: Callable[[str], str]) -> Any:
    """A built-in port by its type; an accessory's port with the name the app reads (renames show)."""
    if port.owner is None:
        return port.type
    return {"type": port.type, "name": names(port.name)}


def route_value(route: Route, names: Callable[[str], str]) -> dict[str, Any]:
    return {"inputs": [port_value(p, names) for p in route.inputs],
            "outputs": [port_value(p, names) for p in route.outputs]}


def note_value(note: Notification, names: Callable[[str], str]) -> Any:
    wanted = NOTE_FIELDS.get(note.name)
    if not wanted:
        return note.name
    fields: dict[str, Any] = {}
    for key in wanted:
        value = note.fields.get(key)
        if value is None:
            continue
        fields[key] = route_value(value, names) if isinstance(value, Route) else value
    return {note.name: fields} if fields else note.name


def golden_lines(route: Route, notes: Iterable[Notification], names: Callable[[str], str], indent: str) -> list[str]:
    """The golden view of one ``expect``: ``route:`` and ``notifications:`` lines."""
    notes = list(notes)
    lines = [f"{indent}route: {flow(route_value(route, names))}"]
    if notes:
        lines.append(f"{indent}notifications:")
        lines += [f"{indent}  - {flow(note_value(n, names))}" for n in notes]
    else:
        lines.append(f"{indent}notifications: []")
    return lines


# ------------------------------------------------------------------ writing a capture
class _Writer:
    def __init__(self, capture: Capture, ids: dict[str, str], anon: Anonymiser | None):
        self.capture, self.ids, self.anon = capture, ids, anon
        self.lines: list[str] = []
        self.clock = 0.0  # virtual time written so far
        self.notes: list[Notification] = []
        self.route: Route | None = None
        self.facts: dict[str, dict[str, Any]] = {}
        self.open = False  # an expect is due
        self.since = 0.0  # when the group of the due expect began
        self.started = False
        self.last_step: tuple[int, int] | None = None  # line span of the last step written

    def name(self, text: str) -> str:
        return self.anon.name(text) if self.anon else text

    def wait_until(self, t: float) -> None:
        if not self.started:  # the story starts with its first step
            self.clock, self.started = t, True
        gap = math.ceil(round((t - self.clock) / RESOLUTION, 6)) * RESOLUTION
        if gap > 0:
            self.lines.append(f"  - wait: {_seconds(gap)}")
            self.clock += gap

    def flush(self, until: float | None = None) -> None:
        """Write the due expect; ``until``: when the next step came (None: the story ended)."""
        if not self.open or self.route is None:
            return
        self.lines.append("  - expect:")
        self.lines += golden_lines(self.route, self.notes, self.name, "      ")
        facts = {self.ids[k]: v for k, v in self.facts.items() if k in self.ids}
        if facts and (until is None or until - self.since >= SETTLE):
            self.lines.append(f"      rig: {flow(facts)}")
        self.notes, self.open = [], False

    def step(self, m: Moment) -> None:
        self.flush(m.time)
        self.since = m.time
        self.wait_until(m.time)
        start = len(self.lines)
        self.lines.append(f"  - {step_text(m.name, m.args, self.ids, self.name)}")
        self.last_step = (start, len(self.lines))
        self.route, self.facts, self.open = m.route, m.facts, True

    def note(self, m: Moment) -> None:
        if self.started and m.time - self.clock > DELAYED:
            self.flush(m.time)
            self.since = m.time
            self.wait_until(m.time)
        self.notes.append(m.data)
        self.route, self.open = m.route, True
        self.facts = m.facts or self.facts

    def error(self, m: Moment) -> None:
        """The rig's phone refused the step just written: keep it as a comment, so replay does not fail on
        what the rig itself could not do."""
        if self.last_step is None:
            return
        start, end = self.last_step
        self.lines[start:end] = [f"  # on the rig: {line.strip()[2:]} was not applied ({m.args.get('error', '')})"
                                 for line in self.lines[start:end]]
        self.last_step = None


def step_text(name: str, args: dict[str, Any], ids: dict[str, str], names: Callable[[str], str]) -> str:
    """A timeline entry's step as a scenario writes it (``connect: pods``, ``rename: {accessory: …}``)."""
    args = {k: v for k, v in args.items() if v is not None and k not in ("model",)}
    if "accessory" in args:
        args["accessory"] = ids.get(args["accessory"], args["accessory"])
    if "name" in args and isinstance(args["name"], str):
        args["name"] = names(args["name"])
    if name in BARE_STEPS:
        return name
    if name in SCALAR_STEPS:
        value = args.get(SCALAR_STEPS[name])
        if name in ("connect", "disconnect"):
            return f"{name}: {flow(value)}"
        return f"{name}: {flow(value)}"
    if name == "session.setActive" and not args.get("options"):
        return f"{name}: {flow(bool(args.get('active')))}"
    if name == "session.setCategory":
        if args.get("mode") == "default":
            args.pop("mode")
        if not args.get("options"):
            args.pop("options", None)
        if list(args) == ["category"]:
            return f"{name}: {flow(args['category'])}"
    if name.startswith("callkit.") or name.startswith("cellular."):
        for key, default in (("fulfillAfter", 0.0), ("connectAfter", 0.0), ("result", "fulfill"), ("by", "local"),
                             ("holdOthers", False)):
            if args.get(key) == default:
                args.pop(key)
        if list(args) == ["call"]:
            return f"{name}: {flow(args['call'])}"
    return f"{name}: {flow(args)}"


def accessory_ids(accessories: dict[str, AccessoryInfo]) -> dict[str, str]:
    """Readable ids: the model id, numbered when a model appears twice."""
    ids: dict[str, str] = {}
    for key, info in accessories.items():
        base = info.model_id
        ident, n = base, 1
        while ident in ids.values():
            n += 1
            ident = f"{base}-{n}"
        ids[key] = ident
    return ids


DESCRIPTION = (
    "A session recorded on a rig: the accessory events BlueZ and the audio server reported, with their timing, "
    "and the app's actions. The golden view pins the model's behaviour at record time (a regression fixture, "
    "not a statement of iOS behaviour); the rig's facts come from BlueZ's MediaTransport1 and the audio "
    "server's card profile."
)


def write_capture(capture: Capture, *, title: str, anonymise: bool = False,
                  firmware_ok: Callable[[AccessoryInfo], bool] = lambda info: True,
                  description: str = DESCRIPTION) -> str:
    """The scenario text of a capture. ``firmware_ok``: whether the catalog can compare the firmware
    string (BlueZ reports the Device ID version); one it cannot is kept as a comment. ``description``:
    how the recording was made and what it rests on (folded at 100 columns)."""
    anon = Anonymiser() if anonymise else None
    ids = accessory_ids(capture.accessories)
    writer = _Writer(capture, ids, anon)
    for m in capture.moments:
        if m.kind in ("action", "event"):
            writer.step(m)
        elif m.kind == "notification":
            writer.note(m)
        elif m.kind == "error":
            writer.error(m)
    writer.facts = capture.final_facts or writer.facts
    writer.flush()

    head = [
        f"# Recorded by `routesim record` {capture.origin}.",
        "# Steps and `expect: rig` are the rig's facts; `route` and `notifications` are the model's view at",
        "# record time (the golden view). `routesim replay FILE` checks the golden view and reports drift;",
        "# `routesim replay --update FILE` rewrites the golden view after a reviewed change.",
        f"name: {flow(title)}",
        "description: >-",
        *("  " + line for line in textwrap.wrap(" ".join(description.split()), 100)),
        f"platform: {capture.platform}",
    ]
    if ids:
        head.append("accessories:")
    for key, ident in ids.items():
        info = capture.accessories[key]
        entry: dict[str, Any] = {"model": info.model_id,
                                 "name": anon.name(info.name) if anon else info.name,
                                 "address": anon.address(info.address) if anon else info.address}
        comment = ""
        if info.firmware:
            if firmware_ok(info):
                entry["firmware"] = info.firmware
            else:
                comment = f"  # firmware {info.firmware}: a Device ID version the quirk ranges cannot compare"
        head.append(f"  {flow(ident)}: {flow(entry)}{comment}")
    head.append("steps:")
    text = "\n".join(head + writer.lines) + "\n"
    if anon is not None:
        for key, info in capture.accessories.items():  # originals met only inside events count too
            anon.address(info.address)
            anon.name(info.name)
        text = anon.scrub(text)
    return text


# ------------------------------------------------------------------ rewriting the golden view
def update_golden(text: str, goldens: dict[int, tuple[Route, list[Notification]]], *,
                  names: Callable[[str], str] = lambda s: s) -> str:
    """Rewrite the ``route:`` and ``notifications:`` of the ``expect`` blocks at the given lines (the line
    of the ``expect`` step -> the model's view there now), keeping every other line as written: comments,
    other keys, their order and the rig's facts. A golden key the block does not have is not added."""
    lines = text.split("\n")
    edits: list[tuple[int, int, list[str]]] = []  # (first line index, end index, replacement)
    for root in yaml.compose_all(text, Loader=yaml.SafeLoader):
        steps = _mapping_value(root, "steps")
        if steps is None or not isinstance(steps, yaml.SequenceNode):
            continue
        for item in steps.value:
            if not isinstance(item, yaml.MappingNode) or len(item.value) != 1:
                continue
            key, body = item.value[0]
            if key.value != "expect" or (item.start_mark.line + 1) not in goldens:
                continue
            if not isinstance(body, yaml.MappingNode) or body.flow_style:
                continue
            route, notes = goldens[item.start_mark.line + 1]
            for k, v in body.value:
                if k.value not in ("route", "notifications"):
                    continue
                indent = " " * k.start_mark.column
                fresh = golden_lines(route, notes, names, indent)
                mine = [line for line in fresh if line.startswith(f"{indent}{k.value}:")]
                index = fresh.index(mine[0])
                block = [mine[0]] + ([l for l in fresh[index + 1:] if l.startswith(indent + "  ")]
                                     if k.value == "notifications" else [])
                if isinstance(v, (yaml.SequenceNode, yaml.MappingNode)) and not v.flow_style:
                    end = v.end_mark.line  # a block ends where the next token starts
                    while end > k.start_mark.line + 1 and (not lines[end - 1].strip()
                                                           or lines[end - 1].strip().startswith("#")):
                        end -= 1  # comments and blank lines after it belong to what follows
                else:
                    end = v.end_mark.line + 1
                edits.append((k.start_mark.line, max(end, k.start_mark.line + 1), block))
    for start, end, block in sorted(edits, reverse=True):
        lines[start:end] = block
    return "\n".join(lines)


def _mapping_value(node: Any, key: str) -> Any:
    if not isinstance(node, yaml.MappingNode):
        return None
    for k, v in node.value:
        if isinstance(k, yaml.ScalarNode) and k.value == key:
            return v
    return None
