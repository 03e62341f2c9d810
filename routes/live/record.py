"""A recording session on a rig: every timeline entry of the rig's phone (BlueZ signals, adverts, profile
changes, the app's actions and calls), the route at each, and the rig's own facts about each device's link
(read from BlueZ and the audio server through one :class:`~routesim.bt.bluez.link_facts.LinkFactSource`,
never from the model).

Entries are kept as they arrive, so whatever ends the session (``--seconds``, Ctrl-C, an error) the
moments up to then are all there for the writer.
"""
from __future__ import annotations

import asyncio
import logging
from typing import Any, Callable

from routesim.events import AccessoryInfo, Connected

log = logging.getLogger("routesim.record")


class RecordingSession:
    """Subscribes to ``rig.phone`` and reads ``facts`` for every accessory the phone knows, at each entry
    and every ``tick`` seconds, so each group of entries ends with the rig's latest word.

    ``moment``: builds the stored record from (entry, route, facts): the writer's ``Moment``, given by
    the caller so that this module does not depend on the scenario writer.
    """

    def __init__(self, rig: Any, facts: Any, moment: Callable[..., Any], *, tick: float = 0.1,
                 out: Callable[[str], None] | None = None):
        self.rig = rig
        self.phone = rig.phone
        self.source = facts
        self.moment = moment
        self.tick = tick
        self.out = out
        self.moments: list[Any] = []
        self.accessories: dict[str, AccessoryInfo] = {}  # in order of first sight
        self._group_facts: dict[str, dict[str, Any]] = {}
        self._unsubscribe: Callable[[], None] | None = None
        self._ticker: asyncio.Task[Any] | None = None
        self.clock = rig.phone.clock  # the rig's wall clock: the one source of time
        self._handles: list[Any] = []

    # ------------------------------------------------------------------ lifecycle
    def subscribe(self) -> None:
        self._unsubscribe = self.phone.subscribe(self._on_entry)

    async def start(self, *, call_at: float | None = None, call_length: float = 10.0) -> None:
        """Start reading facts now and then; plan the CallKit call the app makes (wall-clock seconds
        from now)."""
        await self._refresh()
        self._ticker = asyncio.ensure_future(self._tick())
        if call_at is not None:
            self._handles.append(self.clock.call_later(call_at, lambda: self._call("start_call")))
            self._handles.append(self.clock.call_later(call_at + call_length, lambda: self._call("end")))

    async def stop(self) -> None:
        for handle in self._handles:
            handle.cancel()
        if self._ticker is not None:
            self._ticker.cancel()
            await asyncio.gather(self._ticker, return_exceptions=True)
            self._ticker = None
        try:
            await asyncio.wait_for(self._refresh(), 5)
        except (asyncio.TimeoutError, Exception) as exc:  # the facts so far still stand
            log.info("last read of the rig's facts failed: %s", exc)
        if self._unsubscribe is not None:
            self._unsubscribe()
            self._unsubscribe = None

    @property
    def final_facts(self) -> dict[str, dict[str, Any]]:
        return dict(self._group_facts)

    # ------------------------------------------------------------------ plumbing
    def _call(self, action: str) -> None:
        callkit = self.phone.callkit
        try:
            getattr(callkit, action)("call-1")
        except Exception as exc:  # a refused CallKit action is on the timeline; the session goes on
            log.info("call %s failed: %s", action, exc)
        if self.out:
            self.out(f"call          call-1 {self.phone.call_states().get('call-1', '?')}")

    async def _tick(self) -> None:
        while True:
            await self.clock.sleep(self.tick)
            try:
                await self._refresh()
            except Exception as exc:  # pactl hiccups must not end the recording
                log.info("reading the rig's facts failed: %s", exc)

    async def _refresh(self) -> None:
        await self.source.refresh()
        self._read_facts()

    def _read_facts(self) -> None:
        self._group_facts = {key: self.source.facts(info.address).as_dict()
                             for key, info in self.accessories.items()}
        if self.moments:
            self.moments[-1].facts = dict(self._group_facts)  # the group's latest word

    def _on_entry(self, entry: Any) -> None:
        if entry.kind == "event" and isinstance(entry.data, Connected):
            info = entry.data.info
            self.accessories.setdefault(info.key, info)
        for key, acc in self.phone.model.accessories.items():
            self.accessories.setdefault(key, acc.info)
        self._read_facts_quietly()
        self.moments.append(self.moment(entry.kind, entry.time, entry.name, dict(entry.args), self.phone.route,
                                        entry.data, dict(self._group_facts)))
        if self.out and entry.kind != "notification":
            self.out(f"recorded      {entry.short()}")

    def _read_facts_quietly(self) -> None:
        try:
            self._group_facts = {key: self.source.facts(info.address).as_dict()
                                 for key, info in self.accessories.items()}
        except Exception as exc:  # never lose an entry over a fact
            log.info("reading the rig's facts failed: %s", exc)
