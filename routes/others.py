"""Other apps' audio sessions, as far as they matter to the app under test: who interrupts, who ducks."""
from __future__ import annotations

from dataclasses import dataclass

from .config import Configuration

# playing | ducked | interrupted | stopped
PLAYING, DUCKED, INTERRUPTED, STOPPED = "playing", "ducked", "interrupted", "stopped"


@dataclass(slots=True)
class OtherApp:
    id: str
    config: Configuration
    state: str = STOPPED
    interrupted_by: str | None = None  # "app" or another other-app id

    @property
    def sounding(self) -> bool:
        return self.state in (PLAYING, DUCKED)

    @property
    def mixable(self) -> bool:
        return self.config.mixable

    @property
    def primary(self) -> bool:
        """Non-mixable audio is "primary" for the secondary-audio hint [DOC H-Types]."""
        return not self.mixable


def interrupts(activating: Configuration, victim: Configuration) -> bool:
    """Does activating one session interrupt another? Non-mixable interrupts non-mixable; a mixable
    session is not interrupted by a non-mixable one; interruptSpokenAudioAndMixWithOthers interrupts
    spokenAudio sessions (ios-audio-session §1.1, §3, §8.1 [DOC ASPG, H-Types])."""
    if "interruptSpokenAudioAndMixWithOthers" in activating.effective and victim.mode == "spokenAudio":
        return True
    return not activating.mixable and not victim.mixable


def ducks(activating: Configuration) -> bool:
    return "duckOthers" in activating.effective
