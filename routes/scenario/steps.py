"""The step table: each step name (as docs/scenario-format.md writes it) and the schema of its argument.

The normalised argument of every step is whatever its schema returns; see the table below.
"""
from __future__ import annotations

from yaml.nodes import MappingNode, Node, ScalarNode

from routesim.routes.phone.vocabulary import CATEGORIES, MODES, OPTIONS, Vocabulary
from routesim.routes.scenario.expect import EXPECT
from routesim.routes.scenario.limits import MAX_CHANNELS, MAX_SAMPLE_RATE
from routesim.routes.scenario.model import Step
from routesim.routes.scenario.nodes import is_null, kind, line_of
from routesim.routes.scenario.values import (
    At, Bool, ByKind, Choice, Duration, Field, ListOf, Name, NoArg, Nullable, Number, Record, Ref, Schema, Text,
    at_least_one, did_you_mean, opt, pairs, req,
)

RESERVED_IDS = ("speaker", "receiver", "builtInMic")

# Bounded where the model computes buffer sizes from them (routes.scenario.limits).
RATE = Number(positive=True, maximum=MAX_SAMPLE_RATE)
CHANNELS = Number(minimum=1, maximum=MAX_CHANNELS, integer=True)

ACCESSORY = Ref("accessory", "accessories")
OTHER = Ref("other app", "others")
NEW_CALL = Ref("call", "calls", introduce=True)
CALL = Ref("call", "calls")
AFTER = opt(Duration(), 0.0)
BY = opt(Choice("local", "remote"), "local")
RESULT = opt(Choice("fulfill", "fail"), "fulfill")
PERCENT = opt(Nullable(Number(minimum=0, maximum=100, integer=True)), None)
EAR = opt(Nullable(Choice("in", "out")), None)
NONE = NoArg()

CATEGORY_OPTIONS = ListOf(Name(OPTIONS), dedupe=True, post=tuple)

ACTIVE_OPTIONS = Vocabulary("setActive option", ("notifyOthersOnDeactivation",), {
    "notifyOthersOnDeactivation": "notifyOthersOnDeactivation",
    "AVAudioSessionSetActiveOptionNotifyOthersOnDeactivation": "notifyOthersOnDeactivation",
})
PORT_OVERRIDES = Vocabulary("output port override", ("speaker", "none"), {
    "speaker": "speaker", "AVAudioSessionPortOverrideSpeaker": "speaker",
    "none": "none", "AVAudioSessionPortOverrideNone": "none",
})


def _call(**extra: Field) -> Record:
    return Record({"call": req(CALL), **extra}, shorthand="call")


def _ears(result: dict, at: At, node: Node | None) -> None:
    if result.get("case") is not None and (result.get("left") is not None or result.get("right") is not None):
        at.fail("give either left/right or case, not both", node)
    at_least_one("left", "right", "case")(result, at, node)


def _ears_shape(result: dict) -> dict:
    if result["case"] is not None:
        return {"accessory": result["accessory"], "case": result["case"]}
    return {"accessory": result["accessory"], "left": result["left"], "right": result["right"]}


STEPS: dict[str, Schema] = {
    # time
    "wait": Duration(),                                                   # -> float seconds
    # accessories and the user
    "connect": ACCESSORY,                                                 # -> accessory id
    "disconnect": ACCESSORY,
    "rename": Record({"accessory": req(ACCESSORY), "name": req(Text("a name", one_line=True))}),
    "battery": Record({"accessory": req(ACCESSORY), "left": PERCENT, "right": PERCENT, "case": PERCENT},
                      check=at_least_one("left", "right", "case")),
    "ears": Record({"accessory": req(ACCESSORY), "left": EAR, "right": EAR,
                    "case": opt(Nullable(Choice("open", "closed")), None)}, check=_ears, post=_ears_shape),
    "worn": Record({"accessory": req(ACCESSORY), "worn": req(Bool())}),  # Addition: head detection
    # addition: the rig changed the device's link (its audio server switched the card profile), as a
    # recording writes it; the phone model hears it as an accessory event
    "profile": Record({"accessory": req(ACCESSORY), "profile": req(Choice("a2dp", "hfp", "none")),
                       "codec": opt(Nullable(Text("a codec name (sbc, aac, msbc, ...)", one_line=True)), None)}),
    "pickRoute": Ref("accessory", "accessories", builtins=("speaker", "receiver")),
    "app": Choice("background", "foreground"),
    "others.play": OTHER,
    "others.stop": OTHER,
    "player.play": NONE,
    "player.stop": NONE,
    "system": Choice("mediaServicesReset"),
    # the app's audio session
    "session.setCategory": Record({"category": req(Name(CATEGORIES)), "mode": opt(Name(MODES), "default"),
                                   "options": opt(CATEGORY_OPTIONS, ())}, shorthand="category"),
    "session.setMode": Name(MODES),
    "session.setActive": Record({"active": req(Bool()), "options": opt(ListOf(Name(ACTIVE_OPTIONS), dedupe=True,
                                                                              post=tuple), ())},
                                shorthand="active"),
    "session.setPreferredInput": Nullable(Ref("accessory", "accessories", builtins=("builtInMic",))),
    "session.overrideOutputAudioPort": Name(PORT_OVERRIDES),
    "session.setPreferredSampleRate": RATE,
    "session.setPreferredIOBufferDuration": Duration(positive=True),
    "session.setPreferredInputNumberOfChannels": CHANNELS,
    "session.setPrefersNoInterruptionsFromSystemAlerts": Bool(),
    "session.setPrefersInterruptionOnRouteDisconnect": Bool(),
    # calls
    "callkit.configure": Record({"supportsHolding": opt(Bool()),
                                 "maximumCallGroups": opt(Number(minimum=1, integer=True)),
                                 "maximumCallsPerCallGroup": opt(Number(minimum=1, integer=True)),
                                 # Addition: the CXCallUpdate grouping flags reported from now on
                                 "supportsGrouping": opt(Bool()), "supportsUngrouping": opt(Bool())}),
    "callkit.reportIncoming": Record({"call": req(NEW_CALL)}, shorthand="call"),
    "callkit.startCall": Record({"call": req(NEW_CALL), "fulfillAfter": AFTER, "connectAfter": AFTER,
                                 "result": RESULT}, shorthand="call"),
    "callkit.answer": _call(fulfillAfter=AFTER, result=RESULT),
    "callkit.hold": _call(fulfillAfter=AFTER),
    "callkit.unhold": _call(fulfillAfter=AFTER),
    "callkit.end": _call(by=BY, fulfillAfter=AFTER),
    "callkit.speaker": Bool(),
    "callkit.reset": NONE,  # Addition: the system resets the provider (providerDidReset)
    "callkit.group": Record({"call": req(CALL), "with": req(CALL), "fulfillAfter": AFTER}),  # Addition
    "callkit.ungroup": _call(fulfillAfter=AFTER),  # Addition: CXSetGroupCallAction with no group
    "cellular.incoming": Record({"call": req(NEW_CALL)}, shorthand="call"),
    "cellular.answer": _call(holdOthers=opt(Bool(), False)),
    "cellular.decline": _call(),
    "cellular.end": _call(by=BY),
    # audio I/O
    "engine.start": NONE,
    "engine.stop": NONE,
    "engine.installTap": Record({"format": opt(ByKind(
        Choice("hardware"),
        Record({"sampleRate": req(RATE), "channels": req(CHANNELS)}),
    ), "hardware")}, shorthand="format"),
    "engine.removeTap": NONE,
    "engine.setVoiceProcessingEnabled": Bool(),
    "recorder.record": Record({"format": opt(Choice("aac", "lpcm"), "aac"),
                               "sampleRate": opt(RATE, 44100.0),
                               "channels": opt(CHANNELS, 1),
                               "duration": opt(Duration(), 1.0),
                               "wait": opt(Bool())}),  # Addition: false records while later steps run
    "capture.start": Record({"automaticallyConfiguresApplicationAudioSession": opt(Bool(), True),
                             "configuresApplicationAudioSessionToMixWithOthers": opt(Bool(), False)}),
    "capture.stop": NONE,
    # checks
    "expect": EXPECT,                                                     # -> model.Expect
}


class StepSchema(Schema):
    """``- name: ARG`` (a one-key mapping) or ``- name`` (a bare string: no argument / all defaults)."""

    expected = "a step: a mapping with one key (`- connect: pods`) or a bare step name (`- engine.start`)"

    def convert(self, node: Node, at: At) -> Step:
        if isinstance(node, ScalarNode) and kind(node) == "str":
            name, name_node, arg = node.value, node, None
        elif isinstance(node, MappingNode):
            entries = pairs(node, at)
            if len(entries) != 1:
                at.fail(self._many(entries), node)
            name, name_node, arg = entries[0]
        else:
            self.mismatch(node, at)
        schema = STEPS.get(name)
        if schema is None:
            at.fail(f"unknown step {name!r}{did_you_mean(name, STEPS)}", name_node)
        here = At(at.ctx, name, line_of(name_node))
        value = schema.parse(None if is_null(arg) else arg, here)
        return Step(name, value, line_of(node))

    @staticmethod
    def _many(entries: list[tuple[str, Node, Node]]) -> str:
        names = [e[0] for e in entries]
        if not names:
            return "a step is a mapping with exactly one key (the step name); this one is empty"
        message = (f"a step is a mapping with exactly one key (the step name), this one has {len(names)}: "
                   f"{', '.join(names)}")
        steps = [n for n in names if n in STEPS]
        if len(steps) == 1 and is_null(dict((e[0], e[2]) for e in entries)[steps[0]]):
            return message + f"; indent the arguments of {steps[0]} under it"
        return message + "; put each step on its own `- ` line"


STEP = StepSchema()
STEP_LIST = ListOf(STEP, expected="a list of steps")

