"""The `expect` block: what must hold at that point, normalised into model.Expect."""
from __future__ import annotations

import re
from typing import Any

from yaml.nodes import MappingNode, Node, ScalarNode

from routesim.profiles.codecs import CODECS

from routesim.routes.phone.vocabulary import (
    CALLKIT_ACTIONS, CATEGORIES, ERRORS, ERRORS_BY_CODE, ERRORS_BY_NAME, INTERRUPTION_REASONS, MODES, NOTIFICATIONS,
    OPTIONS, PORTS, REASONS,
)
from routesim.routes.phone.errors import CALLKIT_DOMAIN, CALLKIT_REQUEST_ERRORS, ErrorMatch, error_for_code
from routesim.routes.scenario.model import Expect, NoteMatch, PortMatch, RouteMatch
from routesim.routes.scenario.nodes import int_value, is_null, kind
from routesim.routes.scenario.values import (
    At, Bool, Choice, ListOf, Measure, Name, Nullable, Record, Ref, Schema, Table, Text, at_least_one, opt, pairs,
)
from routesim.routes.scenario.values import Duration, Number  # noqa: E402  (the audio expectation)
from routesim.routes.scenario.limits import MAX_AUDIO_S, MAX_FREQUENCY  # noqa: E402

# ---------------------------------------------------------------- routes

PORT = Record({"type": opt(Name(PORTS)), "name": opt(Text("a port name")), "uid": opt(Text("a port uid"))},
              shorthand="type", check=at_least_one("type", "name", "uid"),
              expected="a port type (builtInMic, bluetoothA2DP, ...) or a mapping {type, name, uid}",
              post=lambda d: PortMatch(d.get("type"), d.get("name"), d.get("uid")))
ROUTE = Record({"inputs": opt(ListOf(PORT)), "outputs": opt(ListOf(PORT))},
               post=lambda d: RouteMatch(d.get("inputs"), d.get("outputs")))

# ---------------------------------------------------------------- errors


class ErrorName(Text):
    """``insufficientPriority``, ``"!pri"``, ``561017449`` (or ``"-50"``) -> ErrorMatch with name and code."""

    expected = "an AVAudioSession error name (insufficientPriority), its four-character code in quotes (\"!pri\") or its number"

    def convert(self, node: Node, at: At) -> Any:
        if kind(node) == "int":
            return error_for_code(int_value(node))
        return super().convert(node, at)

    def from_text(self, text: str, at: At, node: Node) -> Any:
        if text in ERRORS:
            name = ERRORS.resolve(text)
            return ErrorMatch(name=name, code=ERRORS_BY_NAME[name].code)
        if re.fullmatch(r"\s*[-+]?\d+\s*", text):
            return error_for_code(int(text))
        suggestion = ERRORS.suggest(text)
        hint = f"; did you mean {suggestion!r}?" if suggestion else ""
        at.fail(f"unknown error {text!r}{hint} (expected {self.expected})", node)


class ErrorCode(Text):
    """``{code: INT}``, or a four-character code as text (``"fmt?"``: its big-endian value)."""

    expected = "an integer OSStatus or a four-character code in quotes"

    def convert(self, node: Node, at: At) -> Any:
        if kind(node) == "int":
            return int_value(node)
        return super().convert(node, at)

    def from_text(self, text: str, at: At, node: Node) -> Any:
        if text in ERRORS:
            return ERRORS_BY_NAME[ERRORS.resolve(text)].code
        raw = text[1:-1] if len(text) == 6 and text[0] == text[-1] == "'" else text
        if len(raw) == 4 and raw.isascii():
            return int.from_bytes(raw.encode("ascii"), "big", signed=True)
        if re.fullmatch(r"\s*[-+]?\d+\s*", text):
            return int(text)
        at.fail(f"expected {self.expected}, got {text!r}", node)


def _only_one(result: dict, at: At, node: Node | None) -> None:
    if len(result) != 1:
        at.fail("give exactly one of code, exception or callkit", node)


def _error_fields(d: dict) -> ErrorMatch:
    if "callkit" in d:
        return ErrorMatch(name=d["callkit"], code=CALLKIT_REQUEST_ERRORS[d["callkit"]], domain=CALLKIT_DOMAIN)
    return error_for_code(d["code"]) if "code" in d else ErrorMatch(exception=d["exception"])


# Addition: {callkit: NAME}, a CallKit request's CXErrorCodeRequestTransactionError
ERROR_FIELDS = Record({"code": opt(ErrorCode()), "exception": opt(Text("exception text")),
                       "callkit": opt(Choice(*CALLKIT_REQUEST_ERRORS))}, check=_only_one, post=_error_fields)


class ErrorSchema(Schema):
    expected = f"{ErrorName.expected}, or {{code: INT}} or {{exception: TEXT}}"

    def convert(self, node: Node, at: At) -> Any:
        return (ERROR_FIELDS if isinstance(node, MappingNode) else ErrorName()).convert(node, at)


ERROR = ErrorSchema()

# ---------------------------------------------------------------- notifications

NOTE_FIELDS: dict[str, Record] = {
    "routeChange": Record({"reason": opt(Name(REASONS)), "previousRoute": opt(ROUTE)}),
    "interruption": Record({"type": opt(Choice("began", "ended")), "reason": opt(Name(INTERRUPTION_REASONS)),
                            "shouldResume": opt(Bool())}),
    "silenceSecondaryAudioHint": Record({"type": opt(Choice("begin", "end"))}),
    "timedOutPerforming": Record({"action": opt(Choice(*CALLKIT_ACTIONS))}),
}
NOTE_NAME = Name(NOTIFICATIONS)


class NoteSchema(Schema):
    """A bare notification name, or a one-key mapping from the name to the fields to match."""

    expected = "a notification name (routeChange, interruption, ...) or {NAME: {fields}}"

    def convert(self, node: Node, at: At) -> NoteMatch:
        if isinstance(node, ScalarNode):
            return NoteMatch(NOTE_NAME.parse(node, at), {})
        if not isinstance(node, MappingNode):
            self.mismatch(node, at)
        entries = pairs(node, at)
        if len(entries) != 1:
            at.fail(f"a notification entry is a name or a mapping with one key (the name); this one has "
                    f"{len(entries)}: {', '.join(e[0] for e in entries)}", node)
        _, key_node, value = entries[0]
        name = NOTE_NAME.parse(key_node, at)
        schema = NOTE_FIELDS.get(name)
        if schema is None:
            if not (is_null(value) or (isinstance(value, MappingNode) and not value.value)):
                at.fail(f"{name} has no fields to match; write it as a bare name", value)
            return NoteMatch(name, {})
        return NoteMatch(name, schema.parse(value, at.key(name, value)))


NOTES = ListOf(NoteSchema())

# ---------------------------------------------------------------- the rest

NUMBER = opt(Measure())
FORMAT = Record({"sampleRate": NUMBER, "channels": NUMBER})
PERCENT = opt(Nullable(Measure()))

SESSION = Record({
    "category": opt(Name(CATEGORIES)),
    "mode": opt(Name(MODES)),
    "categoryOptions": opt(ListOf(Name(OPTIONS), post=frozenset)),
    "isActive": opt(Bool()),
    "sampleRate": NUMBER,
    "IOBufferDuration": NUMBER,
    "inputNumberOfChannels": NUMBER,
    "outputNumberOfChannels": NUMBER,
    "preferredInput": opt(Nullable(Ref("accessory", "accessories", builtins=("builtInMic",)))),
    "availableInputs": opt(ListOf(Name(PORTS))),
    "isOtherAudioPlaying": opt(Bool()),
    "secondaryAudioShouldBeSilencedHint": opt(Bool()),
})

ACCESSORY_STATE = Record({
    "profile": opt(Choice("a2dp", "hfp", "none")),
    "codec": opt(Nullable(Choice(*CODECS))),
    "name": opt(Text("a name")),
    "battery": opt(Record({"left": PERCENT, "right": PERCENT, "case": PERCENT})),
    "worn": opt(Bool()),  # Addition: head detection (null for models without it)
    "highQualityRecording": opt(Choice("enabled", "supported", "unsupported")),  # Addition (iOS 26)
})

# addition: the rig's own facts at this point (what BlueZ and the audio server showed when a recording was
# made). They are not the model's view: a disagreement is drift, reported, and a failure only when asked.
RIG_FACTS = Record({
    "profile": opt(Choice("a2dp", "hfp", "none")),
    "codec": opt(Nullable(Text("a codec name", one_line=True))),
    "sampleRate": opt(Nullable(Number(positive=True))),
    "card": opt(Nullable(Text("the audio server's card profile", one_line=True))),
})

EXPECT_FIELDS = Record({
    "route": opt(ROUTE),
    "notifications": opt(NOTES),
    "notificationsInclude": opt(NOTES),
    "notificationsExclude": opt(NOTES),
    "error": opt(ERROR),
    "session": opt(SESSION),
    "others": opt(Table(Ref("other app", "others"), Choice("playing", "ducked", "interrupted", "stopped"))),
    "calls": opt(Table(Ref("call", "calls"), Choice("ringing", "connecting", "active", "held", "ended"))),
    # Addition: each call's group, compared as a set (a call not merged is alone; an ended call has none)
    "callGroups": opt(Table(Ref("call", "calls"), ListOf(Ref("call", "calls"), dedupe=True, post=sorted))),
    "engine": opt(Record({"running": opt(Bool()), "inputFormat": opt(FORMAT), "outputFormat": opt(FORMAT)})),
    "recording": opt(Record({"bytes": NUMBER, "error": opt(Nullable(ERROR)), "success": opt(Nullable(Bool())),
                             "interrupted": opt(Bool())})),  # Addition: null success, interrupted
    "accessories": opt(Table(Ref("accessory", "accessories"), ACCESSORY_STATE)),
    "rig": opt(Table(Ref("accessory", "accessories"), RIG_FACTS)),
    "audio": opt(Record({  # addition (docs/audio-expectation.md): a test signal through the current route
        "signal": opt(Choice("sweep", "tone", "noise", "speech")),
        "direction": opt(Choice("output", "input")),
        "frequency": opt(Number(positive=True, maximum=MAX_FREQUENCY)),
        "duration": opt(Duration(positive=True, maximum=MAX_AUDIO_S, what="an audio length")),
        "sourceLevel": opt(Number(maximum=0)),
        "bandwidth": NUMBER, "level": NUMBER, "snr": NUMBER, "sampleRate": NUMBER, "channels": NUMBER,
        "port": opt(Nullable(Name(PORTS))),
        "codec": opt(Nullable(Choice(*CODECS))),
    })),
})


class ExpectSchema(Schema):
    expected = EXPECT_FIELDS.expected

    def missing(self, at: At, node: Node | None) -> Expect:
        return Expect(line=at.line)

    def convert(self, node: Node, at: At) -> Expect:
        d = EXPECT_FIELDS.parse(node, at)
        return Expect(
            line=at.line, route=d.get("route"), notifications=d.get("notifications"),
            notifications_include=d.get("notificationsInclude"), notifications_exclude=d.get("notificationsExclude"),
            error=d.get("error"), session=d.get("session"), others=d.get("others"), calls=d.get("calls"),
            call_groups=d.get("callGroups"),
            engine=d.get("engine"), recording=d.get("recording"), accessories=d.get("accessories"),
            audio=d.get("audio"), rig=d.get("rig"),
        )


EXPECT = ExpectSchema()
