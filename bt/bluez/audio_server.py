"""The audio server's side of a Bluetooth device: its card, the card's profiles, following the card's
changes, and switching with care. This is the one seam between routesim and PipeWire/WirePlumber.

On Linux, A2DP versus HFP is the audio server's business, not BlueZ's (BlueZ has no HFP transport). Two
carriers reach it:

* **pactl** on a live rig: PipeWire through its PulseAudio interface (``pipewire-pulse``), so the same
  commands serve PulseAudio too. ``pactl --format=json list cards`` gives each card's active profile and
  every profile with its availability in one call, under the names users type into
  ``pactl set-card-profile``; ``pactl subscribe`` prints one line per card change (``Event 'change' on
  card #47``), after which the cards are read again. We chose this over PipeWire's own tools because
  ``pw-mon``'s text is not meant for parsing and ``pw-dump --monitor`` streams every object of the graph;
  pactl's card view is exactly the part we need [INF].
* **the fake's stand-in** (``org.routesim.FakePipeWire``) on a private bus made by routesim: its
  ``CardProfileChanged`` signal and ``SetCardProfile`` method (handled in :mod:`.connection` and
  :mod:`.commands`); its cards offer the profiles PipeWire creates from the device's UUIDs.

Switching with care (:func:`plan_switch`), all [INF]: request only a profile the card offers and that is
available, never one the card is already in (no re-send of the active profile on every connect), and
never ``off``: the route moving away from a device (both buds out, a call on another device) is not a
reason to turn its card off. A refused switch leaves the card as it was; the caller rolls its model back.
"""
from __future__ import annotations

import asyncio
import json
import logging
import re
import signal
import shutil
from dataclasses import dataclass, field
from typing import Any, Callable, Literal

from routesim.bt.bluez.constants import (
    A2DP_SINK,
    CARD_PROFILE_A2DP,
    CARD_PROFILE_HFP,
    CARD_PROFILE_OFF,
    HFP_UUIDS,
    card_name,
    card_profile_to_profile,
)
from routesim.bt.bluez.errors import BluezError
from routesim.bt.bluez.pipewire import CARD_PREFIX, run_pactl, settle_child, signal_child
from routesim.bt.bluez.values import ADDRESS_RE

log = logging.getLogger("routesim.bt.bluez")

BASE_PROFILE = {"a2dp": CARD_PROFILE_A2DP, "hfp": CARD_PROFILE_HFP}


@dataclass(frozen=True)
class Card:
    """A card as the audio server describes it. ``profiles``: name -> available."""

    name: str
    active: str | None
    profiles: dict[str, bool] = field(default_factory=dict)

    @property
    def address(self) -> str | None:
        if not self.name.startswith(CARD_PREFIX):
            return None
        address = self.name[len(CARD_PREFIX):].replace("_", ":").upper()
        return address if ADDRESS_RE.match(address) else None


@dataclass(frozen=True)
class SwitchPlan:
    """What to do about a requested profile: ``switch`` to ``profile``, or nothing (``already`` in it,
    or ``refuse`` with ``reason``)."""

    action: Literal["switch", "already", "refuse"]
    profile: str | None
    reason: str


def plan_switch(card: Card | None, kind: str, codec: str | None = None) -> SwitchPlan:
    """The profile to request on ``card`` for ``kind`` (a2dp/hfp/none) and ``codec``, or why none."""
    if kind == "none":
        return SwitchPlan("refuse", None, "routesim never switches a card off (the device stays connected; "
                                          "only the route moved away from it)")
    base = BASE_PROFILE.get(kind)
    if base is None:
        return SwitchPlan("refuse", None, f"unknown profile {kind!r}")
    if card is None:
        return SwitchPlan("refuse", None, "the audio server has no card for this device")
    wanted_codec = codec.replace("-", "_") if codec else None
    active_kind = card_profile_to_profile(card.active) if card.active else None
    if active_kind == kind:
        # the bare name means "best codec", so it counts as any codec
        if wanted_codec is None or card.active in (base, f"{base}-{wanted_codec}") \
                or f"{base}-{wanted_codec}" not in card.profiles:
            return SwitchPlan("already", card.active, f"the card is already in {card.active}")
    candidates = ([f"{base}-{wanted_codec}"] if wanted_codec else []) + [base] + sorted(
        p for p in card.profiles if card_profile_to_profile(p) == kind)
    for name in candidates:
        if card.profiles.get(name):
            return SwitchPlan("switch", name, f"{card.active or 'no profile'} -> {name}")
    offered = ", ".join(f"{p}{'' if ok else ' (unavailable)'}" for p, ok in sorted(card.profiles.items())) or "none"
    return SwitchPlan("refuse", None, f"the card offers no available {kind} profile (it offers: {offered})")


def stand_in_card(address: str, uuids: set[str], active: str | None) -> Card:
    """A card of the fake's stand-in: the profiles PipeWire makes from the device's UUIDs."""
    profiles = {CARD_PROFILE_OFF: True}
    if A2DP_SINK in uuids:
        profiles[CARD_PROFILE_A2DP] = True
    if HFP_UUIDS & uuids:
        profiles[CARD_PROFILE_HFP] = True
    if active and active not in profiles:
        profiles[active] = True  # a codec variant (a2dp-sink-aac) is offered while it is active
    return Card(card_name(address), active, profiles)


# ------------------------------------------------------------------------------------- pactl's output
def parse_cards_json(text: str) -> list[Card]:
    """``pactl --format=json list cards``: a JSON list of cards with ``name``, ``active_profile`` and
    ``profiles`` (name -> {``available``: bool, …}). Malformed entries are skipped."""
    try:
        data = json.loads(text)
    except ValueError as exc:
        raise BluezError(f"pactl printed no JSON card list ({exc})") from None
    if not isinstance(data, list):
        raise BluezError("pactl's card list is not a JSON list")
    cards = []
    for item in data:
        if not isinstance(item, dict) or not isinstance(item.get("name"), str):
            continue
        profiles = item.get("profiles")
        offered = {str(n): bool(p.get("available", True)) if isinstance(p, dict) else True
                   for n, p in profiles.items()} if isinstance(profiles, dict) else {}
        active = item.get("active_profile")
        cards.append(Card(item["name"], active if isinstance(active, str) else None, offered))
    return cards


_EVENT = re.compile(r"^Event '(new|change|remove)' on card #(\d+)$")


def parse_subscribe_line(line: str) -> tuple[str, int] | None:
    """A ``pactl subscribe`` line about a card: (``new``/``change``/``remove``, index); None otherwise."""
    m = _EVENT.match(line.strip())
    return (m.group(1), int(m.group(2))) if m else None


# ---------------------------------------------------------------------------------- the pactl carrier
class PactlCards:
    """Cards through ``pactl``: read them, switch one, and follow ``pactl subscribe``; every change of a
    Bluetooth card's active profile is passed to ``on_change(card)``."""

    def __init__(self, pactl: str, clock: Any, on_change: Callable[[Card], None] | None = None):
        self.pactl = pactl
        self.clock = clock
        self.on_change = on_change
        self.cards: dict[str, Card] = {}
        self.ready = False  # the cards have been read at least once
        self._failed_at: float | None = None
        self._proc: asyncio.subprocess.Process | None = None
        self._task: asyncio.Task[None] | None = None

    @staticmethod
    def available(pactl: str | None) -> bool:
        return bool(pactl and shutil.which(pactl))

    async def ensure_read(self) -> None:
        """Read the cards now unless they were read already (or the last try failed a moment ago: no
        pactl run per command while no audio server answers)."""
        if self.ready:
            return
        now = self.clock.now() if self.clock is not None else None
        if now is not None and self._failed_at is not None and now - self._failed_at < 2.0:
            return
        try:
            await self.read()
        except BluezError as exc:
            self._failed_at = now
            log.info("pactl unusable: %s", exc)

    async def read(self) -> dict[str, Card]:
        cards = {c.name: c for c in parse_cards_json(await run_pactl(self.pactl, "--format=json", "list", "cards"))}
        self.ready = True
        changed = [c for n, c in cards.items() if c.address and (n not in self.cards or self.cards[n].active != c.active)]
        self.cards = cards
        for card in changed:
            if self.on_change is not None:
                self.on_change(card)
        return cards

    async def card(self, name: str) -> Card | None:
        return (await self.read()).get(name)

    async def set_profile(self, card: str, profile: str) -> None:
        await run_pactl(self.pactl, "set-card-profile", card, profile)
        await self.read()

    def follow(self) -> None:
        self._task = asyncio.ensure_future(self._follow())

    async def _follow(self) -> None:
        delay = 0.2
        while True:
            try:
                self._proc = await asyncio.create_subprocess_exec(
                    self.pactl, "subscribe", stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.DEVNULL,
                    stdin=asyncio.subprocess.DEVNULL)
                await self.read()
                assert self._proc.stdout is not None
                async for raw in self._proc.stdout:
                    if parse_subscribe_line(raw.decode(errors="replace")) is not None:
                        await self.read()
                        delay = 0.2
            except asyncio.CancelledError:
                raise
            except (OSError, BluezError) as exc:
                log.info("following the audio server: %s", exc)
            await self._end_proc()
            await self.clock.sleep(delay)  # the audio server restarted, or is not there yet
            delay = min(5.0, delay * 2)

    async def _end_proc(self) -> None:
        proc, self._proc = self._proc, None
        if proc is not None and proc.returncode is None:
            signal_child(proc.pid, signal.SIGTERM)
            try:
                await asyncio.wait_for(proc.wait(), 0.3)
            except asyncio.TimeoutError:
                signal_child(proc.pid, signal.SIGKILL)
                await settle_child(proc)

    async def stop(self) -> None:
        """Quick, whatever the follower was doing (spawning pactl, waiting for it): a watch must end
        within a second of SIGTERM. The subscriber gets SIGTERM and a moment to exit (SIGKILL after), so
        its pipes are closed while the event loop still runs: a child left behind is reaped after the loop
        closed, and its transport then prints "Event loop is closed" to stderr as the program exits."""
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            await asyncio.wait([task], timeout=0.2)
        await self._end_proc()
