"""CallKit: the app's provider, its calls and actions, and the system's activation of the app's session.

The model (CallKit documentation, Speakerbox and the DTS answers in docs/sources.md; rule ids
``callkit.*`` in routes/phone/rules.py):

- The app never activates its own session for a call: the system does, at call priority, when the
  start or answer action is fulfilled and when a held call is resumed, and posts ``didActivate``; it
  deactivates on hold and end and posts ``didDeactivate`` [DOC Doc-didActivate, Doc-didDeactivate, Speakerbox; DTS forum-749202].
- The session is the app's one session: it is system-active while at least one of the app's calls has
  audio (connecting after its start/answer was fulfilled, or active); ``didActivate`` comes when the
  first call gets audio, ``didDeactivate`` when the last one loses it [INF].
- Order [INF Doc-didActivate: "activates the session, then calls didActivate"]: a route change the call's session
  causes (a headset moving to HFP, the call speaker) is posted before ``didActivate``; ``didDeactivate``
  is posted before the route change back. ``timedOutPerforming`` comes before the ``didDeactivate`` of
  the call it ends.
- The call runs in the app's configuration when the app configured playAndRecord (any mode and options,
  as the app set them). If the app never configured playAndRecord, the system's private call session,
  "similar to PlayAndRecord" [DTS forum-749202], is routed as playAndRecord + voiceChat while the call has
  audio; the app still reads back its own category [INF].
- Actions: fulfilled after their delay, or failed (the call ends). An action not fulfilled within
  ``callkitActionTimeout`` gets ``timedOutPerforming`` with its action name; it is failed and the call
  ends; a later fulfil is ignored [DOC H-CXProvider: "may force the call to end", modelled as always].
- The app's own ``setActive(true)`` during a call the system has not activated: ``refuse`` fails it with
  ``insufficientPriority``; ``lenient`` lets it succeed, and then the system's activation of that call is
  skipped (no ``didActivate``) and input is blocked (one-way audio) for the rest of the call [INF].
- The speaker chosen in the call UI (``callkit.speaker``) is the call's speaker override; it persists into
  later calls and beats an ``overrideOutputAudioPort(.none)`` made before the call [DTS forum-800247].

- Provider configuration: ``supportsHolding``, ``supportsGrouping`` and ``supportsUngrouping`` are taken
  for a call when it is reported or started (they are CXCallUpdate values); ``maximumCallGroups`` limits
  the app's call groups (a call not merged is a group of its own) and ``maximumCallsPerCallGroup`` the
  calls in one group [DOC Doc-CXProviderConfiguration]. ``callkitDropsDidActivate`` (iOS
  18.4.1+) loses the activation after a report or start unless ``callkit.configure`` ran since the previous
  one; the provider's creation counts as the first configuration [INF]; a lost activation leaves the
  session inactive [INF].

- Another app's playback while the call session is up does not interrupt it: the call session outranks
  every standard session [DTS forum-804510]; a non-mixable app is held off (interrupted) until the call
  session ends, a mixable one mixes [INF].

- Grouping (``CXSetGroupCallAction``): ``callkit.group`` merges a call into another's group, leaving the
  group it was in; ``callkit.ungroup`` takes it out (``callUUIDToGroupWith`` nil) [DOC Doc-CXSetGroupCallAction,
  Doc-callUUIDToGroupWith]. A request the system refuses fails at once with a CXErrorCodeRequestTransactionError
  and no action reaches the provider: an ended or foreign call is ``unknownCallUUID``; a call without
  ``supportsGrouping`` (or ``supportsUngrouping``), a ringing or connecting call, a call grouped with
  itself or with its own group, and a group already at ``maximumCallsPerCallGroup`` are ``invalidAction``
  (the header has no code of its own for a full group) [INF]; an ungroup that would make more than
  ``maximumCallGroups`` groups is ``maximumCallGroupsReached`` [DOC Doc-CXErrorCodeRequestTransactionError].
  The action is fulfilled after its delay like the others.
- A group is one conversation: merged, it is active if either side was (the held side joins it) and
  held only if both were; a set-held action on any member holds or resumes the whole group; an ungrouped
  call taken private from an active group stays active and the rest of the group goes on hold [INF]. The
  app keeps its one session throughout: a merge posts no ``didActivate`` and no ``didDeactivate`` while
  a member has audio [INF Doc-didActivate: the session is the provider's, not a call's].

Not modelled: the app being suspended during a call (give such scenarios
``app: {backgroundAudio: true}``), the ~60 s limit on an unanswered incoming call
[DEV gh:voximplant/flutter_callkit#29].

Cellular calls (the Phone app's) are in routes/cellular.py; both kinds share the call registry here,
which serves ``expect: calls``. The system's activation uses Phone internals (``_apply_activation_to_others``,
``_notify``) so that other apps and the observers (engine, recorder) see it like any activation.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable

from routesim.routes.phone.config import Configuration
from routesim.routes.phone.errors import CallKitRequestError, SessionError, StepError
from routesim.routes.phone.others import INTERRUPTED, PLAYING

# call states (scenario-format `calls:`)
RINGING, CONNECTING, ACTIVE, HELD, ENDED = "ringing", "connecting", "active", "held", "ended"
LIVE = (RINGING, CONNECTING, ACTIVE, HELD)

# the system's call session when the app never configured playAndRecord [INF]
CALL_SESSION = Configuration("playAndRecord", "voiceChat", frozenset())

# CXProviderConfiguration defaults: maximumCallsPerCallGroup 5 [DOC Doc-CXProviderConfiguration], maximumCallGroups 2
# [DEV gh:voximplant/flutter_callkit#29];
# supportsHolding is the CXCallUpdate value the app reports (scenario-format: default true);
# supportsGrouping / supportsUngrouping start false, as a new CXCallUpdate's BOOLs do [INF Doc-CXCallUpdate;
# the flutter_callkit mirror's FCXCallUpdate defaults them false, gh:voximplant/flutter_callkit#29].
DEFAULT_PROVIDER = {"supportsHolding": True, "maximumCallGroups": 2, "maximumCallsPerCallGroup": 5,
                    "supportsGrouping": False, "supportsUngrouping": False}


@dataclass(slots=True)
class Action:
    name: str  # startCall | answerCall | endCall | setHeldCall | setGroupCall (the timedOutPerforming names)
    call: "Call"
    on_fulfil: Callable[[], None]
    on_fail: Callable[[], None]
    timers: list[Any] = field(default_factory=list)
    done: bool = False


@dataclass(slots=True)
class Call:
    id: str
    kind: str  # "callkit" | "cellular"
    state: str
    supports_holding: bool = True
    supports_grouping: bool = False
    supports_ungrouping: bool = False
    group: str = ""  # callkit: its call group's label; a call never merged is a group of its own
    audio: bool = False  # callkit: the call wants the system's session (fulfilled start/answer, resumed)
    drop_activation: bool = False  # callkitDropsDidActivate: the activation after the report is lost
    no_system_audio: bool = False  # lenient manual activation: the system's activation is skipped
    held_for: str | None = None  # callkit: the cellular call it was held for (Hold & Accept)
    withheld: bool = False  # callkit: held across a remote-ended cellular call: no activation on unhold
    interrupted_app: bool = False  # cellular: it interrupted the app's (non-CallKit) session
    deferred: bool = False  # cellular: ringing did not interrupt (prefersNoInterruptionsFromSystemAlerts)
    answered: bool = False
    actions: list[Action] = field(default_factory=list)

    @property
    def live(self) -> bool:
        return self.state != ENDED


class CallCenter:
    """One scenario's calls: the app's CallKit provider and the Phone app's cellular calls."""

    def __init__(self, phone, clock, flush: Callable[[], None] = lambda: None):
        self.phone = phone
        self.clock = clock
        self.flush = flush
        self.provider = dict(DEFAULT_PROVIDER)
        # The provider is created with its configuration, so the first report after launch counts as
        # configured (callkitDropsDidActivate) [INF].
        self.configured_since_report = True
        self.calls: dict[str, Call] = {}
        # Ended calls stay in ``calls`` (expect: calls and callGroups read them); the others are also
        # indexed here, so a long story with many calls does not scan every call it ever made.
        self._open: dict[str, Call] = {}
        self.system_active = False  # the system has activated the app's session for its calls
        self.speaker_on = False  # the call UI's speaker button; persists into later calls [DTS forum-800247]
        self._call_speaker = False  # the current speaker override was put there by the call UI
        self._system_acting = False
        self._groups_made = 0
        phone.observers.append(self)
        phone.activation_guards.append(self.guard)
        phone.listeners.append(self.on_route)

    # ------------------------------------------------------------------ plumbing
    @property
    def system_active(self) -> bool:
        """The system has activated the app's session for its calls; kept on the phone, where other apps'
        playback looks (callkit.call-outranks-others)."""
        return self.phone.call_session_active

    @system_active.setter
    def system_active(self, value: bool) -> None:
        self.phone.call_session_active = value

    @property
    def behavior(self) -> dict[str, Any]:
        return self.phone.behavior

    def states(self) -> dict[str, str]:
        return {cid: c.state for cid, c in self.calls.items()}

    def groups(self) -> dict[str, list[str]]:
        """``expect: callGroups``: each CallKit call -> the calls of its group (itself alone when not merged,
        nothing once ended), sorted."""
        return {c.id: (sorted(m.id for m in self.members(c)) if c.live else [])
                for c in self.callkit_calls()}

    def members(self, c: Call) -> list[Call]:
        """The live CallKit calls in ``c``'s group, ``c`` included."""
        return [m for m in self.callkit_calls(*LIVE) if m.group == c.group]

    def _new_group(self) -> str:
        self._groups_made += 1
        return f"group-{self._groups_made}"

    def callkit_calls(self, *states: str) -> list[Call]:
        """The CallKit calls in ``states`` (every one, ended ones too, when none is given)."""
        return self._of_kind("callkit", states)

    def cellular_calls(self, *states: str) -> list[Call]:
        return self._of_kind("cellular", states)

    def _of_kind(self, kind: str, states: tuple[str, ...]) -> list[Call]:
        if not states or ENDED in states:
            return [c for c in self.calls.values() if c.kind == kind and (not states or c.state in states)]
        # Ending is final (no step revives a call): an ended call leaves the index of open ones here.
        index = self._open
        for key in [k for k, c in index.items() if c.state == ENDED]:
            del index[key]
        return [c for c in index.values() if c.kind == kind and c.state in states]

    def call(self, call_id: str, kind: str | None = None) -> Call:
        c = self.calls.get(call_id)
        if c is None or (kind and c.kind != kind):
            raise StepError(f"no {kind + ' ' if kind else ''}call {call_id!r}")
        return c

    def new_call(self, call_id: str, kind: str, state: str) -> Call:
        if call_id in self.calls:
            raise StepError(f"call {call_id!r} already exists; give each call its own id")
        c = Call(call_id, kind, state)
        self.calls[call_id] = self._open[call_id] = c
        return c

    def later(self, delay: float, fn: Callable[[], None]) -> Any:
        def fire() -> None:
            fn()
            self.flush()
        return self.clock.call_later(delay, fire)

    def _fire(self, *rules: str) -> None:
        self.phone._fire(*rules)

    # ------------------------------------------------------------------ provider configuration
    def configure(self, supports_holding: bool | None = None, maximum_call_groups: int | None = None,
                  maximum_calls_per_call_group: int | None = None, supports_grouping: bool | None = None,
                  supports_ungrouping: bool | None = None) -> None:
        """A new CXProviderConfiguration (and the CXCallUpdate values reported from now on): values left out
        take the defaults [INF]."""
        given = {"supportsHolding": supports_holding, "maximumCallGroups": maximum_call_groups,
                 "maximumCallsPerCallGroup": maximum_calls_per_call_group,
                 "supportsGrouping": supports_grouping, "supportsUngrouping": supports_ungrouping}
        self.provider = {k: (DEFAULT_PROVIDER[k] if v is None else v) for k, v in given.items()}
        self.configured_since_report = True
        self._fire("callkit.configure")

    def _reported(self, c: Call) -> bool:
        """Book-keeping for a report or start: holding and grouping support, call groups, the 18.4.1 drop."""
        c.supports_holding = bool(self.provider["supportsHolding"])
        c.supports_grouping = bool(self.provider["supportsGrouping"])
        c.supports_ungrouping = bool(self.provider["supportsUngrouping"])
        c.group = self._new_group()
        others = [o for o in self.callkit_calls(*LIVE) if o is not c]
        if len({o.group for o in others}) >= self.provider["maximumCallGroups"]:
            # A new call is a new group: beyond the limit the request fails, the call ends.
            c.state = ENDED
            self._fire("callkit.max-call-groups")
            return False
        if self.behavior["callkitDropsDidActivate"] and self.phone.platform.at_least(18, 4, 1):
            if self.configured_since_report:
                self._fire("callkit.configure-before-report")
            else:
                c.drop_activation = True
        self.configured_since_report = False
        return True

    # ------------------------------------------------------------------ actions
    def _action(self, name: str, c: Call, delay: float, result: str, on_fulfil: Callable[[], None],
                on_fail: Callable[[], None] | None = None) -> None:
        action = Action(name, c, on_fulfil, on_fail or (lambda: self._end(c, "callkit.action-failed")))
        c.actions.append(action)
        timeout = float(self.behavior["callkitActionTimeout"])

        def resolve() -> None:
            if action.done or not c.live:
                return
            action.done = True
            for t in action.timers:
                t.cancel()
            if result == "fail":
                self._fire("callkit.action-failed")
                action.on_fail()
            else:
                action.on_fulfil()

        def timed_out() -> None:
            if action.done or not c.live:
                return
            action.done = True
            for t in action.timers:
                t.cancel()
            # The action is inherently failed; the call ends; a late fulfil is ignored [DOC H-CXProvider, Doc-timedOutPerforming].
            self.phone.post("timedOutPerforming", "callkit.action-timeout", action=name)
            self._end(c, "callkit.action-timeout")

        if delay <= 0:
            resolve()
            return
        # The timeout is scheduled first, so a fulfil due at the same moment comes too late.
        action.timers.append(self.later(timeout, timed_out))
        action.timers.append(self.later(delay, resolve))

    # ------------------------------------------------------------------ steps: the app and the user
    def report_incoming(self, call_id: str) -> None:
        c = self.new_call(call_id, "callkit", RINGING)
        if self._reported(c):
            self._fire("callkit.report-incoming")

    def start_call(self, call_id: str, fulfill_after: float = 0.0, connect_after: float = 0.0,
                   result: str = "fulfill") -> None:
        c = self.new_call(call_id, "callkit", CONNECTING)
        if not self._reported(c):
            return

        def fulfilled() -> None:
            self._fire("callkit.start-activates")
            c.audio = True
            self._take_audio_from_cellular(c)
            self._system_activate(c)
            if connect_after > 0:
                self.later(connect_after, lambda: self._connected(c))
            else:
                self._connected(c)

        self._action("startCall", c, fulfill_after, result, fulfilled)

    def _connected(self, c: Call) -> None:
        if c.state == CONNECTING:
            c.state = ACTIVE

    def answer(self, call_id: str, fulfill_after: float = 0.0, result: str = "fulfill") -> None:
        c = self.call(call_id, "callkit")
        if c.state != RINGING:
            raise StepError(f"call {call_id!r} is {c.state}, not ringing: there is nothing to answer")
        c.state = CONNECTING  # the UI shows "connecting" until the app fulfils [DOC Doc-PushKit-VoIP]
        if fulfill_after > 0:
            self._fire("callkit.answer-delayed")

        def fulfilled() -> None:
            self._fire("callkit.answer-activates")
            c.state, c.audio, c.answered = ACTIVE, True, True
            self._take_audio_from_cellular(c)
            self._system_activate(c)

        self._action("answerCall", c, fulfill_after, result, fulfilled)

    def hold(self, call_id: str, fulfill_after: float = 0.0) -> None:
        c = self.call(call_id, "callkit")
        if c.state not in (ACTIVE, CONNECTING):
            raise StepError(f"call {call_id!r} is {c.state}; only a call in progress can be held")
        self._require_holding(c)
        self._action("setHeldCall", c, fulfill_after, "fulfill", lambda: self._held_with_group(c))

    def _held_with_group(self, c: Call) -> None:
        """A set-held action on a merged call holds its whole group [INF]; the session goes once, with c."""
        for m in self.members(c):
            if m is not c and m.state in (ACTIVE, CONNECTING):
                m.state, m.audio = HELD, False
                self._fire("callkit.group-holds-together")
        self._held(c, None)

    def _require_holding(self, c: Call) -> None:
        if not c.supports_holding:
            self._fire("callkit.holding-unsupported")
            raise StepError(f"call {c.id!r} was reported with supportsHolding: false; the system offers no hold")

    def _held(self, c: Call, held_for: str | None) -> None:
        self._fire("callkit.hold-deactivates")
        if held_for is None:
            # Held from the call UI while the Phone app's call waits on hold: a swap back to it [INF].
            for cell in self.cellular_calls(HELD)[:1]:
                cell.state, held_for = ACTIVE, cell.id
                self.phone.call_holder = "Phone"
                self._fire("callkit.swap-holds-cellular")
        c.state, c.audio, c.held_for = HELD, False, held_for
        self._system_deactivate()

    def unhold(self, call_id: str, fulfill_after: float = 0.0) -> None:
        c = self.call(call_id, "callkit")
        if c.state != HELD:
            raise StepError(f"call {call_id!r} is {c.state}, not held")
        self._action("setHeldCall", c, fulfill_after, "fulfill", lambda: self._resumed_with_group(c))

    def _resumed_with_group(self, c: Call) -> None:
        """Resuming a merged call resumes its whole group [INF]; one activation, with c."""
        for m in self.members(c):
            if m is not c and m.state == HELD:
                m.state, m.held_for = ACTIVE, None
                m.audio = not m.withheld
                self._fire("callkit.group-holds-together")
        self._resumed(c)

    def _resumed(self, c: Call) -> None:
        c.state, c.held_for = ACTIVE, None
        self._take_audio_from_cellular(c)  # a swap: the Phone app's call goes on hold [INF]
        if c.withheld:
            # The other call was ended by the remote party: the system does not activate the session on
            # this unhold; that is intentional (DTS 749202).
            c.withheld = False
            self._fire("callkit.remote-end-no-activation")
            return
        self._fire("callkit.unhold-activates")
        c.audio = True
        self._system_activate(c)

    # ------------------------------------------------------------------ grouping (CXSetGroupCallAction)
    def _requested(self, call_id: str) -> Call:
        """A call a CallKit request names: the provider's own and not ended, or the request fails [INF]."""
        c = self.calls.get(call_id)
        if c is None or c.kind != "callkit" or not c.live:
            what = "ended" if c is not None and c.kind == "callkit" else "not one of the app's CallKit calls"
            self._refuse("unknownCallUUID", f"call {call_id!r} is {what}")
        return c

    def _refuse(self, name: str, detail: str, rule: str = "callkit.group-refused") -> None:
        raise CallKitRequestError(name, detail, rule=rule)

    def group(self, call_id: str, with_id: str, fulfill_after: float = 0.0) -> None:
        """The user or the app merges ``call_id`` into the group of ``with_id`` (callUUIDToGroupWith)."""
        c, other = self._requested(call_id), self._requested(with_id)
        if c.group == other.group:
            self._refuse("invalidAction", f"call {call_id!r} is already in the group of {with_id!r}")
        for x in (c, other):
            if x.state not in (ACTIVE, HELD):
                self._refuse("invalidAction", f"call {x.id!r} is {x.state}; only calls in progress can be grouped")
        lone = [x for x in (c, other) if len(self.members(x)) == 1 or x is c]
        for x in lone:
            if not x.supports_grouping:
                self._refuse("invalidAction", f"call {x.id!r} was reported with supportsGrouping: false",
                             rule="callkit.grouping-unsupported")
        limit = self.provider["maximumCallsPerCallGroup"]
        if len(self.members(other)) + 1 > limit:
            self._refuse("invalidAction", f"the group of {with_id!r} already has maximumCallsPerCallGroup "
                         f"({limit}) calls", rule="callkit.max-calls-per-group")
        self._action("setGroupCall", c, fulfill_after, "fulfill", lambda: self._grouped(c, other))

    def _grouped(self, c: Call, other: Call) -> None:
        if not other.live:
            return
        self._fire("callkit.group-merges")
        c.group = other.group
        members = self.members(c)
        if any(m.state == ACTIVE for m in members):
            # The held side joins the conversation; the session is already up for the active side, so
            # _system_activate finds it active and posts nothing [INF].
            for m in members:
                if m.state == HELD:
                    m.state, m.held_for, m.audio = ACTIVE, None, True
                    self._fire("callkit.group-one-session")
            self._take_audio_from_cellular(c)
            for m in members:
                if m.audio:
                    self._system_activate(m)

    def ungroup(self, call_id: str, fulfill_after: float = 0.0) -> None:
        """The call leaves its group ("private"): CXSetGroupCallAction with callUUIDToGroupWith nil."""
        c = self._requested(call_id)
        if len(self.members(c)) == 1:
            self._refuse("invalidAction", f"call {call_id!r} is not in a group")
        if not c.supports_ungrouping:
            self._refuse("invalidAction", f"call {call_id!r} was reported with supportsUngrouping: false",
                         rule="callkit.grouping-unsupported")
        groups = len({m.group for m in self.callkit_calls(*LIVE)})
        if groups + 1 > self.provider["maximumCallGroups"]:
            self._refuse("maximumCallGroupsReached", f"ungrouping {call_id!r} would make {groups + 1} call groups "
                         f"(maximumCallGroups {self.provider['maximumCallGroups']})",
                         rule="callkit.ungroup-max-groups")
        self._action("setGroupCall", c, fulfill_after, "fulfill", lambda: self._ungrouped(c))

    def _ungrouped(self, c: Call) -> None:
        rest = [m for m in self.members(c) if m is not c]
        c.group = self._new_group()
        self._fire("callkit.ungroup-private")
        if c.state == ACTIVE:
            # Taken private: the others wait on hold; c keeps the session, so nothing is posted [INF].
            for m in rest:
                if m.state == ACTIVE:
                    m.state, m.audio = HELD, False

    def end(self, call_id: str, by: str = "local", fulfill_after: float = 0.0) -> None:
        c = self.call(call_id, "callkit")
        if not c.live:
            raise StepError(f"call {call_id!r} has already ended")
        if by == "remote":
            self._end(c, "callkit.end-deactivates")  # the app reports the call ended: no action
            return
        self._action("endCall", c, fulfill_after, "fulfill", lambda: self._end(c, "callkit.end-deactivates"))

    def _end(self, c: Call, rule: str) -> None:
        if not c.live:
            return
        for action in c.actions:
            action.done = True
            for t in action.timers:
                t.cancel()
        c.state, c.audio = ENDED, False
        self._fire(rule)
        self._system_deactivate()
        if not self.callkit_calls(*LIVE):
            if self.phone.input_blocked:
                self.phone.input_blocked = False

    def reset(self) -> None:
        """The system resets the provider (callkit.provider-reset): the delegate gets providerDidReset, which
        "can be treated as a request to end all calls without the need to respond to any actions"
        ([DOC H-CXProvider]): every CallKit call ends, pending actions are dropped (no timedOutPerforming),
        and the call session goes as when the last call ends (didDeactivate after providerDidReset) [INF]."""
        self._fire("callkit.provider-reset")
        self.phone.post("providerDidReset", "callkit.provider-reset")
        for c in self.callkit_calls(*LIVE):
            self._end(c, "callkit.provider-reset")

    def speaker(self, on: bool) -> None:
        if not self.callkit_calls(*LIVE):
            raise StepError("callkit.speaker: no CallKit call is up, so there is no call UI to tap")
        self._fire("callkit.speaker")
        self.speaker_on = on
        if self.system_active and self.phone.override_speaker != on:
            self._set_call_speaker(on)
            self.phone.reroute("override", rule="notify.override")

    def _set_call_speaker(self, on: bool) -> None:
        phone = self.phone
        phone.override_speaker = on
        self._call_speaker = on
        if on:
            phone.picked = None

    # ------------------------------------------------------------------ the system's session
    def _system_activate(self, c: Call) -> None:
        phone = self.phone
        if c.no_system_audio:
            self._fire("callkit.manual-activation-lenient")
            return
        if self.system_active:
            return  # the session already runs for another of the app's calls
        if c.drop_activation:
            # iOS 18.4.1+: "session lookup failure for SessionID 0x0", no didActivate [DTS forum-783870]
            c.drop_activation = False
            self._fire("callkit.drops-did-activate")
            return
        if phone.active:
            if self.behavior["callkitManualActivation"] == "lenient":
                # The app made the session active itself: CallKit cannot activate it [DTS forum-749202, forum-783870].
                self._block(c)
                return
            self._fire("callkit.promotes-active-session")
        self._system_acting = True
        try:
            reason = "categoryChange"
            if phone.config.category != "playAndRecord":
                phone.call_config = CALL_SESSION
                self._fire("callkit.call-session-default")
            else:
                self._fire("callkit.call-session-app-config")
            if self.speaker_on and not phone.override_speaker:
                self._set_call_speaker(True)
                self._fire("callkit.speaker-persists")
                reason = "override"
            phone.reroute(reason, rule="notify.override" if reason == "override" else "callkit.activation-order")
            phone.active = True
            phone.interrupted_by = None
            phone._apply_activation_to_others()
            self.system_active = True
            phone._notify("on_activated")
        finally:
            self._system_acting = False
        phone.post("didActivate", "callkit.activation-order")

    def _system_deactivate(self) -> None:
        phone = self.phone
        if any(c.audio for c in self.callkit_calls(*LIVE)) or not self.system_active:
            return
        self.system_active = False
        self._system_acting = True
        try:
            phone.active = False
            phone.player_playing = False
            phone._notify("on_deactivated")
        finally:
            self._system_acting = False
        phone.post("didDeactivate", "callkit.activation-order")
        reason = None
        if self._call_speaker:
            phone.override_speaker = False
            self._call_speaker = False
            reason = "override"
        if phone.call_config is not None:
            phone.call_config = None
            reason = "categoryChange"
        if reason:
            phone.reroute(reason, rule="callkit.activation-order")
        if not self.cellular_calls(RINGING, ACTIVE):
            # the call's session ends like a deactivation with notifyOthersOnDeactivation [INF]
            for other in phone.others.values():
                if other.state == INTERRUPTED and other.interrupted_by == "app":
                    other.state, other.interrupted_by = PLAYING, None
                    self._fire("activate.others-resume")

    def _block(self, c: Call) -> None:
        """Lenient manual activation: no didActivate, and recording is blocked (one-way audio) [DTS forum-749202, forum-783870]."""
        c.no_system_audio = True
        self.phone.input_blocked = True
        self._fire("callkit.manual-activation-lenient")

    def _take_audio_from_cellular(self, c: Call) -> None:
        """Our call takes the audio while the Phone app's call is up: that call goes on hold [INF]."""
        for cell in self.cellular_calls(ACTIVE):
            cell.state = HELD
            self._fire("callkit.swap-holds-cellular")
        if not self.cellular_calls(RINGING, ACTIVE):
            self.phone.call_holder = None

    # ------------------------------------------------------------------ hooks on the phone
    def guard(self, phone) -> None:
        """The app's own setActive(true) while one of its calls is up and the system has not activated."""
        if phone.active or self.system_active or not self.callkit_calls(*LIVE):
            return
        if self.behavior["callkitManualActivation"] == "refuse":
            raise SessionError("insufficientPriority",
                               "the app activated its session during a CallKit call the system has not activated",
                               rule="callkit.manual-activation-refused")

    def on_activated(self) -> None:
        if self._system_acting:
            return
        live = self.callkit_calls(*LIVE)
        if live and not self.system_active:  # lenient: the app's own activation during a call
            for c in live:
                self._block(c)

    def on_deactivated(self) -> None:
        if not self._system_acting:
            self.system_active = False

    def on_interrupted(self) -> None:
        self.system_active = False

    def on_media_reset(self) -> None:
        self.system_active = False
        self._call_speaker = False
        # The system's call session goes with the reset [INF]; the phone decides its reset route after this.
        self.phone.call_config = None

    def on_route(self, phone, old, new) -> None:
        """While the call has the session, the call UI's speaker goes off when the speaker override ends
        (a route change, the app's overrideOutputAudioPort(.none)) [INF]. The app's own override to the
        speaker does not light it: only the call UI's choice persists (DTS 800247)."""
        if self.system_active and not self._system_acting and self.speaker_on and not phone.override_speaker:
            self.speaker_on = False
            self._call_speaker = False


# ---------------------------------------------------------------------- runner glue
def attach(run) -> None:
    center = CallCenter(run.phone, run.clock, run.manager.flush)
    run.calls = center
    run.extras["calls"] = center.states
    run.extras["callGroups"] = center.groups
