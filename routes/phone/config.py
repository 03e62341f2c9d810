"""Category, mode and option rules: what is valid, what is implied, what reads back.

Tables of option validity, modes and implied options from the SDK header comments [DOC H-Types, H-Types26].
"""
from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache

from routesim.profiles.platform import Platform

from routesim.routes.phone.errors import SessionError
from routesim.routes.phone.vocabulary import Option

OUTPUT_ONLY = frozenset({"ambient", "soloAmbient", "playback"})
WITH_INPUT = frozenset({"record", "playAndRecord", "multiRoute"})
WITH_OUTPUT = frozenset({"ambient", "soloAmbient", "playback", "playAndRecord", "multiRoute"})
CHAT_MODES = frozenset({"voiceChat", "videoChat", "gameChat"})

# option -> categories where the app may set it ([DOC H-Types]). "multiRoute" entries that need mode default
# are checked separately.
_ALLOWED = {
    "mixWithOthers": {"ambient", "playback", "playAndRecord", "multiRoute"},
    "duckOthers": {"ambient", "playback", "playAndRecord", "multiRoute"},
    "allowBluetoothHFP": {"record", "playAndRecord", "multiRoute"},  # multiRoute: dualRoute mode only
    "defaultToSpeaker": {"playAndRecord"},
    "interruptSpokenAudioAndMixWithOthers": {"playback", "playAndRecord", "multiRoute"},
    "allowBluetoothA2DP": {"ambient", "soloAmbient", "playback", "playAndRecord", "record", "multiRoute"},
    "allowAirPlay": {"playAndRecord"},
    "overrideMutedMicrophoneInterruption": {"playAndRecord", "multiRoute"},
    "farFieldInput": {"record", "playAndRecord", "multiRoute"},
    "bluetoothHighQualityRecording": {"playAndRecord"},
}
_MULTIROUTE_DEFAULT_MODE_ONLY = {"mixWithOthers", "duckOthers", "interruptSpokenAudioAndMixWithOthers"}
_SINCE = {  # option -> first iOS version that has it
    "overrideMutedMicrophoneInterruption": (14, 5, 0),
    "bluetoothHighQualityRecording": (26, 0, 0),
    "farFieldInput": (26, 2, 0),
}

_MODE_CATEGORIES = {
    "default": None,  # every category
    "voiceChat": {"playAndRecord"},
    "videoChat": {"playAndRecord"},
    "gameChat": {"playAndRecord"},
    "videoRecording": {"playAndRecord", "record"},
    "measurement": {"playAndRecord", "record", "playback"},
    "moviePlayback": {"playback"},
    "spokenAudio": {"playback"},
    "voicePrompt": None,  # the header names no category [DOC H-Types]
    "shortFormVideo": {"playback"},
    "dualRoute": {"multiRoute"},
}
_MODE_SINCE = {"shortFormVideo": (26, 0, 0), "dualRoute": (26, 2, 0)}


@dataclass(frozen=True, slots=True)
class Configuration:
    """What the app set. ``explicit`` holds the options as the app passed them (canonical names)."""

    category: str = "soloAmbient"
    mode: str = "default"
    explicit: frozenset[str] = frozenset()
    # Derived once when the configuration is made (it never changes): the route policy reads them many
    # times per decision, so they are plain attributes rather than properties.
    # readback: categoryOptions as the app reads it back (scenario-format: explicit + mixWithOthers implied
    # by duckOthers / interruptSpokenAudioAndMixWithOthers) [DOC H-Types].
    readback: frozenset[str] = field(init=False, repr=False, compare=False, hash=False, default=frozenset())
    # effective: what routing and mixing obey: readback plus what the category and mode imply ([INF]).
    effective: frozenset[str] = field(init=False, repr=False, compare=False, hash=False, default=frozenset())
    _implied: tuple[str, ...] = field(init=False, repr=False, compare=False, hash=False, default=())

    def __post_init__(self) -> None:
        opts = set(self.explicit)
        if self.category in ("record", "multiRoute"):
            opts.discard("allowBluetoothA2DP")
        if opts & {"duckOthers", "interruptSpokenAudioAndMixWithOthers"}:
            opts.add("mixWithOthers")
        readback = frozenset(opts)
        if self.category == "ambient":
            opts.add("mixWithOthers")
        if self.category in OUTPUT_ONLY:
            opts.add("allowBluetoothA2DP")
        if self.mode in CHAT_MODES:
            opts.add("allowBluetoothHFP")
        if self.mode == "videoChat":
            opts.add("defaultToSpeaker")
        object.__setattr__(self, "readback", readback)
        object.__setattr__(self, "effective", frozenset(opts))
        object.__setattr__(self, "_implied", tuple(_implied_rules(self)))

    @property
    def mixable(self) -> bool:
        return "mixWithOthers" in self.effective

    @property
    def has_input(self) -> bool:
        return self.category in WITH_INPUT

    @property
    def has_output(self) -> bool:
        return self.category in WITH_OUTPUT

    def option_bits(self) -> int:
        bits = 0
        for name in self.readback:
            bits |= Option[name].value
        return bits


@lru_cache(maxsize=512)
def configuration(category: str, mode: str = "default", explicit: frozenset[str] = frozenset()) -> Configuration:
    """The configuration for these values, made once: an app sets the same few again and again, and working
    out what a configuration implies is most of what a category change costs."""
    return Configuration(category, mode, explicit)


def implied_rules(config: Configuration) -> list[str]:
    """Rule ids for the implications that shaped ``effective`` (for explain)."""
    return list(config._implied)


def _implied_rules(config: Configuration) -> list[str]:
    fired = []
    if config.category == "ambient":
        fired.append("config.ambient-mixes")
    if config.category in OUTPUT_ONLY:
        fired.append("config.a2dp-implicit")
    if config.explicit & {"duckOthers", "interruptSpokenAudioAndMixWithOthers"}:
        fired.append("config.duck-implies-mix")
    if config.mode in ("voiceChat", "gameChat"):
        fired.append("config.chat-implies-hfp")
    if config.mode == "videoChat":
        fired.append("config.videochat-implies-speaker")
    if config.category in ("record", "multiRoute") and "allowBluetoothA2DP" in config.explicit:
        fired.append("config.a2dp-cleared")
    return fired


def check_mode(category: str, mode: str, platform: Platform) -> None:
    """A mode that does not exist yet, or not with this category: badParam whatever invalidOptionError says
    (config.mode-validity: [DOC] H-Types, valid categories per mode)."""
    allowed = _MODE_CATEGORIES.get(mode)
    since = _MODE_SINCE.get(mode)
    if since and not platform.at_least(*since):
        raise SessionError("badParam", f"mode {mode} does not exist before iOS {since[0]}.{since[1]}",
                           rule="config.mode-validity")
    if allowed is not None and category not in allowed:
        raise SessionError("badParam", f"mode {mode} is not valid with category {category} "
                           f"(valid: {', '.join(sorted(allowed))})", rule="config.mode-validity")


def check_options(category: str, mode: str, options: frozenset[str], platform: Platform,
                  invalid_error: str) -> None:
    if category == "audioProcessing":
        raise SessionError(invalid_error, "audioProcessing is no longer supported (deprecated in iOS 10)",
                           rule="config.option-validity")
    for name in sorted(options):
        since = _SINCE.get(name)
        if since and not platform.at_least(*since):
            raise SessionError("badParam", f"option {name} does not exist before iOS {since[0]}.{since[1]}",
                               rule="config.option-platform")
        if category not in _ALLOWED[name]:
            raise SessionError(invalid_error, f"option {name} is not valid with category {category}",
                               rule="config.option-validity")
        if category == "multiRoute" and name in _MULTIROUTE_DEFAULT_MODE_ONLY and mode != "default":
            raise SessionError(invalid_error, f"option {name} with multiRoute needs mode default",
                               rule="config.option-validity")
        if category == "multiRoute" and name == "allowBluetoothHFP" and mode != "dualRoute":
            raise SessionError(invalid_error, "allowBluetoothHFP with multiRoute needs mode dualRoute",
                               rule="config.option-validity")
        if name == "bluetoothHighQualityRecording" and mode != "default":
            raise SessionError(invalid_error, "bluetoothHighQualityRecording needs mode default",
                               rule="config.option-validity")
        if name == "farFieldInput" and category != "multiRoute" and "allowBluetoothHFP" not in options:
            raise SessionError(invalid_error, "farFieldInput needs allowBluetoothHFP",
                               rule="config.option-validity")
    if mode == "dualRoute" and "allowBluetoothHFP" not in options:
        raise SessionError(invalid_error, "mode dualRoute needs allowBluetoothHFP", rule="config.option-validity")
