"""CallKit and cellular calls as table rows: start state, event, expected notifications, end state.

Each row's expectation comes from the public source its comment cites (keys in docs/sources.md), not
from the model. Start states are built by the named recipes in START; the event runs on
the virtual clock, so delayed fulfils and timeouts happen inside it.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable

import pytest

from routesim.routes.audio.engine import Engine
from routesim.routes.phone.callkit import CallCenter
from routesim.routes.phone.cellular import Cellular
from routesim.routes.phone.errors import StepError
from tests.phone_rig import Rig, make_rig

RC, ACT, DEACT, INT, TO = "routeChange", "didActivate", "didDeactivate", "interruption", "timedOutPerforming"
MIC, RCV, SPK = "builtInMic", "builtInReceiver", "builtInSpeaker"
VOICE = dict(category="playAndRecord", mode="voiceChat")


@dataclass
class Ctx:
    rig: Rig
    center: CallCenter
    cell: Cellular
    error_text: str = ""  # what the user reads of the step's error (StepError or the session/CallKit error)
    error_rule: str | None = None  # the rule a refused CallKit request names (shown by `explain`)
    start_fired: set[str] = field(default_factory=set)
    taken: list = field(default_factory=list)  # the notifications the last notes() took, whole
    engine: Engine | None = None  # the app's AVAudioEngine, when the start state runs one

    def _do(self, fn: Callable[..., Any], *args: Any) -> Any:
        try:
            return self.rig.manager.call(fn, *args)
        finally:
            self.rig.fired.update(self.rig.phone.fired)  # each call starts a new step: keep its rules

    def ck(self, method: str, *args: Any) -> Any:
        return self._do(getattr(self.center, method), *args)

    def gsm(self, method: str, *args: Any) -> Any:
        return self._do(getattr(self.cell, method), *args)

    def app(self, method: str, *args: Any) -> Any:
        return self._do(getattr(self.rig.phone, method), *args)

    def wait(self, seconds: float) -> None:
        self.rig.clock.advance(seconds)
        self.rig.fired.update(self.rig.phone.fired)


def notes(ctx: Ctx) -> list[tuple]:
    out = []
    ctx.taken = ctx.rig.manager.take_notifications()
    for n in ctx.taken:
        if n.name == "availableInputsChange":
            continue  # iOS 26's companion of a routeChange (a routing rule), not a call notification
        detail = {RC: "reason", INT: "type", TO: "action"}.get(n.name)
        detail = n.fields.get(detail) if detail else None
        out.append((n.name, detail) if detail else (n.name,))
    return out


# ---------------------------------------------------------------------- start states
def _ringing(c: Ctx) -> None:
    c.ck("report_incoming", "v")


def _active(c: Ctx) -> None:
    _ringing(c)
    c.ck("answer", "v")


def _held_for_gsm(c: Ctx) -> None:
    _active(c)
    c.gsm("incoming", "g")
    c.gsm("answer", "g", True)


def _held_after_remote_end(c: Ctx) -> None:
    _held_for_gsm(c)
    c.gsm("end", "g", "remote")


def _unheld_without_activation(c: Ctx) -> None:
    _held_after_remote_end(c)
    c.ck("unhold", "v")


def _app_active(c: Ctx) -> None:
    c.app("set_active", True)


def _speaker_call_ended(c: Ctx) -> None:
    _active(c)
    c.ck("speaker", True)
    c.ck("end", "v", "local", 0.0)


def _no_holding_active(c: Ctx) -> None:
    c.ck("configure", False, None, None)
    _active(c)


def _gsm_ringing(c: Ctx) -> None:
    c.app("set_active", True)
    c.gsm("incoming", "g")


def _gsm_answered(c: Ctx) -> None:
    _gsm_ringing(c)
    c.gsm("answer", "g", False)


def _first_call_done(c: Ctx) -> None:
    _active(c)
    c.ck("end", "v", "local", 0.0)


def _held_and_active(c: Ctx) -> None:
    """v held, w answered and active; both reported with supportsGrouping and supportsUngrouping."""
    c.ck("configure", None, None, None, True, True)
    _active(c)
    c.ck("hold", "v")
    c.ck("report_incoming", "w")
    c.ck("answer", "w")


def _merged(c: Ctx) -> None:
    _held_and_active(c)
    c.ck("group", "v", "w")


def _merged_held(c: Ctx) -> None:
    _merged(c)
    c.ck("hold", "w")


def _merged_no_ungrouping(c: Ctx) -> None:
    """v and w merged; both reported with supportsGrouping but not supportsUngrouping."""
    c.ck("configure", None, None, None, True, False)
    _active(c)
    c.ck("hold", "v")
    c.ck("report_incoming", "w")
    c.ck("answer", "w")
    c.ck("group", "v", "w")


def _held_grouping_and_active_without(c: Ctx) -> None:
    """v held, reported with supportsGrouping; w active, reported after a configuration without it."""
    c.ck("configure", None, None, None, True, True)
    _active(c)
    c.ck("hold", "v")
    c.ck("configure", None, None, None, False, False)
    c.ck("report_incoming", "w")
    c.ck("answer", "w")


def _held_and_active_no_grouping(c: Ctx) -> None:
    _active(c)
    c.ck("hold", "v")
    c.ck("report_incoming", "w")
    c.ck("answer", "w")


def _active_engine_running(c: Ctx) -> None:
    """v active; the app started its engine in didActivate, as the core contract says."""
    _active(c)
    c.engine = Engine(c.rig.phone)
    c._do(c.engine.start)


def _gsm_active(c: Ctx) -> None:
    c.gsm("incoming", "g")
    c.gsm("answer", "g", False)


def _dropped_activation(c: Ctx) -> None:
    """iOS 18.4.1+ with the drop: the second call's activation was lost (w active, the session inactive)."""
    _first_call_done(c)
    c.ck("report_incoming", "w")
    c.ck("answer", "w")


def _active_speaker(c: Ctx) -> None:
    _active(c)
    c.ck("speaker", True)


START: dict[str, Callable[[Ctx], None]] = {
    "active-engine-running": _active_engine_running,
    "gsm-active": _gsm_active,
    "dropped-activation": _dropped_activation,
    "active-speaker": _active_speaker,
    "held-and-active": _held_and_active,
    "merged": _merged,
    "merged-held": _merged_held,
    "held-and-active-no-grouping": _held_and_active_no_grouping,
    "merged-no-ungrouping": _merged_no_ungrouping,
    "held-grouping-and-active-without": _held_grouping_and_active_without,
    "idle": lambda c: None,
    "ringing": _ringing,
    "active": _active,
    "held-for-gsm": _held_for_gsm,
    "held-after-remote-end": _held_after_remote_end,
    "unheld-without-activation": _unheld_without_activation,
    "app-active": _app_active,
    "speaker-call-ended": _speaker_call_ended,
    "no-holding-active": _no_holding_active,
    "gsm-ringing": _gsm_ringing,
    "gsm-answered": _gsm_answered,
    "first-call-done": _first_call_done,
}


@dataclass
class Row:
    id: str
    start: str
    event: Callable[[Ctx], Any]
    notes: list[tuple]
    calls: dict[str, str] | None = None
    error: str | None = None  # an AVAudioSession error name, or "StepError" (a scenario error)
    after: dict[str, Any] = field(default_factory=dict)
    setup: dict = field(default_factory=lambda: dict(VOICE))
    message: str | None = None  # text the error's message must contain (what the user reads)
    fires: tuple[str, ...] = ()  # rule ids the step must fire (as `explain` names them)
    error_rule: str | None = None  # the rule a refused CallKit request names
    quiet: tuple[str, ...] = ()  # rule ids the step must not fire (the branch not taken)
    note_rules: dict[str, str] = field(default_factory=dict)  # notification -> the rule `explain` names for it

    def notes_named(self, name: str) -> list[tuple]:
        return [n for n in self.notes if n[0] == name]


READERS: dict[str, Callable[[Ctx], Any]] = {
    "groups": lambda c: c.center.groups(),
    "active": lambda c: c.rig.phone.active,
    "category": lambda c: c.rig.phone.config.category,
    "inputChannels": lambda c: c.rig.phone.input_channels,
    "route": lambda c: c.rig.route(),
    "others": lambda c: {k: o.state for k, o in c.rig.phone.others.items()},
    "engineRunning": lambda c: c.engine.running,
    "callHolder": lambda c: c.rig.phone.call_holder,  # who holds call priority ("Phone hosts a call")
    "inputsChanges": lambda c: sum(n.name == "availableInputsChange" for n in c.taken),  # iOS 26's posts
}

LENIENT = {"callkitManualActivation": "lenient"}
PLAYBACK = dict(category="playback")
MUSIC_PLAYING = dict(VOICE, others={"music": ("playback", "default", (), True)})  # another app's non-mixable playback

ROWS = [
    # [DOC Doc-didActivate, Doc-didDeactivate], [DOC Doc-didActivate]: a fulfilled answer activates, then didActivate
    Row("answer-fulfilled-activates", "ringing", lambda c: c.ck("answer", "v"), [(ACT,)], {"v": "active"},
        after={"active": True},
        fires=("callkit.answer-activates", "callkit.call-session-app-config", "callkit.activation-order"),
        quiet=("callkit.answer-delayed",), note_rules={ACT: "callkit.activation-order"}),
    # [DOC Doc-CXStartCallAction, Doc-didActivate]: fulfilled start activates; connecting until connected
    Row("start-connecting-then-active", "idle", lambda c: c.ck("start_call", "v", 0.0, 2.0), [(ACT,)],
        {"v": "connecting"}, after={"active": True},
        fires=("callkit.start-activates", "callkit.call-session-app-config", "callkit.activation-order")),
    Row("start-connects-after-its-own-delay", "idle", lambda c: (c.ck("start_call", "v", 0.0, 0.5), c.wait(0.4)),
        [(ACT,)], {"v": "connecting"}),
    Row("start-without-connect-delay-is-active", "idle", lambda c: c.ck("start_call", "v"), [(ACT,)], {"v": "active"}),
    Row("start-connected-after-delay", "idle", lambda c: (c.ck("start_call", "v", 0.0, 2.0), c.wait(2.0)),
        [(ACT,)], {"v": "active"}),
    # [DOC Doc-PushKit-VoIP]: the answer fulfil may be delayed; connecting meanwhile, no activation yet
    Row("answer-delayed-connecting", "ringing", lambda c: c.ck("answer", "v", 1.5), [], {"v": "connecting"},
        after={"active": False}, fires=("callkit.answer-delayed",), quiet=("callkit.answer-activates",)),
    Row("answer-delayed-under-a-second", "ringing", lambda c: c.ck("answer", "v", 0.5), [], {"v": "connecting"},
        fires=("callkit.answer-delayed",)),
    Row("answer-delayed-then-activates", "ringing", lambda c: (c.ck("answer", "v", 1.5), c.wait(1.5)),
        [(ACT,)], {"v": "active"}),
    # [DOC Doc-didActivate, Doc-didDeactivate], [INF]: a failed answer ends the call, nothing activates
    Row("answer-failed-ends", "ringing", lambda c: c.ck("answer", "v", 0.0, "fail"), [], {"v": "ended"},
        fires=("callkit.action-failed",), quiet=("callkit.answer-activates",)),
    Row("answer-failed-later-ends", "ringing", lambda c: (c.ck("answer", "v", 1.0, "fail"), c.wait(1.0)), [],
        {"v": "ended"}, after={"active": False}, fires=("callkit.action-failed",),
        quiet=("callkit.answer-activates", "callkit.action-timeout")),
    Row("start-failed-ends", "idle", lambda c: c.ck("start_call", "v", 0.0, 0.0, "fail"), [], {"v": "ended"},
        after={"active": False}, fires=("callkit.action-failed",), quiet=("callkit.start-activates",)),
    Row("start-failed-later-ends", "idle", lambda c: (c.ck("start_call", "v", 1.0, 0.0, "fail"), c.wait(1.0)), [],
        {"v": "ended"}, fires=("callkit.action-failed",), quiet=("callkit.start-activates",)),
    # [DEV forum-715488, gh:opentok/CallKit#20]
    Row("hold-deactivates", "active", lambda c: c.ck("hold", "v"), [(DEACT,)], {"v": "held"},
        after={"active": False}, fires=("callkit.hold-deactivates",), quiet=("callkit.group-holds-together",),
        note_rules={DEACT: "callkit.activation-order"}),
    # [DEV forum-715488 (scenarios 2-3)]
    Row("unhold-activates", "active", lambda c: (c.ck("hold", "v"), notes(c), c.ck("unhold", "v")), [(ACT,)],
        {"v": "active"}, after={"active": True}, fires=("callkit.unhold-activates",),
        quiet=("callkit.group-holds-together",)),
    # [DOC Doc-didActivate, Doc-didDeactivate]
    Row("local-end-deactivates", "active", lambda c: c.ck("end", "v", "local", 0.0), [(DEACT,)], {"v": "ended"},
        after={"active": False}, fires=("callkit.end-deactivates",)),
    Row("remote-end-deactivates", "active", lambda c: c.ck("end", "v", "remote", 0.0), [(DEACT,)],
        {"v": "ended"}, fires=("callkit.end-deactivates",)),
    Row("decline-voip-nothing", "ringing", lambda c: c.ck("end", "v", "local", 0.0), [], {"v": "ended"}),
    # [INF] / [DTS forum-749202]: refuse (default): the app's own setActive during the call fails
    Row("manual-activation-refused-while-ringing", "ringing", lambda c: c.app("set_active", True), [],
        error="insufficientPriority", after={"active": False},
        message="the app activated its session during a CallKit call the system has not activated",
        fires=("callkit.manual-activation-refused",)),
    # [INF] / [DTS forum-749202, forum-783870]: lenient: succeeds, then no didActivate and one-way audio
    Row("manual-activation-lenient-skips-did-activate", "ringing",
        lambda c: (c.app("set_active", True), c.ck("answer", "v")), [], {"v": "active"},
        after={"active": True, "inputChannels": 0}, setup=dict(VOICE, behavior=LENIENT),
        fires=("callkit.manual-activation-lenient",), quiet=("callkit.activation-order",)),
    Row("lenient-app-active-before-call-skips", "app-active", lambda c: (_ringing(c), c.ck("answer", "v")), [],
        {"v": "active"}, after={"inputChannels": 0}, setup=dict(VOICE, behavior=LENIENT)),
    # [DTS forum-783870] + [INF]: the one-way input lasts for the call: after it ends, the app's own activation
    # records again; the system never activated the app's session, so there is no didDeactivate either
    Row("lenient-one-way-ends-with-the-call", "ringing",
        lambda c: (c.app("set_active", True), c.ck("answer", "v"), c.ck("end", "v", "local", 0.0),
                   c.app("set_active", True)), [], {"v": "ended"},
        after={"active": True, "inputChannels": 1}, setup=dict(VOICE, behavior=LENIENT)),
    # [INF] refuse: a session active before the call is taken over: didActivate
    Row("refuse-app-active-before-call-promoted", "app-active", lambda c: (_ringing(c), c.ck("answer", "v")),
        [(ACT,)], {"v": "active"}, after={"inputChannels": 1}, fires=("callkit.promotes-active-session",)),
    # [DEV forum-749202, forum-715488 (scenario 1)]
    Row("gsm-local-end-auto-unholds", "held-for-gsm", lambda c: c.gsm("end", "g", "local"), [(ACT,)],
        {"v": "active", "g": "ended"}, after={"active": True}),
    # [DTS forum-749202]
    Row("gsm-remote-end-stays-held", "held-for-gsm", lambda c: c.gsm("end", "g", "remote"), [],
        {"v": "held", "g": "ended"}),
    Row("unhold-after-remote-end-no-did-activate", "held-after-remote-end", lambda c: c.ck("unhold", "v"), [],
        {"v": "active"}, after={"active": False}, fires=("callkit.remote-end-no-activation",)),
    Row("setactive-after-remote-end-unhold-refused", "unheld-without-activation",
        lambda c: c.app("set_active", True), [], error="insufficientPriority", after={"active": False}),
    Row("setactive-after-remote-end-unhold-lenient-one-way", "unheld-without-activation",
        lambda c: c.app("set_active", True), [], after={"active": True, "inputChannels": 0},
        setup=dict(VOICE, behavior=LENIENT)),
    # [DEV forum-715488, gh:opentok/CallKit#20: "including Hold & Accept"]
    Row("hold-and-accept-deactivates", "active", lambda c: (c.gsm("incoming", "g"), c.gsm("answer", "g", True)),
        [(DEACT,)], {"v": "held", "g": "active"}),
    # [DEV forum-715488 (scenarios 2-3)]: resuming ours activates; the Phone app's call is held [INF]
    Row("swap-to-voip-holds-gsm", "held-for-gsm", lambda c: c.ck("unhold", "v"), [(ACT,)],
        {"v": "active", "g": "held"}, after={"active": True}, fires=("callkit.swap-holds-cellular",)),
    Row("swap-back-to-gsm", "held-for-gsm", lambda c: (c.ck("unhold", "v"), notes(c), c.ck("hold", "v")),
        [(DEACT,)], {"v": "held", "g": "active"}, after={"active": False, "callHolder": "Phone"},
        fires=("callkit.swap-holds-cellular",)),
    # [INF] call waiting: a ringing cellular call does not interrupt the CallKit session
    Row("gsm-rings-during-voip-call-waiting", "active", lambda c: c.gsm("incoming", "g"), [],
        {"v": "active", "g": "ringing"}, after={"active": True}),
    # [INF]: End & Accept ends our call
    Row("end-and-accept-ends-voip", "active", lambda c: (c.gsm("incoming", "g"), c.gsm("answer", "g", False)),
        [(DEACT,)], {"v": "ended", "g": "active"}),
    # [INF]: supportsHolding false: no hold, no Hold & Accept (scenario errors)
    Row("no-holding-hold-and-accept-not-offered", "no-holding-active",
        lambda c: (c.gsm("incoming", "g"), c.gsm("answer", "g", True)), [], error="StepError"),
    Row("no-holding-hold-not-offered", "no-holding-active", lambda c: c.ck("hold", "v"), [], error="StepError",
        message="call 'v' was reported with supportsHolding: false; the system offers no hold",
        fires=("callkit.holding-unsupported",)),
    # [DOC H-CXProvider, Doc-CXProviderConfiguration]: timeouts end the call; a late fulfil is ignored
    Row("answer-timeout", "ringing", lambda c: (c.ck("answer", "v", 12.0), c.wait(12.0)), [(TO, "answerCall")],
        {"v": "ended"}, after={"active": False}),
    Row("start-timeout-ties-go-to-the-timeout", "idle", lambda c: (c.ck("start_call", "v", 2.0), c.wait(5.0)),
        [(TO, "startCall")], {"v": "ended"}, setup=dict(VOICE, behavior={"callkitActionTimeout": 2.0})),
    Row("end-timeout-deactivates-after", "active", lambda c: (c.ck("end", "v", "local", 11.0), c.wait(11.0)),
        [(TO, "endCall"), (DEACT,)], {"v": "ended"}),
    Row("hold-timeout-ends-call", "active", lambda c: (c.ck("hold", "v", 20.0), c.wait(20.0)),
        [(TO, "setHeldCall"), (DEACT,)], {"v": "ended"}, note_rules={TO: "callkit.action-timeout"}),
    Row("unhold-timeout-ends-call", "active",
        lambda c: (c.ck("hold", "v"), notes(c), c.ck("unhold", "v", 20.0), c.wait(20.0)),
        [(TO, "setHeldCall")], {"v": "ended"}, note_rules={TO: "callkit.action-timeout"}),
    # [DTS forum-783870]: 18.4.1+ drops the activation unless configured since the previous report
    Row("drops-did-activate-without-configure", "first-call-done",
        lambda c: (c.ck("report_incoming", "w"), c.ck("answer", "w")), [], {"w": "active"},
        after={"active": False}, setup=dict(VOICE, platform="ios-18.4.1", behavior={"callkitDropsDidActivate": True})),
    Row("configure-before-report-keeps-did-activate", "first-call-done",
        lambda c: (c.ck("configure"), c.ck("report_incoming", "w"), c.ck("answer", "w")), [(ACT,)], {"w": "active"},
        setup=dict(VOICE, platform="ios-18.4.1", behavior={"callkitDropsDidActivate": True})),
    # [INF]: beyond maximumCallGroups the new call ends at once
    Row("max-call-groups", "active", lambda c: (c.ck("configure", None, 1, None), c.ck("report_incoming", "w")),
        [], {"v": "active", "w": "ended"}, fires=("callkit.max-call-groups",), quiet=("callkit.report-incoming",)),
    Row("start-beyond-max-call-groups", "active", lambda c: (c.ck("configure", None, 1, None), c.ck("start_call", "w")),
        [], {"v": "active", "w": "ended"}, fires=("callkit.max-call-groups",), quiet=("callkit.start-activates",)),
    Row("one-group-allowed-takes-the-first-call", "idle",
        lambda c: (c.ck("configure", None, 1, None), c.ck("report_incoming", "v")), [], {"v": "ringing"}),
    # Grouping (CXSetGroupCallAction). [DOC Doc-CXSetGroupCallAction, Doc-callUUIDToGroupWith]: the call joins
    # the other's group; [INF] the held side joins the conversation and the app's one session stays up (no
    # didActivate, no didDeactivate)
    Row("group-merges-held-into-active", "held-and-active", lambda c: c.ck("group", "v", "w"), [],
        {"v": "active", "w": "active"}, after={"active": True, "groups": {"v": ["v", "w"], "w": ["v", "w"]}},
        fires=("callkit.group-merges", "callkit.group-one-session")),
    Row("group-delayed-fulfil-merges-later", "held-and-active", lambda c: c.ck("group", "v", "w", 1.0), [],
        {"v": "held", "w": "active"}, after={"groups": {"v": ["v"], "w": ["w"]}}),
    # [INF] a group is held and resumed as one: one didDeactivate, one didActivate
    Row("hold-merged-call-holds-group", "merged", lambda c: c.ck("hold", "w"), [(DEACT,)],
        {"v": "held", "w": "held"}, after={"active": False}, fires=("callkit.group-holds-together",)),
    Row("unhold-merged-call-resumes-group", "merged-held", lambda c: c.ck("unhold", "v"), [(ACT,)],
        {"v": "active", "w": "active"}, after={"active": True}, fires=("callkit.group-holds-together",)),
    # [INF] two held calls merged stay held: nothing activates
    Row("group-two-held-stays-held", "merged-held", lambda c: (c.ck("ungroup", "v"), c.ck("group", "v", "w")), [],
        {"v": "held", "w": "held"}, after={"active": False}),
    # [DOC Doc-callUUIDToGroupWith (nil)] + [INF] taken private: v stays active, w waits on hold, no session change
    Row("ungroup-takes-call-private", "merged", lambda c: c.ck("ungroup", "v"), [], {"v": "active", "w": "held"},
        after={"active": True, "groups": {"v": ["v"], "w": ["w"]}}, fires=("callkit.ungroup-private",)),
    # [INF] a member's end leaves the rest of the group as it was
    Row("end-one-of-group-keeps-session", "merged", lambda c: c.ck("end", "w", "remote", 0.0), [],
        {"v": "active", "w": "ended"}, after={"active": True, "groups": {"v": ["v"], "w": []}}),
    # [DOC Doc-CXProviderConfiguration]: a merged pair is one group, so a third call fits under maximumCallGroups 2
    Row("merged-pair-counts-as-one-group", "merged", lambda c: c.ck("report_incoming", "x"), [],
        {"x": "ringing"}),
    # [DOC Doc-CXErrorCodeRequestTransactionError]: refused requests fail at once, nothing changes
    Row("ungroup-beyond-max-call-groups", "merged",
        lambda c: (c.ck("configure", None, 1, None, True, True), c.ck("ungroup", "v")), [],
        {"v": "active", "w": "active"}, error="maximumCallGroupsReached",
        message="ungrouping 'v' would make 2 call groups (maximumCallGroups 1)",
        error_rule="callkit.ungroup-max-groups"),
    Row("group-without-supports-grouping", "held-and-active-no-grouping", lambda c: c.ck("group", "v", "w"), [],
        {"v": "held", "w": "active"}, error="invalidAction",
        message="call 'v' was reported with supportsGrouping: false", error_rule="callkit.grouping-unsupported"),
    Row("group-beyond-max-calls-per-group", "held-and-active",
        lambda c: (c.ck("configure", None, None, 1, True, True), c.ck("group", "v", "w")), [],
        {"v": "held", "w": "active"}, error="invalidAction",
        message="the group of 'w' already has maximumCallsPerCallGroup (1) calls",
        error_rule="callkit.max-calls-per-group"),
    Row("group-with-ended-call", "held-and-active", lambda c: (c.ck("end", "v", "remote", 0.0), c.ck("group", "w", "v")),
        [], {"w": "active"}, error="unknownCallUUID", message="call 'v' is ended", error_rule="callkit.group-refused"),
    Row("group-ringing-call", "merged", lambda c: (c.ck("report_incoming", "x"), c.ck("group", "x", "v")), [],
        {"x": "ringing"}, error="invalidAction",
        message="call 'x' is ringing; only calls in progress can be grouped", error_rule="callkit.group-refused"),
    Row("ungroup-lone-call", "active", lambda c: c.ck("ungroup", "v"), [], {"v": "active"}, error="invalidAction",
        message="call 'v' is not in a group", error_rule="callkit.group-refused"),
    # [DTS forum-800247]: the call UI's speaker, and its persistence into the next call
    Row("speaker-button", "active", lambda c: c.ck("speaker", True), [(RC, "override")],
        after={"route": ((MIC,), (SPK,))}, fires=("callkit.speaker",)),
    Row("speaker-persists-into-next-call", "speaker-call-ended",
        lambda c: (c.app("override_output", "none"), c.ck("report_incoming", "w"), c.ck("answer", "w")),
        [(RC, "override"), (ACT,)], {"w": "active"}, after={"route": ((MIC,), (SPK,))},
        fires=("callkit.speaker-persists", "notify.override"), note_rules={RC: "notify.override"}),
    Row("speaker-without-call-ui", "idle", lambda c: c.ck("speaker", True), [], error="StepError",
        message="callkit.speaker: no CallKit call is up, so there is no call UI to tap"),
    # [DTS forum-749202 "similar to PlayAndRecord"] + [INF]: an app that never configured playAndRecord
    Row("call-session-default-routing", "ringing", lambda c: c.ck("answer", "v"), [(RC, "categoryChange"), (ACT,)],
        {"v": "active"}, after={"category": "playback", "route": ((MIC,), (RCV,))}, setup=PLAYBACK,
        note_rules={RC: "callkit.activation-order"}, fires=("callkit.call-session-default",)),
    Row("call-session-default-restored", "active", lambda c: c.ck("end", "v", "remote", 0.0),
        [(DEACT,), (RC, "categoryChange")], after={"category": "playback", "route": ((), (SPK,))}, setup=PLAYBACK),
    # [DEV twilio-interruptions] + [DOC ASPG-Int]: non-CallKit session and a cellular call
    Row("gsm-ring-interrupts", "app-active", lambda c: c.gsm("incoming", "g"), [(INT, "began")], {"g": "ringing"},
        after={"active": False}, setup=PLAYBACK),
    Row("gsm-decline-ended", "gsm-ringing", lambda c: c.gsm("decline", "g"), [(INT, "ended")], {"g": "ended"},
        setup=PLAYBACK),
    Row("gsm-answered-ended", "gsm-answered", lambda c: c.gsm("end", "g", "remote"), [(INT, "ended")],
        setup=PLAYBACK),
    Row("gsm-answered-no-ended-legacy", "gsm-answered", lambda c: c.gsm("end", "g", "local"), [],
        setup=dict(PLAYBACK, behavior={"interruptionEndedAfterAnsweredCall": False})),
    # [DOC H-Session17]: record-capable activation fails while the Phone app hosts the call
    Row("gsm-call-priority", "gsm-answered", lambda c: c.app("set_active", True), [], error="insufficientPriority",
        setup=dict(category="playAndRecord")),
    Row("gsm-call-priority-allows-playback", "gsm-answered", lambda c: c.app("set_active", True), [],
        after={"active": True}, setup=PLAYBACK),
    # [DOC H-Types, ASPG-Int], [INF]: phone calls interrupt mixable sessions, unless the switch is off
    Row("gsm-interrupts-mixable", "app-active", lambda c: c.gsm("incoming", "g"), [(INT, "began")],
        setup=dict(category="playback", options=("mixWithOthers",))),
    Row("gsm-spares-mixable-switch", "app-active", lambda c: c.gsm("incoming", "g"), [], after={"active": True},
        setup=dict(category="playback", options=("mixWithOthers",), behavior={"phoneCallsInterruptMixable": False})),
    # [DOC H-Session17]: prefersNoInterruptionsFromSystemAlerts: only answering interrupts
    Row("gsm-alert-preference-ring", "app-active",
        lambda c: (setattr(c.rig.phone, "prefers_no_interruptions_from_alerts", True), c.gsm("incoming", "g")), [],
        after={"active": True}, setup=PLAYBACK),
    Row("gsm-alert-preference-answer", "app-active",
        lambda c: (setattr(c.rig.phone, "prefers_no_interruptions_from_alerts", True), c.gsm("incoming", "g"),
                   c.gsm("answer", "g", False)), [(INT, "began")], setup=PLAYBACK),
    # [INF]: other apps' audio is interrupted by the call and resumes after it
    Row("gsm-others-resume", "idle", lambda c: (c.gsm("incoming", "g"), c.gsm("decline", "g")), [],
        after={"others": {"music": "playing"}},
        setup=dict(PLAYBACK, others={"music": ("playback", "default", (), True)})),
    # Requests and steps that cannot be done say why (the text the user reads) and change nothing
    # [DOC Doc-CXErrorCodeRequestTransactionError], [INF]
    Row("group-already-in-the-group", "merged", lambda c: c.ck("group", "v", "w"), [], {"v": "active", "w": "active"},
        error="invalidAction", message="call 'v' is already in the group of 'w'", error_rule="callkit.group-refused"),
    Row("group-unknown-call", "active", lambda c: c.ck("group", "v", "zz"), [], {"v": "active"},
        error="unknownCallUUID",
        message="call 'zz' is not one of the app's CallKit calls", error_rule="callkit.group-refused"),
    Row("ungroup-ended-call", "first-call-done", lambda c: c.ck("ungroup", "v"), [], {"v": "ended"},
        error="unknownCallUUID", message="call 'v' is ended", error_rule="callkit.group-refused"),
    Row("end-ended-call", "first-call-done", lambda c: c.ck("end", "v", "local", 0.0), [], {"v": "ended"},
        error="StepError", message="call 'v' has already ended"),
    Row("hold-ringing-call", "ringing", lambda c: c.ck("hold", "v"), [], {"v": "ringing"},
        error="StepError", message="call 'v' is ringing; only a call in progress can be held"),
    Row("unhold-active-call", "active", lambda c: c.ck("unhold", "v"), [], {"v": "active"},
        error="StepError", message="call 'v' is active, not held"),
    Row("answer-active-call", "active", lambda c: c.ck("answer", "v"), [], {"v": "active"},
        error="StepError", message="call 'v' is active, not ringing: there is nothing to answer"),
    Row("ungroup-without-supports-ungrouping", "merged-no-ungrouping", lambda c: c.ck("ungroup", "v"), [],
        {"v": "active", "w": "active"}, error="invalidAction",
        message="call 'v' was reported with supportsUngrouping: false", error_rule="callkit.grouping-unsupported"),
    # [DOC H-CXProvider, Doc-timedOutPerforming]: a setGroupCall action that times out ends its call; the rest of
    # the group keeps the session [INF]
    Row("ungroup-timeout-ends-call", "merged", lambda c: (c.ck("ungroup", "v", 20.0), c.wait(20.0)),
        [(TO, "setGroupCall")], {"v": "ended", "w": "active"}, after={"active": True}),
    Row("group-into-a-lone-call-without-supports-grouping", "held-grouping-and-active-without",
        lambda c: c.ck("group", "v", "w"), [], {"v": "held", "w": "active"}, error="invalidAction",
        message="call 'w' was reported with supportsGrouping: false", error_rule="callkit.grouping-unsupported"),
    Row("group-timeout-ends-call", "held-and-active", lambda c: (c.ck("group", "v", "w", 20.0), c.wait(20.0)),
        [(TO, "setGroupCall")], {"v": "ended", "w": "active"}, after={"active": True}),
    # [DTS forum-800247] + [INF]: the call UI (and its speaker button) is up while any call rings, connects, is
    # active or held; the override reroutes only while the call session is active
    Row("speaker-while-ringing-no-reroute", "ringing", lambda c: c.ck("speaker", True), [], fires=("callkit.speaker",)),
    Row("speaker-while-held-no-reroute", "active", lambda c: (c.ck("hold", "v"), notes(c), c.ck("speaker", True)), [],
        {"v": "held"}, fires=("callkit.speaker",)),
    Row("speaker-while-connecting", "idle",
        lambda c: (c.ck("start_call", "v", 0.0, 2.0), notes(c), c.ck("speaker", True)),
        [(RC, "override")], {"v": "connecting"}, after={"route": ((MIC,), (SPK,))}),
    # [DOC H-CXProvider]: providerDidReset ends every call; the call session goes as when the last call ends
    Row("provider-reset-ends-every-call", "held-and-active", lambda c: c.ck("reset"),
        [("providerDidReset",), (DEACT,)], {"v": "ended", "w": "ended"}, after={"active": False},
        fires=("callkit.provider-reset",), note_rules={"providerDidReset": "callkit.provider-reset"}),
    Row("provider-reset-ends-a-ringing-call", "ringing", lambda c: c.ck("reset"), [("providerDidReset",)],
        {"v": "ended"}, note_rules={"providerDidReset": "callkit.provider-reset"}),
    Row("provider-reset-ends-a-connecting-call", "ringing", lambda c: (c.ck("answer", "v", 5.0), c.ck("reset")),
        [("providerDidReset",)], {"v": "ended"}),
    # [INF] (the call session ends like a deactivation with notifyOthersOnDeactivation) and [DTS forum-804510] (a
    # non-mixable app is held off until the call session ends): the music the answer interrupted resumes on
    # didDeactivate, whether the call ends or is held
    Row("call-end-resumes-other-app", "active", lambda c: c.ck("end", "v", "local", 0.0), [(DEACT,)], {"v": "ended"},
        after={"others": {"music": "playing"}}, setup=MUSIC_PLAYING,
        fires=("activate.others-resume", "callkit.activation-order")),
    Row("call-answer-interrupts-other-app", "ringing", lambda c: c.ck("answer", "v"), [(ACT,)], {"v": "active"},
        after={"others": {"music": "interrupted"}}, setup=MUSIC_PLAYING),
    Row("call-hold-resumes-other-app", "active", lambda c: c.ck("hold", "v"), [(DEACT,)], {"v": "held"},
        after={"others": {"music": "playing"}}, setup=MUSIC_PLAYING),
    # [DOC H-Session17] + [INF]: while the Phone app's call holds call priority the other app stays held off
    Row("hold-and-accept-keeps-other-app-held-off", "active",
        lambda c: (c.gsm("incoming", "g"), c.gsm("answer", "g", True)), [(DEACT,)], {"v": "held", "g": "active"},
        after={"others": {"music": "interrupted"}, "callHolder": "Phone"}, setup=MUSIC_PLAYING,
        quiet=("activate.others-resume",)),
    # [DOC Doc-didActivate, Doc-didDeactivate] + [INF]: didDeactivate only when the last call with audio loses
    # it; a second call answered during the first gets no second didActivate
    Row("second-call-ends-first-keeps-session", "active",
        lambda c: (c.ck("report_incoming", "w"), c.ck("answer", "w"), c.ck("end", "w", "local", 0.0)), [],
        {"v": "active", "w": "ended"}, after={"active": True}, quiet=("callkit.activation-order",)),
    Row("second-call-ends-started-call-keeps-session", "idle",
        lambda c: (c.ck("start_call", "v"), notes(c), c.ck("report_incoming", "w"), c.ck("answer", "w"),
                   c.ck("end", "w", "local", 0.0)), [], {"v": "active", "w": "ended"}, after={"active": True}),
    # [INF] Doc-didActivate order: didDeactivate, then the route change back from the call UI's speaker
    Row("speaker-call-end-restores-route", "active-speaker", lambda c: c.ck("end", "v", "local", 0.0),
        [(DEACT,), (RC, "override")], {"v": "ended"}, after={"route": ((MIC,), (RCV,))},
        fires=("callkit.activation-order",), note_rules={RC: "callkit.activation-order"}),
    Row("speaker-call-hold-restores-route", "active-speaker", lambda c: c.ck("hold", "v"),
        [(DEACT,), (RC, "override")], {"v": "held"}, after={"route": ((MIC,), (RCV,))}),
    Row("speaker-call-session-default-end", "active-speaker", lambda c: c.ck("end", "v", "local", 0.0),
        [(DEACT,), (RC, "categoryChange")], {"v": "ended"}, after={"route": ((), (SPK,)), "category": "playback"},
        setup=PLAYBACK),
    # [DOC ASPG-Int, H-Session17] the engine stops when the session is deactivated (didDeactivate on hold, end)
    Row("engine-stops-on-hold", "active-engine-running", lambda c: c.ck("hold", "v"), [(DEACT,)], {"v": "held"},
        after={"engineRunning": False}, fires=("engine.stops-on-interruption",)),
    Row("engine-stops-on-end", "active-engine-running", lambda c: c.ck("end", "v", "remote", 0.0), [(DEACT,)],
        {"v": "ended"}, after={"engineRunning": False}, fires=("engine.stops-on-interruption",)),
    # [INF] didDeactivate stops the app's player with the session: deactivating again later is not busy
    Row("player-stops-with-the-call-session", "active",
        lambda c: (c.app("player", True), c.ck("end", "v", "local", 0.0), c.app("set_active", True),
                   c.app("set_active", False)), [(DEACT,)], {"v": "ended"}, after={"active": False}),
    # [DTS forum-783870]: only the activation after the report is lost; resuming the call later activates
    Row("dropped-activation-comes-back-on-unhold", "dropped-activation",
        lambda c: (c.ck("hold", "w"), c.ck("unhold", "w")), [(ACT,)], {"w": "active"}, after={"active": True},
        setup=dict(VOICE, platform="ios-18.4.1", behavior={"callkitDropsDidActivate": True})),
    Row("drops-did-activate-fires", "first-call-done", lambda c: (c.ck("report_incoming", "w"), c.ck("answer", "w")),
        [], {"w": "active"}, setup=dict(VOICE, platform="ios-18.4.1", behavior={"callkitDropsDidActivate": True}),
        fires=("callkit.drops-did-activate",), quiet=("callkit.configure-before-report",)),
    Row("drop-needs-18-4-1", "first-call-done", lambda c: (c.ck("report_incoming", "w"), c.ck("answer", "w")),
        [(ACT,)], {"w": "active"}, setup=dict(VOICE, platform="ios-18.4", behavior={"callkitDropsDidActivate": True})),
    # [INF] a CallKit call started during the Phone app's call takes the audio: the cellular call goes on hold,
    # and with no cellular call ringing or active the Phone app no longer holds call priority
    Row("start-during-cellular-call-holds-it", "gsm-active", lambda c: c.ck("start_call", "v"), [(ACT,)],
        {"v": "active", "g": "held"}, after={"callHolder": None}, fires=("callkit.swap-holds-cellular",)),
    # [DOC Doc-CXSetGroupCallAction]: a group is of CallKit calls; `expect: callGroups` (an addition) lists the
    # CallKit calls, not the Phone app's
    Row("call-groups-list-callkit-calls-only", "gsm-active", lambda c: c.ck("start_call", "v"), [(ACT,)],
        {"v": "active", "g": "held"}, after={"groups": {"v": ["v"]}}, fires=("callkit.swap-holds-cellular",)),
    # A CallKit step names a CallKit call: the Phone app's call is not the app's to answer, hold or end
    Row("answer-names-a-cellular-call", "gsm-active", lambda c: c.ck("answer", "g"), [], {"g": "active"},
        error="StepError", message="no callkit call 'g'"),
    Row("hold-names-a-cellular-call", "gsm-active", lambda c: c.ck("hold", "g"), [], {"g": "active"},
        error="StepError", message="no callkit call 'g'"),
    Row("unhold-names-a-cellular-call", "gsm-active", lambda c: c.ck("unhold", "g"), [], {"g": "active"},
        error="StepError", message="no callkit call 'g'"),
    Row("end-names-a-cellular-call", "gsm-active", lambda c: c.ck("end", "g", "local", 0.0), [], {"g": "active"},
        error="StepError", message="no callkit call 'g'"),
    Row("report-reuses-a-call-id", "ringing", lambda c: c.ck("report_incoming", "v"), [], {"v": "ringing"},
        error="StepError", message="call 'v' already exists; give each call its own id"),
    # [DOC Doc-CXProvider reportCall(with:endedAt:reason:)]: the remote party's end is reported, not an action: no
    # fulfil delay applies
    Row("remote-end-is-at-once", "active", lambda c: c.ck("end", "v", "remote", 5.0), [(DEACT,)], {"v": "ended"}),
    # [DTS forum-749202] refuse: the app's own activation is refused while any call of its is up, held included,
    # and also after the app deactivated the call's session itself; already active, there is nothing to refuse
    Row("manual-activation-refused-while-held", "active",
        lambda c: (c.ck("hold", "v"), notes(c), c.app("set_active", True)), [], {"v": "held"},
        error="insufficientPriority", after={"active": False}),
    Row("manual-activation-refused-after-own-deactivation", "active",
        lambda c: (c.app("set_active", False), c.app("set_active", True)), [], {"v": "active"},
        error="insufficientPriority", after={"active": False}),
    Row("already-active-app-activates-again-during-ringing", "app-active",
        lambda c: (c.ck("report_incoming", "v"), c.app("set_active", True)), [], {"v": "ringing"},
        after={"active": True}),
    # [DTS forum-749202, forum-783870] lenient: recording is blocked as soon as the app activates during a call,
    # whatever the call's state, and the system never activates that call afterwards
    Row("lenient-blocks-input-at-once-while-ringing", "ringing", lambda c: c.app("set_active", True), [],
        after={"active": True, "inputChannels": 0}, setup=dict(VOICE, behavior=LENIENT),
        fires=("callkit.manual-activation-lenient",)),
    Row("lenient-blocks-input-at-once-while-connecting", "ringing",
        lambda c: (c.ck("answer", "v", 5.0), c.app("set_active", True)), [], {"v": "connecting"},
        after={"active": True, "inputChannels": 0}, setup=dict(VOICE, behavior=LENIENT)),
    Row("lenient-blocks-input-at-once-while-held", "active",
        lambda c: (c.ck("hold", "v"), notes(c), c.app("set_active", True)), [], {"v": "held"},
        after={"active": True, "inputChannels": 0}, setup=dict(VOICE, behavior=LENIENT)),
    Row("lenient-call-never-gets-the-system-activation", "ringing",
        lambda c: (c.app("set_active", True), c.app("set_active", False), c.ck("answer", "v")), [], {"v": "active"},
        after={"active": False}, setup=dict(VOICE, behavior=LENIENT)),
    # [INF] one-way audio lasts while any call of the app is up, whatever its state
    Row("lenient-one-way-lasts-while-another-call-rings", "ringing",
        lambda c: (c.app("set_active", True), c.ck("answer", "v"), c.ck("report_incoming", "w"),
                   c.ck("end", "v", "local", 0.0)), [], {"v": "ended", "w": "ringing"},
        after={"inputChannels": 0}, setup=dict(VOICE, behavior=LENIENT)),
    Row("lenient-one-way-lasts-while-another-call-connects", "ringing",
        lambda c: (c.app("set_active", True), c.ck("answer", "v"), c.ck("report_incoming", "w"),
                   c.ck("answer", "w", 5.0), c.ck("end", "v", "local", 0.0)), [], {"v": "ended", "w": "connecting"},
        after={"inputChannels": 0}, setup=dict(VOICE, behavior=LENIENT)),
    Row("lenient-one-way-lasts-while-another-call-is-active", "ringing",
        lambda c: (c.app("set_active", True), c.ck("answer", "v"), c.ck("report_incoming", "w"),
                   c.ck("answer", "w"), c.ck("end", "v", "local", 0.0)), [], {"v": "ended", "w": "active"},
        after={"inputChannels": 0}, setup=dict(VOICE, behavior=LENIENT)),
    Row("lenient-one-way-lasts-while-another-call-is-held", "ringing",
        lambda c: (c.app("set_active", True), c.ck("answer", "v"), c.ck("report_incoming", "w"),
                   c.ck("answer", "w"), c.ck("hold", "w"), c.ck("end", "v", "local", 0.0)), [],
        {"v": "ended", "w": "held"}, after={"inputChannels": 0}, setup=dict(VOICE, behavior=LENIENT)),
    # [DTS forum-749202]: only the unhold right after the remote end goes without didActivate; the next one has it
    Row("withheld-activation-is-one-unhold-only", "held-after-remote-end",
        lambda c: (c.ck("unhold", "v"), c.ck("hold", "v"), c.ck("unhold", "v")), [(ACT,)], {"v": "active"},
        after={"active": True}),
    # [DOC Doc-didActivate, Doc-didDeactivate] + [INF]: a resumed call has audio again, so ending another call
    # keeps the session; the same for a group resumed as one
    Row("resumed-call-keeps-the-session", "held-and-active",
        lambda c: (c.ck("end", "w", "remote", 0.0), c.ck("unhold", "v"), c.ck("report_incoming", "x"),
                   c.ck("answer", "x"), c.ck("end", "x", "remote", 0.0)), [(DEACT,), (ACT,)],
        {"v": "active", "x": "ended"}, after={"active": True}),
    Row("resumed-group-member-keeps-the-session", "merged-held",
        lambda c: (c.ck("unhold", "v"), c.ck("end", "v", "remote", 0.0)), [(ACT,)], {"v": "ended", "w": "active"},
        after={"active": True}),
    # [INF] taken private, the rest of the group is on hold without audio: ending the private call deactivates
    Row("ungrouped-private-call-end-deactivates", "merged",
        lambda c: (c.ck("ungroup", "v"), c.ck("end", "v", "remote", 0.0)), [(DEACT,)], {"v": "ended", "w": "held"},
        after={"active": False}),
    # [DOC H-Session17] + [INF]: a cellular call still ringing keeps the Phone app's call priority when ours takes
    # the audio
    Row("answer-while-cellular-rings-keeps-call-priority", "ringing",
        lambda c: (c.gsm("incoming", "g"), c.ck("answer", "v")), [(ACT,)], {"v": "active", "g": "ringing"},
        after={"callHolder": "Phone"}),
    # [DOC H-Session17] + [INF]: another app stays held off while the Phone app's call is active, and while a
    # held cellular call interrupted it
    Row("swap-back-keeps-other-app-held-off", "held-for-gsm",
        lambda c: (c.ck("unhold", "v"), notes(c), c.ck("hold", "v")), [(DEACT,)], {"v": "held", "g": "active"},
        after={"others": {"music": "interrupted"}}, setup=MUSIC_PLAYING),
    Row("other-app-held-off-by-cellular-stays-after-call", "gsm-active",
        lambda c: (c.ck("start_call", "v"), c.ck("end", "v", "local", 0.0)), [(ACT,), (DEACT,)],
        {"v": "ended", "g": "held"}, after={"others": {"music": "interrupted"}}, setup=MUSIC_PLAYING),
    # [DOC ASPG-Int media services reset] + [INF]: the reset ends the call's session: a later hold deactivates nothing
    Row("media-reset-ends-the-call-session", "active",
        lambda c: (c.app("media_services_reset"), c.ck("hold", "v")),
        [("mediaServicesWereLost",), ("mediaServicesWereReset",)], {"v": "held"}, after={"active": False}),
    # [DOC Doc-callUUIDToGroupWith (nil)] + [INF]: each call taken out of a group is a group of its own
    Row("two-calls-ungrouped-are-two-groups", "merged",
        lambda c: (c.ck("configure", None, 3, None, True, True), c.ck("report_incoming", "x"), c.ck("answer", "x"),
                   c.ck("group", "x", "v"), c.ck("ungroup", "v"), c.ck("ungroup", "w")), [],
        after={"groups": {"v": ["v"], "w": ["w"], "x": ["x"]}}),
    # [DEV twilio-interruptions] + [DOC Doc-didActivate]: a cellular call that interrupted the app's own session
    # before its CallKit call was answered leaves the system's activation to come: didActivate on answer
    Row("cellular-interruption-before-answer-then-did-activate", "app-active",
        lambda c: (c.ck("report_incoming", "v"), c.gsm("incoming", "g"), c.gsm("decline", "g"), c.ck("answer", "v")),
        [(INT, "began"), (INT, "ended"), (ACT,)], {"v": "active", "g": "ended"}, after={"active": True}),
    # [DOC H-Session17 mediaServicesWereReset: the session's state is lost] + [INF]: the system's call session is
    # lost with it; the route is the reset session's (soloAmbient: the speaker), not the call's receiver
    Row("media-reset-drops-the-call-session-route", "active", lambda c: c.app("media_services_reset"),
        [("mediaServicesWereLost",), ("mediaServicesWereReset",)], {"v": "active"},
        after={"route": ((), (SPK,)), "category": "soloAmbient", "active": False}, setup=PLAYBACK),
    # [DOC H-Types26 availableInputsChange: posted when the list changes]: after the reset, a step that keeps the
    # inputs as they are posts none
    Row("media-reset-then-same-inputs-posts-no-inputs-change", "active",
        lambda c: (c.app("media_services_reset"), notes(c), c.app("set_category", "soloAmbient")), [],
        {"v": "active"}, after={"inputsChanges": 0}, setup=PLAYBACK),
    Row("media-reset-in-the-app-call-config", "active", lambda c: c.app("media_services_reset"),
        [("mediaServicesWereLost",), ("mediaServicesWereReset",)], {"v": "active"},
        after={"route": ((), (SPK,)), "category": "soloAmbient"}),
    # [DTS forum-800247] + [INF]: only the call UI's speaker is the call's; the app's own speaker override outlives
    # the call's session
    Row("app-speaker-override-kept-on-hold", "active",
        lambda c: (c.app("override_output", "speaker"), notes(c), c.ck("hold", "v")), [(DEACT,)], {"v": "held"},
        after={"route": ((MIC,), (SPK,))}),
    Row("app-speaker-override-kept-after-a-call-ui-speaker-call", "speaker-call-ended",
        lambda c: (c.app("override_output", "speaker"), c.ck("report_incoming", "w"), c.ck("answer", "w"), notes(c),
                   c.ck("hold", "w")), [(DEACT,)], {"w": "held"}, after={"route": ((MIC,), (SPK,))}),
    Row("app-speaker-override-kept-after-the-call-ui-speaker-went-off", "active-speaker",
        lambda c: (c.app("override_output", "none"), c.app("override_output", "speaker"), notes(c), c.ck("hold", "v")),
        [(DEACT,)], {"v": "held"}, after={"route": ((MIC,), (SPK,))}),
    # [DTS forum-749202] + [INF]: the system's call session is gone with the call; a later call in the app's own
    # playAndRecord changes no category on its way out, so its call UI speaker goes back as an override
    Row("call-session-default-gone-after-the-call", "first-call-done",
        lambda c: (c.app("set_category", "playAndRecord", "voiceChat"), c.ck("report_incoming", "w"),
                   c.ck("answer", "w"), c.ck("speaker", True), notes(c), c.ck("end", "w", "local", 0.0)),
        [(DEACT,), (RC, "override")], {"w": "ended"}, setup=PLAYBACK),
    Row("call-session-default-gone-after-media-reset", "active",
        lambda c: (c.app("media_services_reset"), c.app("set_category", "playAndRecord", "voiceChat"),
                   c.ck("hold", "v"), c.ck("unhold", "v"), c.ck("speaker", True), notes(c),
                   c.ck("end", "v", "local", 0.0)),
        [(DEACT,), (RC, "override")], {"v": "ended"}, setup=PLAYBACK),
]


def build(row: Row) -> Ctx:
    rig = make_rig(**row.setup)
    center = CallCenter(rig.phone, rig.clock, rig.manager.flush)
    ctx = Ctx(rig, center, Cellular(center))
    rig.do(lambda r: START[row.start](ctx))
    rig.manager.take_notifications()
    ctx.start_fired = set(rig.fired)  # the start state's rules: `fires` names what the event itself fires
    rig.fired.clear()
    return ctx


def run_row(row: Row) -> tuple[Ctx, str | None]:
    ctx = build(row)
    try:
        error = ctx.rig.do(lambda r: row.event(ctx))
    except StepError as e:
        ctx.rig.fired.update(ctx.rig.phone.fired)
        ctx.error_text = str(e)
        return ctx, "StepError"
    ctx.error_text = str(error) if error else ""
    ctx.error_rule = getattr(error, "rule", None)
    return ctx, error.name if error else None


@pytest.mark.parametrize("row", ROWS, ids=[r.id for r in ROWS])
def test_call_transition(row: Row):
    ctx, error = run_row(row)
    assert error == row.error
    assert notes(ctx) == row.notes
    for name, rule in row.note_rules.items():
        assert [n.rule for n in ctx.taken if n.name == name] == [rule] * len(row.notes_named(name)), name
    if row.calls is not None:
        states = ctx.center.states()
        assert {k: states.get(k) for k in row.calls} == row.calls
    for name, expected in row.after.items():
        assert READERS[name](ctx) == expected, name
    if row.message is not None:
        # the whole message: a StepError's text, or a CallKit/session error's text after its "domain.name (code): "
        assert ctx.error_text == row.message or ctx.error_text.endswith(": " + row.message), ctx.error_text
    if row.error_rule is not None:
        assert ctx.error_rule == row.error_rule
    assert set(row.fires) <= ctx.rig.fired, sorted(set(row.fires) - ctx.rig.fired)
    assert not set(row.quiet) & ctx.rig.fired, sorted(set(row.quiet) & ctx.rig.fired)


def fired_by_rows() -> set[str]:
    """Rules the table exercises (the rule-coverage test adds these to the scenarios')."""
    fired: set[str] = set()
    for row in ROWS:
        ctx, _ = run_row(row)
        fired |= ctx.start_fired | ctx.rig.fired
    return fired
