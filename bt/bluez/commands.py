"""Negotiation commands carried out on BlueZ and PipeWire.

Renames are BlueZ's ``Alias`` (local to this host, and undoable: the alias found before routesim's
first rename is remembered). Connects are ``Device1.Connect``/``ConnectProfile``. Profile switches
(A2DP vs HFP) go to PipeWire, through ``pactl`` or, on a private bus, the fake's PipeWire stand-in.

On a live system bus nothing changes without ``apply=True``: the result says what would happen.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any, Protocol

from dbus_fast import Variant

from routesim.events import ConnectDevice, DisconnectDevice, NegotiationCommand, RenameDevice, SwitchProfile
from routesim.bt.bluez.announcer import Announcer
from routesim.bt.bluez.connection import BluezConnection
from routesim.bt.bluez.constants import (
    A2DP_SINK,
    BLUEZ,
    DEVICE,
    FAKE_PIPEWIRE,
    FAKE_PIPEWIRE_IFACE,
    FAKE_PIPEWIRE_PATH,
    HFP_HF,
    PROPERTIES,
    card_name,
    card_profile_codec,
    card_profile_to_profile,
)
from routesim.bt.bluez.device_identity import display_name
from routesim.bt.bluez.errors import CALL_ERRORS, BluezError, one_line
from routesim.bt.bluez.object_tree import ObjectTree
from routesim.bt.bluez.audio_server import Card, PactlCards, plan_switch, stand_in_card
from routesim.bt.bluez.pipewire import CardTable

log = logging.getLogger("routesim.bt.bluez")

NO_DEVICE = "no such device on org.bluez"


@dataclass(frozen=True)
class CommandResult:
    """What :meth:`BluezBackend.execute` did. ``done`` is False for "would …" (no consent on a live
    bus) and for failures (``error`` set). ``undo`` is the command that reverses a done change."""

    command: Any
    done: bool
    description: str
    error: str | None = None
    undo: NegotiationCommand | None = None
    refused: bool = False  # a profile switch that did not happen and will not: the caller rolls back


    def __str__(self) -> str:
        return self.description if self.error is None else f"{self.description}: {self.error}"


def _would(what: str) -> str:
    return f"would {what} (pass apply=True / --apply to do it)"


class Settings(Protocol):
    """Read from the backend at each use, so changing them on a running backend takes effect."""

    live: bool
    pactl: str | None


class Commands:
    def __init__(
        self,
        tree: ObjectTree,
        cards: CardTable,
        announcer: Announcer,
        connection: BluezConnection,
        settings: Settings,
    ):
        self.tree = tree
        self.cards = cards
        self.announcer = announcer
        self.connection = connection
        self.settings = settings
        self._old_alias: dict[str, str] = {}  # address -> alias before our first rename (for undo)

    async def execute(self, command: NegotiationCommand, act: bool) -> CommandResult:
        if isinstance(command, RenameDevice):
            return await self._rename(command, act)
        if isinstance(command, SwitchProfile):
            return await self._switch_profile(command, act)
        if isinstance(command, (ConnectDevice, DisconnectDevice)):
            up = isinstance(command, ConnectDevice)
            return await self._device_method(
                command, command.key, act, f"{'connect' if up else 'disconnect'} {command.key}",
                "Connect" if up else "Disconnect", "", [],
                undo=DisconnectDevice(command.key) if up else ConnectDevice(command.key),
            )
        return CommandResult(command, False, repr(command), error="unsupported command")

    async def profile_call(self, key: str, profile: str, up: bool, act: bool) -> CommandResult:
        """``Device1.ConnectProfile``/``DisconnectProfile``; ``profile`` is a2dp, hfp or a UUID."""
        uuid = {"a2dp": A2DP_SINK, "hfp": HFP_HF}.get(profile, profile)
        verb = "connect" if up else "disconnect"
        return await self._device_method(
            (verb, key, profile), key, act, f"{verb} {profile} on {key}",
            "ConnectProfile" if up else "DisconnectProfile", "s", [uuid],
            detail=f"{verb} {profile} ({uuid}) on {key}",
        )

    async def _device_method(
        self,
        command: Any,
        key: str,
        act: bool,
        label: str,
        member: str,
        signature: str,
        body: list[Any],
        *,
        detail: str | None = None,
        undo: NegotiationCommand | None = None,
    ) -> CommandResult:
        """Call a Device1 method. The description is ``label`` when there is no such device, else
        ``detail`` (default ``label``) followed by the device's name."""
        found = self.tree.find_device(key.upper())
        if found is None:
            return CommandResult(command, False, label, error=NO_DEVICE)
        path, d = found
        what = f"{detail or label} ({display_name(d)})"
        if not act:
            return CommandResult(command, False, _would(what))
        try:
            await self.connection.call(BLUEZ, path, DEVICE, member, signature, body)
        except CALL_ERRORS as exc:
            return CommandResult(command, False, what, error=one_line(exc))
        return CommandResult(command, True, what, undo=undo)

    # -- rename (BlueZ Alias) --------------------------------------------------------------------------
    async def _rename(self, command: RenameDevice, act: bool) -> CommandResult:
        address = command.key.upper()
        found = self.tree.find_device(address)
        if found is None:
            return CommandResult(command, False, f"rename {command.key}", error=NO_DEVICE)
        path, d = found
        current = display_name(d)
        remote = d.get("Name")
        if command.name:
            what = f'rename {address} from "{current}" to "{command.name}" (BlueZ Alias, local to this host)'
        else:
            what = f'restore {address}\'s own name "{remote or address.replace(":", "-")}" (clear the BlueZ Alias)'
        if not act:
            return CommandResult(command, False, _would(what))
        # What undoes it: the alias we found before our first rename; an alias equal to the remote
        # name is taken as "following Name" and undone with "".
        if address not in self._old_alias:
            follows_name = (remote is not None and current == remote) or (
                remote is None and current == address.replace(":", "-")
            )
            self._old_alias[address] = "" if follows_name else current
        undo = RenameDevice(command.key, self._old_alias[address])
        try:
            await self.connection.call(BLUEZ, path, PROPERTIES, "Set", "ssv", [DEVICE, "Alias", Variant("s", command.name)])
        except CALL_ERRORS as exc:
            return CommandResult(command, False, what, error=one_line(exc))
        if undo.name == command.name:
            self._old_alias.pop(address, None)  # back where we started
        return CommandResult(command, True, what, undo=undo)

    def previous_alias(self, key: str) -> str | None:
        return self._old_alias.get(key.upper())

    # -- profile switch (PipeWire card profile), with care (audio_server.plan_switch) ------------------------
    async def _switch_profile(self, command: SwitchProfile, act: bool) -> CommandResult:
        address = command.key.upper()
        card = card_name(address)
        what = (f"switch {address} to {command.profile}{' (' + command.codec + ')' if command.codec else ''}: "
                f"PipeWire card {card}")
        carrier, current = await self._card(address, card)
        if carrier is None:
            return CommandResult(
                command, False, what, refused=command.profile != "none",
                error=(
                    "nothing can carry this out: audio profiles (A2DP vs HFP) are PipeWire's job, not BlueZ's "
                    f"(BlueZ has no HFP transport), and no PipeWire card {card} was found "
                    "(pactl missing, PipeWire not running, or the device is not connected)"
                ),
            )
        plan = plan_switch(current, command.profile, command.codec)
        if plan.action == "already":
            return CommandResult(command, False, f"{what}: nothing to request, {plan.reason}")
        if plan.action == "refuse":
            return CommandResult(command, False, what, error=f"not requested: {plan.reason}",
                                 refused=command.profile != "none")
        what = f"{what} profile {plan.profile}"
        if not act:
            return CommandResult(command, False, _would(f"{what} via {carrier}"))
        prev = current.active if current else None
        undo = SwitchProfile(command.key, card_profile_to_profile(prev) or "a2dp") if prev else None  # type: ignore[arg-type]
        try:
            if carrier == "fake-pipewire":
                await self.connection.call(
                    FAKE_PIPEWIRE, FAKE_PIPEWIRE_PATH, FAKE_PIPEWIRE_IFACE, "SetCardProfile", "ss", [card, plan.profile]
                )
            else:
                pactl = self._pactl_cards()
                await pactl.set_profile(card, plan.profile or "")
                # note what the audio server shows now (set_profile read the cards back), or, while it
                # does not show the switch yet, the profile requested: never the codec the model wanted,
                # which the card may not have (a bare profile name means "the best codec it has")
                shown = pactl.cards.get(card)
                active = shown.active if shown is not None and shown.active and \
                    card_profile_to_profile(shown.active) == command.profile else plan.profile or ""
                self.cards.note(card, active, card_profile_codec(active))
                self.announcer.reconcile_address(address)
        except CALL_ERRORS as exc:
            return CommandResult(command, False, what, error=f"refused by the audio server: {one_line(exc)}",
                                 refused=True)
        return CommandResult(command, True, what, undo=undo)

    async def _card(self, address: str, card: str) -> tuple[str | None, Card | None]:
        """Who can switch ``card`` and what it offers: "pactl" if pactl lists the card, else
        "fake-pipewire" on a private bus where the fake's stand-in runs, else (None, None)."""
        follower = getattr(self.settings, "_follower", None)
        if follower is not None:
            # the follower keeps the cards current: no pactl run per command (a storm of switches)
            await follower.ensure_read()
            found = follower.cards.get(card)
            if found is not None:
                return "pactl", found
        elif PactlCards.available(self.settings.pactl):
            try:
                found = await self._pactl_cards().card(card)
                if found is not None:
                    return "pactl", found
            except BluezError as exc:
                log.info("pactl unusable: %s", exc)
        if not self.settings.live and self.connection.pw_owner is not None:
            found_dev = self.tree.find_device(address)
            active = self.cards.names.get(address)
            if found_dev is None or active is None:
                return "fake-pipewire", None
            return "fake-pipewire", stand_in_card(address, set(found_dev[1].get("UUIDs", [])), active)
        return None, None

    def _pactl_cards(self) -> PactlCards:
        follower = getattr(self.settings, "_follower", None)
        if follower is not None:
            return follower
        pactl = self.settings.pactl
        assert pactl
        return PactlCards(pactl, None)
