"""The phone and the app's AVAudioSession: deterministic and synchronous.

Every public method is one thing that happens (an API call, an accessory event, a user action); it
updates the state, re-runs the route policy and appends what the app would be told to ``pending``.
The route manager serialises calls into it; scenarios drive it on a virtual clock.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Callable

from routesim.events import NegotiationCommand, SwitchProfile
from routesim.profiles.platform import DEFAULT_PLATFORM, Platform

from routesim.routes.phone import config as cfg
from routesim.routes.phone.config import Configuration
from routesim.routes.phone.errors import SessionError
from routesim.routes.phone.notifications import Notification
from routesim.routes.phone.accessory_events import Accessory, AccessoryEvents
from routesim.routes.phone.others import DUCKED, INTERRUPTED, PLAYING, OtherApp, OtherApps, ducks, interrupts
from routesim.routes.phone.policy import Decision, Device, PolicyState, available_input_uids, available_inputs, decide
from routesim.routes.phone.ports import Route
from routesim.routes.phone.behavior import DEFAULT_BEHAVIOR



@dataclass(slots=True)
class AppState:
    state: str = "foreground"
    background_audio: bool = False
    context: str = "app"
    record_permission: str = "granted"
    now_playing: bool = False
    extension: str | None = None  # the extension point when the code runs in an app extension


class Phone(AccessoryEvents, OtherApps):
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
        self._posts_inputs_change = platform.is_ios and platform.at_least(26)  # availableInputsChange exists
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
        self.call_session_active = False  # the system activated the app's CallKit call session (callkit.py)
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
        fired = self.fired
        for r in rule_ids:
            if r not in fired:
                fired.append(r)

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
        devices = tuple([
            Device(a.info.key, a.model, a.info.name, a.info.address, a.seq, a.available, a.quirks,
                   frozenset(a.pending) if a.pending else _NOTHING_PENDING, a.rig_link)
            for a in self.accessories.values()
            if a.connected
        ])
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
        the route next changes for another reason ([DOC QA1754]; scenario-format decisions)."""
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
        state = self._policy_state()
        new = decide(state)
        old_wanted, new_wanted = old.wanted_links, new.wanted_links  # what the phone asks for, not what a rig carries
        # Most steps leave the links as they were (often the very same cached decision): nothing to ask for.
        same_links = new is old or old_wanted == new_wanted
        asked = [] if same_links else [
            k for k in set(old_wanted) | set(new_wanted)
            if old_wanted.get(k) != new_wanted.get(k)
            and k in self.accessories and self.accessories[k].rig_link is not None]
        if asked:  # the phone asks for another link: its choice leads until the rig reports again (route.rig-link)
            for key in asked:
                self.accessories[key].rig_link = None
            state = self._policy_state()
            new = decide(state)
            new_wanted = new.wanted_links
            same_links = old_wanted == new_wanted
        self.decision = new
        self._fire(*new.rules)
        if new.route != old.route or force:
            self.post("routeChange", rule or _REASON_RULE.get(reason), reason=reason, previousRoute=old.route)
            self._fire("notify.always-posted")
        for key in () if same_links else set(old_wanted) | set(new_wanted):
            before, after = old_wanted.get(key), new_wanted.get(key)
            if before != after and key in self.accessories:
                link = after or None
                profile = link.profile if link and link.profile in ("a2dp", "hfp") else "none"
                if profile != "none" or (before and before.profile in ("a2dp", "hfp")):
                    self.commands.append(SwitchProfile(key, profile, link.codec if link else None))
        for listener in self.listeners:
            listener(self, old, new)
        self._check_available_inputs(state if not self.listeners else None)

    def _input_uids(self, state: PolicyState | None = None) -> tuple[str, ...]:
        return available_input_uids(state or self._policy_state())

    def _check_available_inputs(self, state: PolicyState | None = None) -> None:
        if not self._posts_inputs_change:
            return  # nothing to tell on this platform, and the list is computed afresh whenever it is read
        inputs = self._input_uids(state)
        if inputs != self._inputs_seen:
            self._inputs_seen = inputs
            self.post("availableInputsChange", "notify.available-inputs-change")

    # ------------------------------------------------------------------ the app's session
    def set_category(self, category: str, mode: str = "default", options: tuple[str, ...] = ()) -> None:
        invalid = self.behavior["invalidOptionError"]
        try:
            cfg.check_mode(category, mode, self.platform)
            cfg.check_options(category, mode, frozenset(options), self.platform, invalid)
        except SessionError:
            self._fire("config.invalid-error-code")
            raise
        new = cfg.configuration(category, mode, frozenset(options))
        category_changed = category != self.config.category
        if category_changed:
            self._fire("config.options-not-sticky")

        def mutate() -> None:
            self.config = new
            if "defaultToSpeaker" in new.effective:
                self.speaker_pinned_seq = self._seq
            if category_changed:
                self.override_speaker = False  # a category change is a route change ([INF])

        rule = "notify.category-change" if category_changed else "notify.config-route-change"
        self._change(mutate, "categoryChange", force=category_changed, rule=rule)

    def set_mode(self, mode: str) -> None:
        cfg.check_mode(self.config.category, mode, self.platform)
        if self.behavior["setModeClearsOptions"]:
            explicit = frozenset()
            self._fire("config.setmode-clears-options")
        else:
            explicit = self.config.explicit
            self._fire("config.setmode-keeps-options")
        new = cfg.configuration(self.config.category, mode, explicit)

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
                               rule="format.input-channels-bad-count")
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
        self._notify("on_media_reset")  # first: observers drop what the reset ends (CallKit its call session)
        self.decide_quietly()
        self.post("mediaServicesWereReset", "interrupt.media-services-reset")

    def decide_quietly(self) -> None:
        """Decide the route afresh without posting anything: for a state the app hears of otherwise (a
        media-services reset) or not at all (an accessory connected before the story starts)."""
        self.decision = decide(self._policy_state())
        self._inputs_seen = self._input_uids()

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
            "worn": acc.worn if acc.model.has_head_detection else None,
            # the input port's highQualityRecording capability [DOC H-Types (BluetoothMicrophone extension)]
            "highQualityRecording": ("enabled" if link and link.high_quality else
                                     "supported" if acc.model.high_quality_recording else "unsupported"),
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


_NOTHING_PENDING: frozenset[str] = frozenset()

_REASON_RULE = {
    "newDeviceAvailable": "notify.new-device",
    "oldDeviceUnavailable": "notify.old-device",
    "categoryChange": "notify.category-change",
    "override": "notify.override",
}
