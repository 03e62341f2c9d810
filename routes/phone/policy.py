"""The route policy: a pure function from an explicit state to a route, and the reasons for it.

Rules are named by id (routes.rules) so ``explain`` can say which rule and which quirk decided.
Recency model: last-in wins over a stack of allowed candidates, the built-in ports are the floor
[DOC H-Types, QA1754] + [INF].
"""
from __future__ import annotations

import functools
import operator
from dataclasses import dataclass, field, replace
from typing import Iterable

from routesim.profiles.codecs import CODECS
from routesim.profiles.model import Model, Quirk
from routesim.profiles.platform import Platform
from routesim.profiles.quirks import session_matches

from routesim.routes.phone.config import OUTPUT_ONLY, Configuration
from routesim.routes.phone.frozen import quick_init
from routesim.routes.phone.ports import RECEIVER, SPEAKER, Port, Route, bluetooth_port, built_in_mic, wired_port

_SEQ = operator.attrgetter("seq")
_A2DP_CATEGORIES = OUTPUT_ONLY | {"playAndRecord"}  # where allowBluetoothA2DP can give an A2DP output
DEFAULT_RATE = 48000
HIGH_QUALITY_RATE = 48000  # "full-bandwidth" [DOC H-Types]; the rate is undocumented: 48 kHz as captures show [INF]


@quick_init
@dataclass(frozen=True, slots=True)
class Device:
    key: str
    model: Model
    name: str
    address: str
    seq: int  # larger = connected (or returned) more recently
    available: bool = True  # False while both buds are out of the ears
    quirks: tuple[Quirk, ...] = ()
    pending: frozenset[str] = frozenset()  # profiles a delay quirk keeps down for now
    rig_link: str | None = None  # live rigs: the link the audio server carries ("a2dp", "hfp", "none"); None: ours


@quick_init
@dataclass(frozen=True, slots=True)
class PolicyState:
    config: Configuration
    devices: tuple[Device, ...] = ()
    hardware: str = "iphone"
    platform: Platform = Platform("ios", (26, 0, 0))
    hfp_offered: frozenset[str] = frozenset({"cvsd", "msbc", "lc3-a127"})
    override_speaker: bool = False
    preferred_input: str | None = None  # accessory key or "builtInMic"
    picked: str | None = None  # accessory key, "speaker" or "receiver"
    speaker_pinned_seq: int | None = None  # headsetOverridesDefaultToSpeaker: false


@quick_init
@dataclass(frozen=True, slots=True)
class Link:
    profile: str  # "a2dp" | "hfp" | "wired"
    codec: str | None
    high_quality: bool = False  # iOS 26 bluetoothHighQualityRecording in use: full band, no HFP codec


@quick_init
@dataclass(frozen=True, slots=True)
class Decision:
    route: Route
    links: dict[str, Link] = field(default_factory=dict)
    sample_rate: int = DEFAULT_RATE
    rules: tuple[str, ...] = ()
    quirks: tuple[Quirk, ...] = ()
    wanted: dict[str, Link] | None = None  # the links iOS would choose where a rig carries others; None: links

    @property
    def wanted_links(self) -> dict[str, Link]:
        """What the phone asks the accessories for (negotiation commands follow these, not the rig's)."""
        return self.links if self.wanted is None else self.wanted


class _Trace:
    """The rules behind one decision, in the order they first fired (a dict keeps that order and ignores
    repeats: ``trace.rules[rule_id] = None``), and the quirks that decided."""
    __slots__ = ("rules", "quirks")

    def __init__(self, rules: Iterable[str] = ()) -> None:
        self.rules: dict[str, None] = dict.fromkeys(rules)
        self.quirks: list[Quirk] = []


def _active_quirks(dev: Device, config: Configuration, effect: str) -> list[Quirk]:
    if not dev.quirks:
        return []
    return [q for q in dev.quirks
            if q.effect == effect and session_matches(q, config.category, config.mode, config.effective)]


def _refused(dev: Device, config: Configuration, profile: str, trace: _Trace) -> bool:
    if profile in dev.pending:
        trace.rules["route.quirk"] = None
        return True
    for q in _active_quirks(dev, config, "profile-refused"):
        if q.params.get("profile") == profile:
            trace.quirks.append(q)
            trace.rules["route.quirk"] = None
            return True
    return False


def device_link(dev: Device, config: Configuration, trace: _Trace | None = None) -> str | None:
    """The link this device gives the current configuration: 'hfp', 'a2dp', 'wired' or None. On a live
    rig whose audio server carries another link than the one iOS would choose, the route can only use
    what is carried, and only where the configuration allows that kind of link (route.rig-link) [INF]."""
    trace = trace or _Trace()
    chosen = _best_link(dev, config, trace)
    rig = dev.rig_link
    if rig is None or rig == chosen:
        return chosen
    trace.rules["route.rig-link"] = None
    m, cat, eff = dev.model, config.category, config.effective
    if rig == "hfp" and m.has_hfp and m.microphones > 0 and cat in ("playAndRecord", "record") \
            and "allowBluetoothHFP" in eff:
        return "hfp"
    if rig == "a2dp" and m.has_a2dp and "allowBluetoothA2DP" in eff and cat in _A2DP_CATEGORIES:
        return "a2dp"
    return None


def _best_link(dev: Device, config: Configuration, trace: _Trace) -> str | None:
    """The best link this device offers the current configuration, as iOS chooses it."""
    m, cat, eff = dev.model, config.category, config.effective
    if not m.is_bluetooth:
        if cat in OUTPUT_ONLY:
            return "wired" if m.output_port else None
        if cat == "record":
            return "wired" if m.input_port else None
        return "wired"
    if "bluetoothHighQualityRecording" in eff and _high_quality(dev, config):
        trace.rules["route.bt-high-quality"] = None
        return "hfp"  # the two-way Bluetooth link, at full band (route.bt-high-quality)
    if "bluetoothHighQualityRecording" in eff and cat == "playAndRecord" and m.is_bluetooth and m.microphones > 0:
        trace.rules["route.bt-high-quality-fallback" if "allowBluetoothHFP" in eff
                    else "route.bt-high-quality-ignored"] = None
    if cat in ("playAndRecord", "record") and "allowBluetoothHFP" in eff and m.has_hfp and m.microphones > 0:
        if not _refused(dev, config, "hfp", trace):
            if cat == "playAndRecord" and "allowBluetoothA2DP" in eff and m.has_a2dp:
                trace.rules["route.hfp-before-a2dp"] = None
            return "hfp"
    if m.has_a2dp and "allowBluetoothA2DP" in eff and cat in _A2DP_CATEGORIES:
        if not _refused(dev, config, "a2dp", trace):
            return "a2dp"
    return None


def _ports(dev: Device, link: str, want_input: bool) -> tuple[Port | None, Port | None]:
    """(input port, output port) the device gives on this link."""
    m = dev.model
    if link == "hfp":
        p = bluetooth_port("hfp", dev.key, dev.name, dev.address)
        return (p if want_input else None), p
    if link == "a2dp":
        return None, bluetooth_port("a2dp", dev.key, dev.name, dev.address)
    out = wired_port(m.output_port, dev.key, dev.name, dev.address) if m.output_port else None
    inp = wired_input_port(dev) if (m.input_port and want_input) else None
    return inp, out


def wired_input_port(dev: Device) -> Port:
    """A wired, USB or car input port with the catalog's channel count (``hardware.microphones``)."""
    return wired_port(dev.model.input_port, dev.key, dev.name, dev.address, channels=dev.model.microphones)


def _newest_first(state: PolicyState) -> list[Device]:
    available = [d for d in state.devices if d.available]
    if len(available) > 1:
        available.sort(key=_SEQ, reverse=True)  # reverse=True keeps equal keys in their order, as -seq did
    return available


@functools.lru_cache(maxsize=4096)
def available_input_uids(state: PolicyState) -> tuple[str, ...]:
    """The uids of :func:`available_inputs` (what ``availableInputsChange`` compares), cached by state."""
    return tuple(p.uid for p, _ in available_inputs(state))


def available_inputs(state: PolicyState) -> list[tuple[Port, str]]:
    """availableInputs: (port, key-or-builtInMic) in the order iOS lists them (built-in first) [DOC H-Session17]."""
    config = state.config
    if not config.has_input:
        return []
    result = [(built_in_mic(state.hardware), "builtInMic")]
    for dev in sorted((d for d in state.devices if d.available), key=lambda d: d.seq):
        link = device_link(dev, config)
        if link == "hfp":
            result.append((bluetooth_port("hfp", dev.key, dev.name, dev.address), dev.key))
        elif link == "wired" and dev.model.input_port:
            result.append((wired_input_port(dev), dev.key))
    return result


@functools.lru_cache(maxsize=4096)
def decide(state: PolicyState) -> Decision:
    """The route for a state, and why. Pure, so a state seen before (a scenario re-checking an unchanged
    route, the same configuration on another run) is answered from a cache; ``decide.__wrapped__`` is
    the uncached function (benchmarks). A Decision is never changed after it is made."""
    for d in state.devices:
        if d.rig_link is not None:
            break
    else:
        return _decide_links(state)
    # a live rig carries a link of its own on some device: the route uses it, the phone still asks for its own
    wanted = decide(PolicyState(**{**{f: getattr(state, f) for f in state.__dataclass_fields__},
                                   "devices": tuple(replace(d, rig_link=None) for d in state.devices)}))
    pinned = _decide_links(state)
    return replace(pinned, wanted=wanted.links)


def _decide_links(state: PolicyState) -> Decision:
    config = state.config
    trace = _Trace(config._implied)  # the rules its implied options fired (config.implied_rules)
    cat = config.category
    if cat in OUTPUT_ONLY:
        route, links = _output_only(state, trace)
    elif cat == "record":
        route, links = _record(state, trace)
    elif cat == "multiRoute":
        route, links = _multi_route(state, trace)
    else:
        route, links = _play_and_record(state, trace)
    rate = _sample_rate(state, route, links, trace)
    return Decision(route, links, rate, tuple(trace.rules), tuple(trace.quirks))


def _high_quality(dev: Device, config: Configuration) -> bool:
    """bluetoothHighQualityRecording on a model the catalog says supports it ([DOC H-Types: playAndRecord, mode
    default, iOS 26]; the option's validity is checked when the category is set)."""
    m = dev.model
    return (config.category == "playAndRecord" and "bluetoothHighQualityRecording" in config.effective
            and m.is_bluetooth and m.high_quality_recording and m.microphones > 0)


def _link_record(dev: Device, link: str, state: PolicyState, trace: _Trace) -> Link:
    if link == "hfp" and _high_quality(dev, state.config):
        return Link("hfp", None, high_quality=True)
    if link == "hfp":
        support = _hfp_support(dev, state, trace)
        return Link("hfp", support)
    if link == "a2dp":
        return Link("a2dp", dev.model.a2dp_codec())
    return Link("wired", None)


def _hfp_support(dev: Device, state: PolicyState, trace: _Trace) -> str:
    offered = set(state.hfp_offered)
    for q in _active_quirks(dev, state.config, "codec-unavailable"):
        if q.params.get("codec") in offered:
            offered.discard(q.params["codec"])
            trace.quirks.append(q)
            trace.rules["route.quirk"] = None
    support = dev.model.hfp_codec(frozenset(offered), state.platform)
    # CVSD is mandatory in HFP, the floor when nothing better is common (HFP-spec).
    return support.codec if support else "cvsd"


def _output_only(state: PolicyState, trace: _Trace):
    config = state.config
    cands = []
    for dev in _newest_first(state):
        link = device_link(dev, config, trace)
        if link:
            cands.append((dev, link))
        elif dev.model.has_hfp and not dev.model.has_a2dp:
            trace.rules["route.hfp-only-not-for-playback"] = None
    trace.rules["route.output-only-last-in"] = None
    picked = _picked(state, cands, trace)
    if picked == "speaker" or (picked is None and not cands):
        return Route((), (SPEAKER,)), {}
    dev, link = picked if picked else cands[0]
    if len(cands) > 1:
        trace.rules["route.last-in-wins"] = None
    _, out = _ports(dev, link, False)
    fallback = _output_fallback(dev, link, config, trace)
    if fallback:
        return Route((), (fallback,)), {}
    return Route((), (out,)), {dev.key: _link_record(dev, link, state, trace)}


def _picked(state: PolicyState, cands, trace: _Trace):
    """The user's route-picker choice, if it still stands: a (device, link) pair, 'speaker', 'receiver'."""
    if state.picked is None:
        return None
    trace.rules["route.picker"] = None
    if state.picked in ("speaker", "receiver"):
        return state.picked
    for dev, link in cands:
        if dev.key == state.picked:
            return dev, link
    return None


def _output_fallback(dev: Device, link: str, config: Configuration, trace: _Trace) -> Port | None:
    if link != "a2dp":
        return None
    for q in _active_quirks(dev, config, "output-fallback"):
        trace.quirks.append(q)
        trace.rules["route.quirk"] = None
        return SPEAKER if q.params["output"] == "builtInSpeaker" else RECEIVER  # required (profiles.quirks)
    return None


def _record(state: PolicyState, trace: _Trace):
    config = state.config
    trace.rules["route.record-no-output"] = None
    mic = built_in_mic(state.hardware)
    if state.preferred_input == "builtInMic":
        trace.rules["route.preferred-input"] = None
        return Route((mic,), ()), {}
    cands = [(d, device_link(d, config, trace)) for d in _newest_first(state)]
    cands = [(d, link) for d, link in cands if link]
    chosen = None
    if state.preferred_input:
        chosen = next(((d, l) for d, l in cands if d.key == state.preferred_input), None)
        if chosen:
            trace.rules["route.preferred-input"] = None
    if chosen is None and cands:
        chosen = cands[0]
        if len(cands) > 1:
            trace.rules["route.last-in-wins"] = None
    if chosen is None:
        return Route((mic,), ()), {}
    dev, link = chosen
    inp, _ = _ports(dev, link, True)
    if link == "hfp":
        trace.rules["route.hfp-both-ways"] = None
    return Route((inp,), ()), {dev.key: _link_record(dev, link, state, trace)}


def _multi_route(state: PolicyState, trace: _Trace):
    # multiRoute eligible ports [DOC H-Types]: wired and USB only.
    devs = [d for d in _newest_first(state) if not d.model.is_bluetooth]
    outs = [wired_port(d.model.output_port, d.key, d.name, d.address) for d in devs
            if d.model.output_port in ("usbAudio", "lineOut", "headphones", "HDMI")]
    ins = [wired_input_port(d) for d in devs
           if d.model.input_port in ("usbAudio", "headsetMic")]
    trace.rules["route.last-in-wins"] = None
    return Route((ins[0] if ins else built_in_mic(state.hardware),), tuple(outs) or (SPEAKER,)), {}


def _floor_output(state: PolicyState, trace: _Trace) -> Port:
    eff = state.config.effective
    if "defaultToSpeaker" in eff:
        trace.rules["route.default-to-speaker"] = None
        return SPEAKER
    if state.hardware != "iphone":
        trace.rules["route.no-receiver-speaker"] = None
        return SPEAKER
    trace.rules["route.playandrecord-receiver"] = None
    return RECEIVER


def _play_and_record(state: PolicyState, trace: _Trace):
    config = state.config
    eff = config.effective
    mic = built_in_mic(state.hardware)
    if state.override_speaker:
        trace.rules["route.override-speaker"] = None
        return Route((mic,), (SPEAKER,)), {}

    pref = state.preferred_input
    cands: list[tuple[Device, str]] = []
    for dev in _newest_first(state):
        link = device_link(dev, config, trace)
        if link is None:
            if dev.model.is_bluetooth and not (eff & {"allowBluetoothHFP", "allowBluetoothA2DP"}):
                trace.rules["route.bt-needs-option"] = None
            continue
        if (state.speaker_pinned_seq is not None and "defaultToSpeaker" in eff
                and dev.seq > state.speaker_pinned_seq):
            trace.rules["route.default-to-speaker-keeps"] = None
            continue
        if link == "hfp" and pref is not None and pref != dev.key:
            # Preferring another input takes this device off HFP (HFP moves both sides, [DOC Doc-setPreferredInput]);
            # it may still play over A2DP.
            if dev.model.has_a2dp and "allowBluetoothA2DP" in eff:
                link = "a2dp"
            else:
                continue
        cands.append((dev, link))
    if cands and "defaultToSpeaker" in eff:
        trace.rules["route.headset-over-default-to-speaker"] = None

    links: dict[str, Link] = {}
    picked = _picked(state, cands, trace)
    out_choice = None
    if picked in ("speaker", "receiver"):
        out_port = SPEAKER if picked == "speaker" else RECEIVER
        return Route((mic,), (out_port,)), {}
    if picked:
        out_choice = picked
    elif pref and pref != "builtInMic":
        for dev, link in cands:
            if dev.key == pref:
                if link == "hfp":
                    out_choice = (dev, link)
                    trace.rules["route.preferred-input"] = None
                    trace.rules["route.preferred-hfp-moves-output"] = None
                break
    if out_choice is None and cands:
        out_choice = cands[0]
        if len(cands) > 1:
            trace.rules["route.last-in-wins"] = None

    if out_choice is None:
        out_port = _floor_output(state, trace)
        inp = _category_input(state, cands, trace) or mic
        return Route((inp,), (out_port,)), links

    dev, link = out_choice
    dev_in, out_port = _ports(dev, link, True)
    fallback = _output_fallback(dev, link, config, trace)
    if fallback:
        return Route((_category_input(state, cands, trace) or mic,), (fallback,)), links
    links[dev.key] = _link_record(dev, link, state, trace)
    if link == "hfp":
        trace.rules["route.hfp-both-ways"] = None
        return Route((dev_in,), (out_port,)), links
    if link == "a2dp":
        trace.rules["route.a2dp-with-category-input"] = None
    if dev_in is not None and pref in (None, dev.key):
        if dev.model.input_port == "headsetMic":
            trace.rules["route.wired-headset"] = None
        return Route((dev_in,), (out_port,)), links
    inp = _category_input(state, cands, trace) or mic
    return Route((inp,), (out_port,)), links


def _category_input(state: PolicyState, cands: Iterable[tuple[Device, str]], trace: _Trace) -> Port | None:
    """The input when the output gives none: the preferred one, else the newest wired/USB/car mic."""
    pref = state.preferred_input
    if pref == "builtInMic":
        trace.rules["route.preferred-input"] = None
        return built_in_mic(state.hardware)
    wired = [(d, l) for d, l in cands if l == "wired" and d.model.input_port]
    if pref:
        for dev, _ in wired:
            if dev.key == pref:
                trace.rules["route.preferred-input"] = None
                return wired_input_port(dev)
    if wired:
        dev = wired[0][0]
        return wired_input_port(dev)
    return None


def _sample_rate(state: PolicyState, route: Route, links: dict[str, Link], trace: _Trace) -> int:
    if not links:  # built-in ports only (or a fallback to them)
        trace.rules["format.built-in-48k"] = None
        return DEFAULT_RATE
    rate = DEFAULT_RATE
    out_owner = route.outputs[0].owner if route.outputs else None
    in_owner = route.inputs[0].owner if route.inputs else None
    owner = out_owner or in_owner
    link = links.get(owner) if owner else None
    dev = None
    if owner:
        for d in state.devices:
            if d.key == owner:
                dev = d
                break
    if link and dev:
        if link.high_quality:
            rate = HIGH_QUALITY_RATE
            trace.rules["format.bt-high-quality-rate"] = None
        elif link.profile == "hfp":
            rate = CODECS[link.codec].sample_rate
            trace.rules["format.hfp-codec-rate"] = None
        elif link.profile == "a2dp":
            rate = dev.model.a2dp_sample_rate
            trace.rules["format.a2dp-rate"] = None
        elif in_owner == owner and dev.model.input_rate:
            rate = dev.model.input_rate  # its microphone sets the one hardware rate (CarPlay)
            trace.rules["format.wired-input-rate"] = None
        else:
            trace.rules["format.built-in-48k"] = None
        for q in _active_quirks(dev, state.config, "sample-rate-forced"):
            if q.params.get("link") == link.profile:
                rate = int(q.params["rate"])
                trace.quirks.append(q)
                trace.rules["route.quirk"] = None
    else:
        trace.rules["format.built-in-48k"] = None
    return rate
