"""Other apps' audio sessions, as far as they matter to the app under test: who interrupts, who ducks."""
from __future__ import annotations

from dataclasses import dataclass

from typing import Any

from routesim.routes.phone.config import Configuration
from routesim.routes.phone.errors import StepError

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
    spokenAudio sessions [DOC ASPG-B, ASPG-Int, H-Types]."""
    if "interruptSpokenAudioAndMixWithOthers" in activating.effective and victim.mode == "spokenAudio":
        return True
    return not activating.mixable and not victim.mixable


def ducks(activating: Configuration) -> bool:
    return "duckOthers" in activating.effective


class OtherApps:
    """Other apps starting and stopping their audio, and interruptions of the app: methods of the phone."""

    def add_other(self, other_id: str, config: Configuration, playing: bool) -> None:
        self.others[other_id] = OtherApp(other_id, config, PLAYING if playing else STOPPED)

    def other_play(self, other_id: str) -> None:
        other = self.others[other_id]
        if other.sounding:
            raise StepError(f"other app {other_id!r} is already playing")
        if self.call_session_active and not other.mixable:
            # The app's CallKit call session outranks every standard session (DTS 804510): the other app
            # cannot interrupt it and stays held off until the call session ends.
            other.state, other.interrupted_by = INTERRUPTED, "app"
            self._fire("callkit.call-outranks-others")
            return
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
