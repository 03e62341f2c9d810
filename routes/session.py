"""The phone and the app's AVAudioSession: deterministic and synchronous.

Every public method is one thing that happens (an API call, an accessory event, a user action); it
updates the state, re-runs the route policy and appends what the app would be told to ``pending``.
The route manager serialises calls into it; scenarios drive it on a virtual clock.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
from typing import Any, Callable

from bt.events import AccessoryInfo, NegotiationCommand, SwitchProfile
from profiles.model import Model, Quirk
from profiles.platform import DEFAULT_PLATFORM, Platform
from profiles.quirks import session_matches

from . import config as cfg
from .config import Configuration
from .errors import SessionError, StepError
from .notifications import Notification
from .others import DUCKED, INTERRUPTED, PLAYING, STOPPED, OtherApp, ducks, interrupts
from .policy import Decision, Device, PolicyState, available_inputs, decide, device_link
from .ports import Route

DEFAULT_BEHAVIOR: dict[str, Any] = {
    "setModeClearsOptions": True,
    "headsetOverridesDefaultToSpeaker": True,
    "invalidOptionError": "badParam",
    "callkitManualActivation": "refuse",
    "interruptionEndedAfterAnsweredCall": True,
    "phoneCallsInterruptMixable": True,
    "callkitActionTimeout": 10.0,
    "callkitDropsDidActivate": False,
}


@dataclass(slots=True)
class Accessory:
    info: AccessoryInfo
    model: Model
    quirks: tuple[Quirk, ...] = ()
    connected: bool = False
    seq: int = 0
    ears: dict[str, str] = field(default_factory=lambda: {"left": "in", "right": "in"})
    case_open: bool = False
    battery: dict[str, int] = field(default_factory=dict)
    pending: set[str] = field(default_factory=set)  # profiles a quirk keeps down for now ("a2dp", "hfp")

    @property
    def key(self) -> str:
        return self.info.key

    @property
    def available(self) -> bool:
        if not self.connected:
            return False
        if self.model.in_ear_detection:
            return "in" in self.ears.values()
        return True


@dataclass(slots=True)
class AppState:
    state: str = "foreground"
    background_audio: bool = False
    context: str = "app"
    record_permission: str = "granted"
    now_playing: bool = False


class Phone:
    def __init__(
        self,
        *,
        platform: Platform = DEFAULT_PLATFORM,
        hardware: str = "iphone",
        hfp_offered: frozenset[str] | None = None,
        behavior: dict[str, Any] | None = None,
        app: AppState | None = None,
        now: Callable[[], float] = lambda: 0.0,
        schedule: Callable[[float, Callable[[], None]], Any] | None = None,
    ):
        self.platform = platform
        self.hardware = hardware
        if hfp_offered is None:
            hfp_offered = frozenset({"cvsd", "msbc"} | ({"lc3-a127"} if platform.at_least(18) else set()))
        self.hfp_offered = hfp_offered
        self.behavior = {**DEFAULT_BEHAVIOR, **(behavior or {})}
        self.app = app or AppState()
        self.now = now
        self.schedule = schedule  # the clock's call_later; quirk delays need it
        self.after_timer: list[Callable[[], None]] = []  # run after a timer fired (the manager flushes)
        self.accessories: dict[str, Accessory] = {}
        self.others: dict[str, OtherApp] = {}
        self._seq = 0
        # the app's session
        self.config = Configuration()
        self.active = False
        self.override_speaker = False
        self.preferred_input: str | None = None
        self.picked: str | None = None
        self.speaker_pinned_seq: int | None = None
        self.preferred_sample_rate = 0.0
        self.preferred_io_buffer = 0.0
        self.preferred_input_channels = 0
        self.prefers_no_interruptions_from_alerts = False
        self.prefers_interruption_on_route_disconnect: bool | None = None
        self.player_playing = False
        self.interrupted_by: str | None = None  # other-app id that interrupted us
        self.call_holder: str | None = None  # another app hosting a call (cellular, FaceTime)
        # Set by routes.callkit: the system's call session routed in place of the app's configuration while a
        # CallKit call has audio (None: the app's own), and one-way audio (input blocked) during a call.
        self.call_config: Configuration | None = None
        self.input_blocked = False
        self.io_running: Callable[[], bool] = lambda: self.player_playing
        # outputs
        self.pending: list[Notification] = []
        self.commands: list[NegotiationCommand] = []
        self.fired: list[str] = []  # rule ids fired by the last step (explain)
        self.listeners: list[Callable[["Phone", Decision, Decision], None]] = []  # route-change hooks
        # Extension points for models built on top of the session (CallKit, engine, recorder, capture):
        # observers get on_activated / on_deactivated / on_interrupted / on_media_reset when they define them;
        # activation guards run before the standard activation checks and may raise SessionError.
        self.observers: list[Any] = []
        self.activation_guards: list[Callable[["Phone"], None]] = []
        self.decision: Decision = decide(self._policy_state())
        self._inputs_seen = self._input_uids()

    # ------------------------------------------------------------------ plumbing
    def _fire(self, *rule_ids: str) -> None:
        self.fired.extend(r for r in rule_ids if r not in self.fired)

    def post(self, name: str, rule: str | None = None, **fields: Any) -> None:
        self.pending.append(Notification(name, fields, self.now(), rule))
        if rule:
            self._fire(rule)

    def take_notifications(self) -> list[Notification]:
        out, self.pending = self.pending, []
        return out

    def begin_step(self) -> None:
        self.fired = []

    def _policy_state(self, *, bare: bool = False) -> PolicyState:
        devices = tuple(
            Device(a.key, a.model, a.info.name, a.info.address, a.seq, a.available, a.quirks,
                   frozenset(a.pending))
            for a in self.accessories.values()
            if a.connected
        )
        return PolicyState(
            config=self.call_config or self.config,
            devices=devices,
            hardware=self.hardware,
            platform=self.platform,
            hfp_offered=self.hfp_offered,
            override_speaker=False if bare else self.override_speaker,
            preferred_input=self.preferred_input,
            picked=None if bare else self.picked,
            speaker_pinned_seq=self.speaker_pinned_seq if not self.behavior["headsetOverridesDefaultToSpeaker"] else None,
        )

    def _transient_choice(self) -> bool:
        return self.override_speaker or self.picked is not None

    def _change(self, mutate: Callable[[], None], reason: str, *, force: bool = False,
                clears_choice: bool = True, rule: str | None = None) -> None:
        """Apply a change and re-route. The speaker override and the picker's choice last only until
        the route next changes for another reason (§4.4 [DOC QA1754]; scenario-format decisions)."""
        bare_before = decide(self._policy_state(bare=True)).route if self._transient_choice() else None
        mutate()
        if clears_choice and self._transient_choice():
            bare_after = decide(self._policy_state(bare=True)).route
            if force or bare_after != bare_before:
                if self.override_speaker:
                    self._fire("route.override-cleared")
                self.override_speaker = False
                self.picked = None
        self.reroute(reason, force=force, rule=rule)

    def reroute(self, reason: str, *, force: bool = False, rule: str | None = None) -> None:
        old = self.decision
        new = decide(self._policy_state())
        self.decision = new
        self._fire(*new.rules)
        if new.route != old.route or force:
            self.post("routeChange", rule or _REASON_RULE.get(reason), reason=reason, previousRoute=old.route)
            self._fire("notify.always-posted")
        for key in set(old.links) | set(new.links):
            before, after = old.links.get(key), new.links.get(key)
            if before != after and key in self.accessories:
                link = after or None
                profile = link.profile if link and link.profile in ("a2dp", "hfp") else "none"
                if profile != "none" or (before and before.profile in ("a2dp", "hfp")):
                    self.commands.append(SwitchProfile(key, profile, link.codec if link else None))
        for listener in self.listeners:
            listener(self, old, new)
        self._check_available_inputs()

    def _input_uids(self) -> tuple[str, ...]:
        return tuple(p.uid for p, _ in available_inputs(self._policy_state()))

    def _check_available_inputs(self) -> None:
        inputs = self._input_uids()
        if inputs != self._inputs_seen:
            self._inputs_seen = inputs
            if self.platform.is_ios and self.platform.at_least(26):
                self.post("availableInputsChange", "notify.available-inputs-change")

    # ------------------------------------------------------------------ world: accessories
    def add_accessory(self, info: AccessoryInfo, model: Model, quirks: tuple[Quirk, ...] = ()) -> Accessory:
        acc = Accessory(info, model, quirks)
        self.accessories[info.key] = acc
        return acc

    def _acc(self, key: str) -> Accessory:
        try:
            return self.accessories[key]
        except KeyError:
            raise StepError(f"no accessory {key!r}") from None

    def connect(self, key: str, *, silent: bool = False, in_ears: bool = True) -> None:
        acc = self._acc(key)
        if acc.connected:
            raise StepError(f"accessory {key!r} is already connected")

        def mutate() -> None:
            acc.connected = True
            acc.case_open = True
            side = "in" if in_ears else "out"
            acc.ears = {"left": side, "right": side}
            self._seq += 1
            acc.seq = self._seq
            self._new_input_takes_over(acc)

        if silent:
            mutate()
            self.decision = decide(self._policy_state())
            self._inputs_seen = self._input_uids()
            return
        self._start_delays(acc)
        self._change(mutate, "newDeviceAvailable")
        self._extra_route_change(acc)

    def _session_quirks(self, acc: Accessory, effect: str) -> list[Quirk]:
        cfg_ = self.config
        return [q for q in acc.quirks
                if q.effect == effect and session_matches(q, cfg_.category, cfg_.mode, cfg_.effective)]

    def _start_delays(self, acc: Accessory) -> None:
        """profile-delayed / negotiation-delay quirks: the profile comes up only after the delay."""
        delays: dict[str, float] = {}
        for q in self._session_quirks(acc, "profile-delayed"):
            delays[q.params["profile"]] = max(delays.get(q.params["profile"], 0.0), float(q.params["delay"]))
        for q in self._session_quirks(acc, "negotiation-delay"):
            for profile in ("a2dp", "hfp"):
                delays[profile] = max(delays.get(profile, 0.0), float(q.params["delay"]))
        for profile, delay in delays.items():
            if delay <= 0 or self.schedule is None:
                continue
            acc.pending.add(profile)
            self._fire("route.quirk")
            self.schedule(delay, lambda p=profile, a=acc: self._profile_up(a, p))

    def _profile_up(self, acc: Accessory, profile: str) -> None:
        if profile not in acc.pending:
            return
        self.begin_step()
        acc.pending.discard(profile)
        if acc.connected:
            in_route = acc.key in self.decision.route.owners()
            self._change(lambda: None, "routeConfigurationChange" if in_route else "newDeviceAvailable")
        for hook in self.after_timer:
            hook()

    def _extra_route_change(self, acc: Accessory) -> None:
        """extra-route-change quirk: a second routeChange follows the device's own (e.g. §4.2 [DEV]:
        categoryChange then override after a Bluetooth reconnect)."""
        if acc.key not in self.decision.route.owners():
            return
        for q in self._session_quirks(acc, "extra-route-change"):
            self.post("routeChange", "route.quirk", reason=q.params["reason"], previousRoute=self.decision.route)

    def _new_input_takes_over(self, acc: Accessory) -> None:
        """A newly connected mic takes the input even with a preference set; preferredInput then reads
        nil (§4.2 [DEV forum 737196])."""
        if self.preferred_input and self.config.has_input:
            if any(k == acc.key for _, k in available_inputs(self._policy_state())):
                self.preferred_input = None
                self._fire("route.preferred-input-lost")

    def disconnect(self, key: str) -> None:
        acc = self._acc(key)
        if not acc.connected:
            raise StepError(f"accessory {key!r} is not connected")
        was_in_route = key in self.decision.route.owners()

        def mutate() -> None:
            acc.connected = False
            acc.case_open = False
            acc.pending.clear()
            if self.preferred_input == key:
                self.preferred_input = None
                self._fire("route.preferred-input-lost")
            if self.picked == key:
                self.picked = None

        self._change(mutate, "oldDeviceUnavailable")
        if was_in_route:
            self._route_disconnected()

    def _route_disconnected(self) -> None:
        """iOS 17: Now Playing sessions are interrupted when their route disconnects; others can opt in
        (§8.1 [DOC H-Session17])."""
        if not (self.active and self.platform.is_ios and self.platform.at_least(17)):
            return
        prefers = self.prefers_interruption_on_route_disconnect
        if prefers is None:
            prefers = self.app.now_playing
        if prefers:
            self._interrupt(reason="routeDisconnected", by=None, rule="interrupt.route-disconnected")

    def rename(self, key: str, name: str) -> None:
        acc = self._acc(key)
        acc.info = replace(acc.info, name=name)
        self.reroute("routeConfigurationChange", rule="notify.rename")
        self._fire("notify.rename")

    def battery(self, key: str, levels: dict[str, int | None]) -> None:
        acc = self._acc(key)
        acc.battery.update({k: v for k, v in levels.items() if v is not None})

    def ears(self, key: str, left: str | None = None, right: str | None = None, case: str | None = None) -> None:
        acc = self._acc(key)
        if case is not None:
            # case: closed disconnects; case: open connects with both buds out of the ears (contract).
            if case == "closed" and acc.connected:
                self.disconnect(key)
            elif case == "open" and not acc.connected:
                self.connect(key, in_ears=False)
            acc.case_open = case == "open"
            acc.ears = {"left": "out", "right": "out"}
            self._fire("route.earbuds-out")
            return
        if not acc.connected:
            raise StepError(f"accessory {key!r} is not connected; its buds are in the case")
        was = acc.available
        was_in_route = key in self.decision.route.owners()

        def mutate() -> None:
            if left:
                acc.ears["left"] = left
            if right:
                acc.ears["right"] = right
            if acc.available and not was:
                self._seq += 1
                acc.seq = self._seq

        self._fire("route.earbuds-out")
        after = acc_available_after(acc, left, right)
        if after == was:
            mutate()
            return
        self._change(mutate, "newDeviceAvailable" if after else "oldDeviceUnavailable")
        if was_in_route and not acc.available:
            self._route_disconnected()

    def pick_route(self, target: str) -> None:
        offered = self.picker_offers()
        if target not in offered:
            raise StepError(f"the route picker does not offer {target!r} now (it offers {', '.join(offered)})")

        def mutate() -> None:
            self.picked = target
            self.override_speaker = False

        self._change(mutate, "override", clears_choice=False)

    def picker_offers(self) -> list[str]:
        state = self._policy_state()
        offers = ["speaker"]
        if self.config.category == "playAndRecord" and self.hardware == "iphone":
            offers.append("receiver")
        if self.config.category != "record":
            offers += [d.key for d in state.devices if d.available and device_link(d, self.config) in ("a2dp", "hfp", "wired")
                       and (self.accessories[d.key].model.output_port or self.accessories[d.key].model.is_bluetooth)]
        return offers

    # ------------------------------------------------------------------ the app's session
    def set_category(self, category: str, mode: str = "default", options: tuple[str, ...] = ()) -> None:
        invalid = self.behavior["invalidOptionError"]
        try:
            cfg.check_mode(category, mode, self.platform, invalid)
            cfg.check_options(category, mode, frozenset(options), self.platform, invalid)
        except SessionError:
            self._fire("config.invalid-error-code")
            raise
        new = Configuration(category, mode, frozenset(options))
        category_changed = category != self.config.category
        if category_changed:
            self._fire("config.options-not-sticky")

        def mutate() -> None:
            self.config = new
            if "defaultToSpeaker" in new.effective:
                self.speaker_pinned_seq = self._seq
            if category_changed:
                self.override_speaker = False  # a category change is a route change (§12.2)

        rule = "notify.category-change" if category_changed else "notify.config-route-change"
        self._change(mutate, "categoryChange", force=category_changed, rule=rule)

    def set_mode(self, mode: str) -> None:
        cfg.check_mode(self.config.category, mode, self.platform, self.behavior["invalidOptionError"])
        if self.behavior["setModeClearsOptions"]:
            explicit = frozenset()
            self._fire("config.setmode-clears-options")
        else:
            explicit = self.config.explicit
            self._fire("config.setmode-keeps-options")
        new = Configuration(self.config.category, mode, explicit)

        def mutate() -> None:
            self.config = new

        self._change(mutate, "categoryChange", rule="notify.config-route-change")

    def set_active(self, active: bool, options: tuple[str, ...] = ()) -> None:
        if active:
            self._activate()
        else:
            self._deactivate("notifyOthersOnDeactivation" in options)

    def _notify(self, event: str, *args: Any) -> None:
        for observer in self.observers:
            handler = getattr(observer, event, None)
            if handler is not None:
                handler(*args)

    def _activate(self) -> None:
        for guard in self.activation_guards:
            guard(self)
        if self.active:
            return
        if self.call_holder and self.config.category in ("record", "playAndRecord"):
            raise SessionError("insufficientPriority", f"{self.call_holder} hosts a call",
                               rule="activate.call-priority")
        if self.app.state == "background" and not self.config.mixable and not self.app.now_playing:
            raise SessionError("cannotInterruptOthers", "non-mixable activation from the background",
                               rule="activate.background-non-mixable")
        self.active = True
        self.interrupted_by = None
        self._apply_activation_to_others()
        self._notify("on_activated")

    def _apply_activation_to_others(self) -> None:
        for other in self.others.values():
            if not other.sounding:
                continue
            if interrupts(self.config, other.config):
                other.state, other.interrupted_by = INTERRUPTED, "app"
                self._fire("activate.interrupt-spoken" if other.config.mode == "spokenAudio" and self.config.mixable
                           else "activate.interrupts-non-mixable")
            elif ducks(self.config):
                other.state = DUCKED
                self._fire("activate.ducks-others")
            elif not other.mixable:
                self._fire("interrupt.mixable-not-interrupted")

    def _deactivate(self, notify_others: bool) -> None:
        busy = self.io_running()
        was_active = self.active
        self.active = False
        self.player_playing = False
        for other in self.others.values():
            if other.state == DUCKED:
                other.state = PLAYING
                self._fire("activate.unduck-on-deactivate")
        if notify_others:
            for other in self.others.values():
                if other.state == INTERRUPTED and other.interrupted_by == "app":
                    # The other app gets ended + shouldResume and, being a player, resumes.
                    other.state, other.interrupted_by = PLAYING, None
                    self._fire("activate.notify-others", "activate.others-resume")
        if was_active:
            self._notify("on_deactivated")
        if busy and was_active:
            raise SessionError("isBusy", "deactivated while I/O was running (the session is inactive anyway)",
                               rule="activate.deactivate-busy")

    def set_preferred_input(self, target: str | None) -> None:
        if target is not None:
            offered = {k for _, k in available_inputs(self._policy_state())}
            if target not in offered:
                raise SessionError("badParam", f"{target} is not in availableInputs",
                                   rule="route.preferred-input-not-available")

        def mutate() -> None:
            self.preferred_input = target
            if target is not None:
                self.picked = None  # the app's own routing request supersedes the picker's choice [INF]

        self._change(mutate, "override")
        self._fire("route.preferred-input")

    def override_output(self, port: str) -> None:
        if port == "speaker" and self.config.category != "playAndRecord":
            raise SessionError("badParam", "the speaker override is valid only in playAndRecord",
                               rule="route.override-needs-playandrecord")

        def mutate() -> None:
            self.override_speaker = port == "speaker"
            self.picked = None

        self._change(mutate, "override", clears_choice=False)
        self._fire("notify.override")

    def set_preferred_sample_rate(self, hz: float) -> None:
        self.preferred_sample_rate = float(hz)
        self._fire("format.preferred-rate-not-honoured")

    def set_preferred_io_buffer_duration(self, seconds: float) -> None:
        self.preferred_io_buffer = float(seconds)
        self._fire("format.io-buffer")

    def set_preferred_input_channels(self, n: int) -> None:
        if not self.config.has_input:
            raise SessionError("incompatibleCategory", f"category {self.config.category} has no input",
                               rule="format.input-channels-incompatible")
        maximum = self.max_input_channels
        if n < 1 or n > maximum:
            raise SessionError("badParam", f"{n} input channels requested; the route offers {maximum}",
                               rule="format.no-input-zero-channels")
        self.preferred_input_channels = n

    # ------------------------------------------------------------------ the app itself
    def set_app_state(self, state: str) -> None:
        self.app.state = state
        if state == "background" and not self.app.background_audio and self.active:
            # Suspended: the system deactivates the session; the app learns of it only later.
            self.active = False
            self.player_playing = False
            self._fire("activate.suspended")
            self._notify("on_deactivated")

    def player(self, play: bool) -> None:
        if play:
            if not self.active:
                self._activate()
                self._fire("activate.implicit")
            self.player_playing = True
            self._fire("activate.own-player-not-other")
        else:
            self.player_playing = False

    def media_services_reset(self) -> None:
        self.post("mediaServicesWereLost", "interrupt.media-services-reset")
        self.config = Configuration()
        self.active = False
        self.player_playing = False
        self.override_speaker = False
        self.preferred_input = None
        self.picked = None
        self.interrupted_by = None
        self.decision = decide(self._policy_state())
        self._inputs_seen = self._input_uids()
        self._notify("on_media_reset")
        self.post("mediaServicesWereReset", "interrupt.media-services-reset")

    # ------------------------------------------------------------------ other apps
    def add_other(self, other_id: str, config: Configuration, playing: bool) -> None:
        self.others[other_id] = OtherApp(other_id, config, PLAYING if playing else STOPPED)

    def other_play(self, other_id: str) -> None:
        other = self.others[other_id]
        if other.sounding:
            raise StepError(f"other app {other_id!r} is already playing")
        other.state, other.interrupted_by = PLAYING, None
        for peer in self.others.values():
            if peer is not other and peer.sounding and interrupts(other.config, peer.config):
                peer.state, peer.interrupted_by = INTERRUPTED, other_id
        if self.active and interrupts(other.config, self.config):
            self._interrupt(reason="default", by=other_id, rule="interrupt.began")
        elif self.active and not other.mixable:
            if self.config.mixable:
                self._fire("interrupt.mixable-not-interrupted")
            if self.app.state == "foreground":
                self.post("silenceSecondaryAudioHint", "interrupt.secondary-hint", type="begin")
        if self.active and ducks(other.config):
            self._fire("activate.ducks-others")

    def other_stop(self, other_id: str) -> None:
        other = self.others[other_id]
        if other.state == STOPPED:
            raise StepError(f"other app {other_id!r} is not playing")
        was_sounding = other.sounding
        other.state, other.interrupted_by = STOPPED, None
        for peer in self.others.values():
            if peer.state == INTERRUPTED and peer.interrupted_by == other_id:
                peer.state, peer.interrupted_by = PLAYING, None
        if self.interrupted_by == other_id:
            self.interrupted_by = None
            self.post("interruption", "interrupt.ended-should-resume", type="ended", shouldResume=True)
        elif was_sounding and self.active and not other.mixable and self.app.state == "foreground":
            self.post("silenceSecondaryAudioHint", "interrupt.secondary-hint", type="end")

    def _interrupt(self, *, reason: str, by: str | None, rule: str) -> None:
        self.active = False
        self.player_playing = False
        self.interrupted_by = by
        fields: dict[str, Any] = {"type": "began"}
        if self.platform.at_least(14, 5):
            fields["reason"] = reason
        self.post("interruption", rule, **fields)
        self._fire("interrupt.began")
        self._notify("on_interrupted")
        if self.override_speaker:
            self._fire("route.override-cleared")
            self.override_speaker = False
            self.reroute("override")

    # ------------------------------------------------------------------ what the app reads
    @property
    def route(self) -> Route:
        return self.decision.route

    @property
    def sample_rate(self) -> int:
        return self.decision.sample_rate

    @property
    def max_input_channels(self) -> int:
        return sum(p.channels for p in self.route.inputs[:1])

    @property
    def input_channels(self) -> int:
        if not self.active or not (self.call_config or self.config).has_input or self.input_blocked:
            self._fire("format.no-input-zero-channels")
            return 0
        self._fire("format.channels")
        n = self.max_input_channels
        return min(n, self.preferred_input_channels) if self.preferred_input_channels else n

    @property
    def output_channels(self) -> int:
        self._fire("format.channels")
        return sum(p.channels for p in self.route.outputs[:1])

    @property
    def io_buffer_duration(self) -> float:
        rate = self.sample_rate
        want = self.preferred_io_buffer * rate if self.preferred_io_buffer else 1024
        frames = 2 ** min(12, max(6, round(math.log2(max(want, 1)))))
        return frames / rate

    @property
    def is_other_audio_playing(self) -> bool:
        self._fire("interrupt.other-audio-playing")
        return any(o.sounding for o in self.others.values())

    @property
    def secondary_audio_hint(self) -> bool:
        return any(o.sounding and o.primary for o in self.others.values())

    def available_input_ports(self):
        self._fire("route.available-inputs")
        return available_inputs(self._policy_state())

    def accessory_view(self, key: str) -> dict[str, Any]:
        acc = self._acc(key)
        link = self.decision.links.get(key)
        profile = link.profile if link and link.profile in ("a2dp", "hfp") else "none"
        return {
            "profile": profile,
            "codec": link.codec if link and profile != "none" else None,
            "name": acc.info.name,
            "battery": dict(acc.battery),
            "connected": acc.connected,
        }

    def session_view(self) -> dict[str, Any]:
        return {
            "category": self.config.category,
            "mode": self.config.mode,
            "categoryOptions": sorted(self.config.readback),
            "isActive": self.active,
            "sampleRate": self.sample_rate,
            "IOBufferDuration": self.io_buffer_duration,
            "inputNumberOfChannels": self.input_channels,
            "outputNumberOfChannels": self.output_channels,
            "preferredInput": self.preferred_input,
            "availableInputs": [p.type for p, _ in self.available_input_ports()],
            "isOtherAudioPlaying": self.is_other_audio_playing,
            "secondaryAudioShouldBeSilencedHint": self.secondary_audio_hint,
        }


def acc_available_after(acc: Accessory, left: str | None, right: str | None) -> bool:
    ears = dict(acc.ears)
    if left:
        ears["left"] = left
    if right:
        ears["right"] = right
    return "in" in ears.values()


_REASON_RULE = {
    "newDeviceAvailable": "notify.new-device",
    "oldDeviceUnavailable": "notify.old-device",
    "categoryChange": "notify.category-change",
    "override": "notify.override",
}
