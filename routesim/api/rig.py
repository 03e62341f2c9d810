"""A live rig: accessory events from BlueZ (and, optionally, Apple proximity adverts) feed a
:class:`~routesim.Phone` on the wall clock, and the profile switches its route policy asks for go back to
the devices.

Looking is free, touching needs consent: on the host's bus the switches are only reported ("would
switch") unless ``apply=True``; on a private bus routesim made (the fake bluetoothd) they always act.
The bus is always named by the caller; nothing defaults to the system bus.
"""
from __future__ import annotations

import logging
from typing import Any, Callable

from routesim.bt.bluez import BluezBackend
from routesim.bt.bluez.backend import DEFAULT_SYSTEM_BUS
from routesim.bt.bluez.views import DeviceView
from routesim.clock import WallClock
from routesim.events import AccessoryEvent
from routesim.routes.live.rig import BluezCommandSink

from routesim.api.phone import Phone

log = logging.getLogger("routesim.rig")


class Rig:
    """``async with Rig(bus) as rig:`` then drive ``rig.phone`` and await what it sees.

    ``bus``: a D-Bus address (``FakeBluetooth.address``, ``unix:path=...``) or ``"system"`` for the host's
    system bus. ``apply``: carry out profile switches on the host's bus (a private bus always acts).
    ``adverts``: also read battery and in-ear state from proximity adverts (passive scanning through
    bleak). ``phone``: the phone to feed (default: a new wall-clock phone; keyword arguments go to it).
    """

    def __init__(self, bus: str, *, apply: bool = False, adverts: bool = False, phone: Phone | None = None,
                 report: Callable[[str], None] | None = None, **phone_options: Any):
        if not bus:
            raise ValueError("Rig needs the bus to use: an address, or 'system' for the host's system bus")
        self.bus = DEFAULT_SYSTEM_BUS if bus == "system" else bus
        self.apply = apply
        self.adverts = adverts
        if phone is None:
            phone_options.setdefault("strict", False)
            phone = Phone(clock=WallClock(), **phone_options)
        elif phone_options:
            raise TypeError("give either phone= or options for a new phone, not both")
        if phone.virtual_time:
            raise ValueError("a rig's phone runs on the wall clock: Phone(clock=WallClock(), strict=False)")
        self.phone = phone
        # what the rig did (or would do) to the devices, in order: "switch AA:BB:… to hfp (msbc): PipeWire
        # card … profile headset-head-unit", or "would switch …" on a live bus without apply
        self.commands: list[str] = []
        self._report = report
        self.backend = BluezBackend(self.bus, on_event=self._event, clock=phone.clock)
        self._scanner: Any = None
        self._sink: BluezCommandSink | None = None

    @property
    def live(self) -> bool:
        """True on a bus routesim did not make (a real bluetoothd): commands need ``apply``."""
        return self.backend.live

    def devices(self) -> list[DeviceView]:
        """Every device BlueZ knows, as ``routesim devices`` lists them."""
        return self.backend.devices()

    async def start(self) -> "Rig":
        """Connect to BlueZ (raises ``BluezError`` with a one-line reason: no bus, no bluetoothd, ...)."""
        self._sink = BluezCommandSink(self.backend, apply=self.apply, report=self._command)
        self.phone.manager.add_sink(self._sink)
        await self.backend.start(require_bluetoothd=True)
        if self.adverts:
            from routesim.bt.adverts import AdvertSource

            self._scanner = AdvertSource(self.bus, clock=self.phone.clock, accessories=self.backend.announced,
                                         on_event=self._event, preflight=False)
            try:
                await self._scanner.start()
            except Exception:
                await self.backend.stop()
                raise
        return self

    async def settle(self, timeout: float = 5.0) -> None:
        """Wait (wall clock, at most ``timeout``) until the commands sent to the devices have finished;
        :attr:`commands` then lists them all."""
        if self._sink is not None:
            await self._sink.drain(timeout)

    async def stop(self) -> None:
        """Let the commands under way finish (a few seconds at most), then disconnect."""
        await self.settle()
        if self._scanner is not None:
            await self._scanner.stop()
            self._scanner = None
        await self.backend.stop()

    async def __aenter__(self) -> "Rig":
        return await self.start()

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    def _event(self, event: AccessoryEvent) -> None:
        try:
            self.phone.dispatch(event)
        except Exception as exc:  # a live event must never stop the rig; the timeline keeps the error
            log.info("could not apply %s: %s", type(event).__name__, exc)

    def _command(self, line: str) -> None:
        line = line.removeprefix("command").strip()  # the sink words it for `routesim watch`
        self.commands.append(line)
        log.info("command %s", line)
        if self._report is not None:
            self._report(line)
