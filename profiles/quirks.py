"""The quirk vocabulary: what a quirk may do (typed effects with parameter schemas), when it applies, and a
linter over a loaded catalog.

A quirk is data (``fixtures/quirks/*.yaml``, plus user directories layered over them). It matches a model by
Bluetooth Device ID product number (and optionally a firmware range), never by name: name-prefix keys break
when a user renames a device, as PipeWire's and Android's quirk tables do [INF PipeWire-hw-conf,
Android-interop-db]. Effects carry typed parameters, because timing
workarounds are quirks too [INF Android-interop-db].

Session names (categories, modes, options, route-change reasons, port types) are the canonical Swift
spellings of AVAudioSessionTypes.h [DOC H-Types]. ``profiles`` depends on nothing else in
the project, so the few names a quirk may use are listed here rather than imported from ``routes``.
"""
from __future__ import annotations

import difflib
import re
from dataclasses import dataclass
from typing import Any, Callable, Iterable, Mapping, Protocol

from routesim.profiles.codecs import CODECS
from routesim.profiles.model import Profile, Quirk
from routesim.profiles.platform import IOS_RANGE, VersionRange


class LoadedCatalog(Protocol):
    """What the linter reads of a loaded catalog (profiles.catalog.Catalog provides it)."""
    def loaded_quirks(self) -> list[tuple[int, Quirk]]: ...
    def models(self) -> Any: ...
    def quirks(self) -> tuple[Quirk, ...]: ...

# --- session vocabulary a `when` clause may use (canonical Swift names) -------------------------------------

CATEGORIES = ("ambient", "soloAmbient", "playback", "record", "playAndRecord", "multiRoute", "audioProcessing")
MODES = (
    "default", "voiceChat", "videoChat", "gameChat", "videoRecording", "measurement", "moviePlayback",
    "spokenAudio", "voicePrompt", "shortFormVideo", "dualRoute",
)
OPTIONS = (
    "mixWithOthers", "duckOthers", "allowBluetoothHFP", "defaultToSpeaker", "interruptSpokenAudioAndMixWithOthers",
    "allowBluetoothA2DP", "allowAirPlay", "overrideMutedMicrophoneInterruption", "farFieldInput",
    "bluetoothHighQualityRecording",
)
# The iOS 26 SDK renamed allowBluetooth to allowBluetoothHFP, same bit 0x4 [DOC H-Types26].
OPTION_ALIASES = {"allowBluetooth": "allowBluetoothHFP"}
ROUTE_CHANGE_REASONS = (
    "unknown", "newDeviceAvailable", "oldDeviceUnavailable", "categoryChange", "override", "wakeFromSleep",
    "noSuitableRouteForCategory", "routeConfigurationChange",
)
FALLBACK_OUTPUTS = ("builtInSpeaker", "builtInReceiver")
LINKS = ("a2dp", "hfp")

WHEN_KEYS = ("category", "mode", "options_include", "options_exclude")


def suggest(word: object, choices: Iterable[str]) -> str | None:
    """The closest of ``choices`` to ``word`` (case-insensitive exact match first), or None."""
    pool = list(choices)
    text = str(word)
    lowered = {c.lower(): c for c in pool}
    if text.lower() in lowered:
        return lowered[text.lower()]
    match = difflib.get_close_matches(text, pool, n=1, cutoff=0.6)
    return match[0] if match else None


def _choice_error(kind: str, value: object, choices: Iterable[str]) -> ValueError:
    pool = list(choices)
    hint = suggest(value, pool)
    right = f"did you mean {hint!r}?" if hint else "one of " + ", ".join(pool)
    return ValueError(f"unknown {kind} {value!r}; {right}")


def check_name(kind: str, value: object, choices: Iterable[str], aliases: Mapping[str, str] | None = None) -> str:
    pool = tuple(choices)
    if isinstance(value, str):
        if value in pool:
            return value
        if aliases and value in aliases:
            return aliases[value]
    if not isinstance(value, str):
        raise ValueError(f"expected a {kind} name, got {type(value).__name__} {value!r}; one of " + ", ".join(pool))
    raise _choice_error(kind, value, pool)


# --- parameter types ---------------------------------------------------------------------------------------

_DELAY_RX = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(ms|s)\s*$")


def _delay(value: object) -> float:
    """Seconds: a number (seconds) or a string "500ms" / "2s", as scenario files write waits."""
    if isinstance(value, bool):
        raise ValueError(f"expected a delay, got {value!r}; write seconds (0.5) or a string such as \"500ms\"")
    if isinstance(value, (int, float)):
        seconds = float(value)
    elif isinstance(value, str) and (m := _DELAY_RX.match(value)):
        seconds = float(m.group(1)) / (1000.0 if m.group(2) == "ms" else 1.0)
    else:
        raise ValueError(f"expected a delay, got {value!r}; write seconds (0.5) or a string such as \"500ms\"")
    if not 0.0 <= seconds <= 600.0:
        raise ValueError(f"delay {value!r} is outside 0 to 600 seconds; give a delay in that range")
    return seconds


def _rate(value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError(f"expected a sample rate in Hz as an integer, got {value!r}; e.g. 16000 or 48000")
    if not 8000 <= value <= 192000:
        raise ValueError(f"sample rate {value} is outside 8000 to 192000 Hz; e.g. 16000 or 48000")
    return value


def _enum(kind: str, choices: Iterable[str], aliases: Mapping[str, str] | None = None) -> Callable[[object], str]:
    pool = tuple(choices)
    return lambda value: check_name(kind, value, pool, aliases)


@dataclass(frozen=True)
class Effect:
    name: str
    params: Mapping[str, Callable[[object], Any]]  # parameter name -> validator returning the normalised value
    meaning: str


EFFECTS: dict[str, Effect] = {
    e.name: e
    for e in (
        Effect(
            "output-fallback",
            {"output": _enum("fallback output", FALLBACK_OUTPUTS)},
            "the device's A2DP output is not used; the route falls back to the given built-in output",
        ),
        Effect("profile-refused", {"profile": _enum("profile", [p.value for p in Profile])},
               "the device refuses the profile when the phone asks for it"),
        Effect("profile-delayed", {"profile": _enum("profile", [p.value for p in Profile]), "delay": _delay},
               "the profile comes up only after the delay (seconds)"),
        Effect("codec-unavailable", {"codec": _enum("codec", CODECS)},
               "the codec is never negotiated with this device"),
        Effect("sample-rate-forced", {"link": _enum("link", LINKS), "rate": _rate},
               "the link runs at this hardware sample rate whatever the codec says"),
        Effect("extra-route-change", {"reason": _enum("route-change reason", ROUTE_CHANGE_REASONS)},
               "an additional route-change notification with this reason is posted"),
        Effect("negotiation-delay", {"delay": _delay}, "profile/codec negotiation takes this long (seconds)"),
    )
}


def check_params(effect: str, params: Mapping[str, object]) -> dict[str, Any]:
    """Validate ``params`` for ``effect``; returns normalised values. Raises ValueError naming the parameter."""
    spec = EFFECTS[effect]
    out: dict[str, Any] = {}
    for key, value in params.items():
        if key not in spec.params:
            hint = suggest(key, spec.params)
            right = f"did you mean {hint!r}?" if hint else "parameters of " + effect + ": " + ", ".join(spec.params)
            raise ValueError(f"unknown parameter {key!r} for effect {effect!r}; {right}")
        out[key] = spec.params[key](value)
    missing = [k for k in spec.params if k not in params]
    if missing:
        raise ValueError(f"effect {effect!r} needs parameter(s) {', '.join(missing)}; "
                         f"give {', '.join(spec.params)}")
    return out


def check_when(when: Mapping[str, object]) -> dict[str, tuple[str, ...]]:
    """Validate a ``when`` clause: each key a name or a list of names; returns tuples of canonical names."""
    out: dict[str, tuple[str, ...]] = {}
    for key, value in when.items():
        if key not in WHEN_KEYS:
            raise _choice_error("'when' condition", key, WHEN_KEYS)
        items = value if isinstance(value, (list, tuple)) else [value]
        if key == "category":
            names = tuple(check_name("category", v, CATEGORIES) for v in items)
        elif key == "mode":
            names = tuple(check_name("mode", v, MODES) for v in items)
        else:
            names = tuple(check_name("category option", v, OPTIONS, OPTION_ALIASES) for v in items)
        out[key] = names
    return out


def session_matches(quirk: Quirk, category: str, mode: str = "default", options: Iterable[str] = ()) -> bool:
    """Whether the app's session configuration meets the quirk's ``when`` conditions (Swift names;
    ``allowBluetooth`` counts as ``allowBluetoothHFP``)."""
    when = quirk.when
    opts = {OPTION_ALIASES.get(o, o) for o in options}
    if "category" in when and category not in when["category"]:
        return False
    if "mode" in when and mode not in when["mode"]:
        return False
    if not set(when.get("options_include", ())) <= opts:
        return False
    if opts & set(when.get("options_exclude", ())):
        return False
    return True


# --- firmware versions -------------------------------------------------------------------------------------

_NUMERIC_RX = re.compile(r"^\d+(?:\.\d+)*$")
_BUILD_RX = re.compile(r"^(\d+)([A-Z])(\d+)([a-z]?)$")


def parse_firmware(text: str) -> tuple[int, ...]:
    """A firmware version as a comparable tuple.

    Dotted numbers ("6.8", "61.1868040002000000.2713") compare numerically. Apple build numbers ("7A305",
    "6F8") become (major, letter index with A=1, build[, suffix letter index]) [INF]: the train letter and
    build number order Apple's builds the same way within a major version.
    """
    if not isinstance(text, str):
        raise ValueError(f"firmware {text!r} must be a string such as \"6.8\" or \"7A305\"; quote it in YAML")
    t = text.strip()
    if _NUMERIC_RX.match(t):
        return tuple(int(x) for x in t.split("."))
    m = _BUILD_RX.match(t)
    if m:
        major, letter, build, suffix = m.groups()
        out = (int(major), ord(letter) - ord("A") + 1, int(build))
        return out + ((ord(suffix) - ord("a") + 1,) if suffix else ())
    raise ValueError(f"firmware {text!r} is neither a dotted version (\"6.8\") nor an Apple build (\"7A305\")")


def parse_firmware_range(text: str) -> VersionRange:
    """">=6.8,<7" or ">=7A305,<8A1"; raises ValueError."""
    low = high = None
    for part in (p.strip() for p in str(text).split(",") if p.strip()):
        m = re.match(r"^(>=|<)\s*(\S+)$", part)
        if not m:
            raise ValueError(f"firmware range part {part!r} must be '>=VERSION' or '<VERSION'")
        ver = parse_firmware(m.group(2))
        if m.group(1) == ">=":
            low = ver
        else:
            high = ver
    return VersionRange(low, high)


# --- linting -----------------------------------------------------------------------------------------------


def _pad(v: tuple[int, ...], n: int) -> tuple[int, ...]:
    return tuple(v) + (0,) * max(0, n - len(v))


def _lt(a: tuple[int, ...], b: tuple[int, ...]) -> bool:
    n = max(len(a), len(b))
    return _pad(a, n) < _pad(b, n)


def range_is_empty(r: VersionRange) -> bool:
    return r.low is not None and r.high is not None and not _lt(r.low, r.high)


def ranges_overlap(a: VersionRange, b: VersionRange) -> bool:
    if range_is_empty(a) or range_is_empty(b):
        return False
    if a.high is not None and b.low is not None and not _lt(b.low, a.high):
        return False
    if b.high is not None and a.low is not None and not _lt(a.low, b.high):
        return False
    return True


def _when_overlap(a: Mapping[str, Any], b: Mapping[str, Any]) -> bool:
    for key in ("category", "mode"):
        if key in a and key in b and not set(a[key]) & set(b[key]):
            return False
    inc = set(a.get("options_include", ())) | set(b.get("options_include", ()))
    exc = set(a.get("options_exclude", ())) | set(b.get("options_exclude", ()))
    return not inc & exc


def _where(q: Quirk) -> str:
    return f"{q.origin}: quirk {q.id!r}" if q.origin else f"quirk {q.id!r}"


def lint(catalog: "LoadedCatalog") -> list[str]:
    """Problems in the catalog's quirks: duplicate ids within one layer, shadowed quirks (a later quirk with the
    same effect on an overlapping match, ranges and conditions) and unreachable quirks (no catalog product id,
    an empty or out-of-range platform or firmware range, or contradictory conditions)."""
    problems: list[str] = []
    seen: dict[tuple[int, str], Quirk] = {}
    for layer, q in catalog.loaded_quirks():
        first = seen.get((layer, q.id))
        if first is not None:
            problems.append(f"{_where(q)}: duplicate id (also in {first.origin or 'the same layer'}); "
                            f"the later one wins, rename or remove one")
        else:
            seen[(layer, q.id)] = q

    known = {(m.vendor_id, m.product_id) for m in catalog.models() if m.product_id is not None}
    effective = list(catalog.quirks())
    for q in effective:
        ids = [(q.vendor_id, p) for p in q.product_ids]
        dead = [p for p in ids if p not in known]
        if ids and len(dead) == len(ids):
            problems.append(f"{_where(q)}: unreachable: no catalog model has product id(s) "
                            + ", ".join(f"0x{p:04X}" for _, p in dead))
        elif dead:
            problems.append(f"{_where(q)}: product id(s) " + ", ".join(f"0x{p:04X}" for _, p in dead)
                            + " match no catalog model")
        if not ids:
            problems.append(f"{_where(q)}: unreachable: matches no product id")
        if range_is_empty(q.platform):
            problems.append(f"{_where(q)}: unreachable: platform range {q.platform} is empty")
        elif not ranges_overlap(q.platform, VersionRange((IOS_RANGE[0],), (IOS_RANGE[1] + 1,))):
            problems.append(f"{_where(q)}: unreachable: platform range {q.platform} is outside the modelled "
                            f"iOS {IOS_RANGE[0]} to {IOS_RANGE[1]}")
        if range_is_empty(q.firmware):
            problems.append(f"{_where(q)}: unreachable: firmware range {q.firmware} is empty")
        both = set(q.when.get("options_include", ())) & set(q.when.get("options_exclude", ()))
        if both:
            problems.append(f"{_where(q)}: unreachable: options both included and excluded: "
                            + ", ".join(sorted(both)))

    for i, early in enumerate(effective):
        for late in effective[i + 1:]:
            if (
                early.effect == late.effect
                and early.vendor_id == late.vendor_id
                and set(early.product_ids) & set(late.product_ids)
                and ranges_overlap(early.platform, late.platform)
                and ranges_overlap(early.firmware, late.firmware)
                and _when_overlap(early.when, late.when)
            ):
                problems.append(f"{_where(late)}: shadowed by {_where(early)} (same effect {late.effect!r}, "
                                f"overlapping product ids, ranges and conditions)")
    return problems


__all__ = [
    "CATEGORIES", "EFFECTS", "Effect", "FALLBACK_OUTPUTS", "LINKS", "MODES", "OPTIONS",
    "OPTION_ALIASES", "ROUTE_CHANGE_REASONS", "WHEN_KEYS", "check_params", "check_when", "lint",
    "parse_firmware", "parse_firmware_range", "range_is_empty", "ranges_overlap", "session_matches", "suggest",
]
