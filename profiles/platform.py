"""The phone's operating system and version, as scenarios name it (``ios-17.4``, ``visionos-2``)."""
from __future__ import annotations

import re
from dataclasses import dataclass

_RX = re.compile(r"^(ios|visionos)-(\d+)(?:\.(\d+))?(?:\.(\d+))?$")

IOS_RANGE = (12, 27)
VISIONOS_RANGE = (1, 27)


@dataclass(frozen=True, order=True, slots=True)
class Platform:
    os: str
    version: tuple[int, int, int]
    simulator: bool = False  # Xcode's simulator rather than a device (scenario-format addition)

    @classmethod
    def parse(cls, text: str) -> "Platform":
        m = _RX.match(text)
        if not m:
            raise ValueError(
                f"platform {text!r} is not of the form ios-MAJOR[.MINOR[.PATCH]] or visionos-MAJOR[.MINOR]"
            )
        os_, *parts = m.groups()
        if os_ == "visionos" and parts[2] is not None:
            raise ValueError(f"platform {text!r}: visionos takes MAJOR[.MINOR] only")
        major, minor, patch = (int(p) if p else 0 for p in parts)
        lo, hi = IOS_RANGE if os_ == "ios" else VISIONOS_RANGE
        if not lo <= major <= hi:
            raise ValueError(f"platform {text!r}: {os_} {major} is outside the modelled range {lo} to {hi}")
        return cls(os_, (major, minor, patch))

    @property
    def is_ios(self) -> bool:
        return self.os == "ios"

    def at_least(self, major: int, minor: int = 0, patch: int = 0) -> bool:
        """True on iOS from the given version on (visionOS is compared by its own numbers)."""
        return self.version >= (major, minor, patch)

    def __str__(self) -> str:
        v = self.version
        return f"{self.os}-{v[0]}.{v[1]}" + (f".{v[2]}" if v[2] else "")


DEFAULT_PLATFORM = Platform("ios", (26, 0, 0))


@dataclass(frozen=True, slots=True)
class VersionRange:
    """A half-open range [low, high) of versions; None means unbounded. Parsed from ">=17.0,<18"."""

    low: tuple[int, ...] | None = None
    high: tuple[int, ...] | None = None

    @classmethod
    def parse(cls, text: str) -> "VersionRange":
        low = high = None
        for part in (p.strip() for p in str(text).split(",") if p.strip()):
            m = re.match(r"^(>=|<)\s*(\d+(?:\.\d+)*)$", part)
            if not m:
                raise ValueError(f"version range part {part!r} must be '>=X.Y' or '<X.Y'")
            ver = tuple(int(x) for x in m.group(2).split("."))
            if m.group(1) == ">=":
                low = ver
            else:
                high = ver
        return cls(low, high)

    def contains(self, version: tuple[int, ...]) -> bool:
        if self.low is not None and tuple(version) < _pad(self.low, len(version)):
            return False
        if self.high is not None and tuple(version) >= _pad(self.high, len(version)):
            return False
        return True

    def __str__(self) -> str:
        parts = []
        if self.low:
            parts.append(">=" + ".".join(map(str, self.low)))
        if self.high:
            parts.append("<" + ".".join(map(str, self.high)))
        return ",".join(parts) or "any"


def _pad(v: tuple[int, ...], n: int) -> tuple[int, ...]:
    return tuple(v) + (0,) * max(0, n - len(v))
