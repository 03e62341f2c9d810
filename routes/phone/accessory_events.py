"""What accessories do to the phone: connect, disconnect, rename, battery, ear detection and the case,
the user's route picker, and the quirks that delay a profile or add a route change.

A mixin of :class:`routes.session.Phone`; it works on the phone's state through the same plumbing
(``_change``, ``reroute``, ``post``, ``_fire``).
"""
from __future__ import annotations

from dataclasses import dataclass, field, replace

from routesim.events import AccessoryInfo
from routesim.profiles.model import Model, Quirk
from routesim.profiles.quirks import session_matches

from routesim.routes.phone.errors import StepError
from routesim.routes.phone.policy import available_inputs, device_link


@dataclass(slots=True)
class Accessory:
    info: AccessoryInfo
    model: Model
    quirks: tuple[Quirk, ...] = ()
    connected: bool = False
    seq: int = 0
    ears: dict[str, str] = field(default_factory=lambda: {"left": "in", "right": "in"})
    battery: dict[str, int] = field(default_factory=dict)
    pending: set[str] = field(default_factory=set)  # profiles a quirk keeps down for now ("a2dp", "hfp")
    worn: bool = True  # head detection (AirPods Max): headphones start on the head, like buds start in the ears
    head_off_leaves: bool = False  # the headOffLeavesRoute switch, fixed when the accessory is added
    rig_link: str | None = None  # live rigs only: the link the audio server carries (a2dp, hfp, none)

    @property
    def key(self) -> str:
        return self.info.key

    @property
    def available(self) -> bool:
        if not self.connected:
            return False
        if self.model.in_ear_detection:
            return "in" in self.ears.values()
        if self.model.has_head_detection and self.head_off_leaves:
            return self.worn
        return True



class AccessoryEvents:
    """Accessory events and the route picker, as methods of the phone."""

    def add_accessory(self, info: AccessoryInfo, model: Model, quirks: tuple[Quirk, ...] = ()) -> Accessory:
        acc = Accessory(info, model, quirks, head_off_leaves=bool(self.behavior["headOffLeavesRoute"]))
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
            acc.worn = True
            side = "in" if in_ears else "out"
            acc.ears = {"left": side, "right": side}
            self._seq += 1
            acc.seq = self._seq
            self._new_input_takes_over(acc)

        if silent:
            mutate()
            self.decide_quietly()
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
        """extra-route-change quirk: a second routeChange follows the device's own (e.g. [DEV so-mirror-31993722]:
        categoryChange then override after a Bluetooth reconnect)."""
        if acc.key not in self.decision.route.owners():
            return
        for q in self._session_quirks(acc, "extra-route-change"):
            self.post("routeChange", "route.quirk", reason=q.params["reason"], previousRoute=self.decision.route)

    def _new_input_takes_over(self, acc: Accessory) -> None:
        """A newly connected mic takes the input even with a preference set; preferredInput then reads
        nil ([DEV forum-737196])."""
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
            acc.pending.clear()
            acc.rig_link = None
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
        ([DOC H-Session17])."""
        if not (self.active and self.platform.is_ios and self.platform.at_least(17)):
            return
        prefers = self.prefers_interruption_on_route_disconnect
        if prefers is None:
            prefers = self.app.now_playing
        if prefers:
            self._interrupt(reason="routeDisconnected", by=None, rule="interrupt.route-disconnected")

    def rig_link_changed(self, key: str, profile: str | None) -> None:
        """A live rig's audio server now carries ``profile`` for this device (``a2dp``, ``hfp``, anything
        else: no audio link), whoever switched it. The route follows what is carried (route.rig-link); the
        app hears of it as ``routeConfigurationChange``: the device and its name stay, its link's
        configuration changed, and no other documented reason says that better (notify.rig-link) [INF]."""
        acc = self._acc(key)
        link = profile if profile in ("a2dp", "hfp") else "none"
        if not acc.connected or acc.rig_link == link:
            return

        def mutate() -> None:
            acc.rig_link = link

        self._change(mutate, "routeConfigurationChange", clears_choice=False, rule="notify.rig-link")

    def rename(self, key: str, name: str) -> None:
        acc = self._acc(key)
        acc.info = replace(acc.info, name=name)
        self.reroute("routeConfigurationChange", rule="notify.rename")
        self._fire("notify.rename")

    def battery(self, key: str, levels: dict[str, int | None]) -> None:
        """Keep the levels of the parts the model reports: a single-unit headset's one level reads as
        ``left``; right and case levels it cannot have are dropped, as are all levels of a model that
        reports none (accessory.battery-parts)."""
        acc = self._acc(key)
        parts = set(acc.model.battery)
        if "single" in parts:
            parts = {"left"}
        kept = {k: v for k, v in levels.items() if v is not None and k in parts}
        if len(kept) != sum(v is not None for v in levels.values()):
            self._fire("accessory.battery-parts")
        acc.battery.update(kept)

    def ears(self, key: str, left: str | None = None, right: str | None = None, case: str | None = None) -> None:
        acc = self._acc(key)
        if case is not None:
            # case: closed puts the buds in the case and disconnects; case: open takes them out of it, not yet
            # in the ears, and connects (contract). Buds already out of the case (connected) stay where they are.
            if case == "closed" and acc.connected:
                self.disconnect(key)
            elif case == "open" and not acc.connected:
                self.connect(key, in_ears=False)
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

    def worn(self, key: str, worn: bool) -> None:
        """Headphones with head detection put on or taken off (route.head-off). By default the route stays:
        the reports say playback pauses, none says the output moves; the switch headOffLeavesRoute makes
        taking them off act as both buds out (oldDeviceUnavailable), and putting them on as both back in."""
        acc = self._acc(key)
        if not acc.model.has_head_detection:
            raise StepError(f"accessory {key!r} ({acc.model.id}) has no head detection; "
                            f"use 'ears' for earbuds, or a model whose catalog entry has advert.worn")
        if not acc.connected:
            raise StepError(f"accessory {key!r} is not connected")
        self._fire("route.head-off")
        was, was_in_route = acc.available, key in self.decision.route.owners()

        def mutate() -> None:
            acc.worn = worn
            if acc.available and not was:
                self._seq += 1
                acc.seq = self._seq

        if not acc.head_off_leaves or worn == acc.worn:
            mutate()
            return
        self._change(mutate, "newDeviceAvailable" if worn else "oldDeviceUnavailable")
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


def acc_available_after(acc: Accessory, left: str | None, right: str | None) -> bool:
    ears = dict(acc.ears)
    if left:
        ears["left"] = left
    if right:
        ears["right"] = right
    return "in" in ears.values()
