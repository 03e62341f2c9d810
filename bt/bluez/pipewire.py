"""PipeWire's side of a device: which card profile (A2DP vs HFP) it is in, and ``pactl``.

On Linux the audio profile is PipeWire's business, not BlueZ's (BlueZ has no HFP transport). The
backend learns card profiles from the fake's ``org.routesim.FakePipeWire`` on a private bus, and from
its own successful ``pactl set-card-profile`` on a live one.
"""
from __future__ import annotations

import asyncio
import os
import signal

from routesim.bt.bluez.constants import card_profile_to_profile
from routesim.bt.bluez.errors import BluezError
from routesim.bt.bluez.values import ADDRESS_RE

CARD_PREFIX = "bluez_card."


def _pw_codec(name: str | None) -> str | None:
    """PipeWire codec names use underscores (``lc3_a127``); ours use hyphens (profiles.codecs)."""
    return name.replace("_", "-") if name else None


class CardTable:
    """Per device address: the raw card profile name, and what it means as (a2dp/hfp/none, codec)."""

    def __init__(self) -> None:
        self.profiles: dict[str, tuple[str, str | None]] = {}  # address -> (profile kind, codec)
        self.names: dict[str, str] = {}  # address -> raw PipeWire card profile name

    def note(self, card: str, profile: str, codec: str) -> str | None:
        """Record a card's profile; the device address, or None for a card that is not a BlueZ device's."""
        kind = card_profile_to_profile(profile)
        if not card.startswith(CARD_PREFIX):
            return None
        address = card[len(CARD_PREFIX):].replace("_", ":").upper()
        if not ADDRESS_RE.match(address):
            return None
        self.names[address] = profile
        if kind is None:
            self.profiles.pop(address, None)
        else:
            self.profiles[address] = (kind, _pw_codec(codec) or None)
        return address

    def forget(self, address: str) -> None:
        self.profiles.pop(address, None)
        self.names.pop(address, None)

    def clear(self) -> None:
        self.profiles.clear()
        self.names.clear()


def signal_child(pid: int, sig: int) -> None:
    """Signal a child of ours by its pid. Not ``Process.terminate()``: that polls (reaps) an exited child
    behind asyncio's child watcher, which then logs "Unknown child process pid …"."""
    try:
        os.kill(pid, sig)
    except ProcessLookupError:
        pass


async def settle_child(proc: "asyncio.subprocess.Process") -> None:
    """Give a child we killed a moment to be reaped, so its pipes close while the event loop runs (a child
    reaped after the loop closed makes its transport print "Event loop is closed" as the program exits)."""
    try:
        await asyncio.wait_for(proc.wait(), 0.3)
    except asyncio.TimeoutError:
        pass


async def run_pactl(pactl: str, *args: str) -> str:
    """``pactl args…``'s output; :class:`BluezError` with a one-line reason if it fails or hangs."""
    try:
        proc = await asyncio.create_subprocess_exec(
            pactl, *args, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
            stdin=asyncio.subprocess.DEVNULL,
        )
    except OSError as exc:
        raise BluezError(f"pactl {' '.join(args)} failed: {exc}") from None
    try:
        out, err = await asyncio.wait_for(proc.communicate(), 10)
    except (asyncio.TimeoutError, asyncio.CancelledError) as exc:
        if proc.returncode is None:
            signal_child(proc.pid, signal.SIGKILL)
            await settle_child(proc)
        if isinstance(exc, asyncio.CancelledError):
            raise
        raise BluezError(f"pactl {' '.join(args)} timed out") from None
    if proc.returncode != 0:
        raise BluezError(f"pactl {' '.join(args)}: {err.decode(errors='replace').strip() or proc.returncode}")
    return out.decode(errors="replace")
