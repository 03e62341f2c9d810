"""Fixtures for the BlueZ tests: one private dbus-daemon per test session (never the system bus), a fake
org.bluez per test on the test's own event loop, and backends that talk real D-Bus to it."""
from __future__ import annotations

import asyncio
from typing import Any, Callable

import pytest

from routesim.bt.bluez import BluezBackend
from routesim.events import AccessoryEvent
from routesim.bt.fake_bluez import FakeBluez, PrivateBus, accessory_from_model, is_private_bus
from routesim.profiles.catalog import default_catalog
from routesim.clock import WallClock

AIRPODS = "AA:BB:CC:DD:EE:01"
SPEAKER = "AA:BB:CC:DD:EE:02"
OTHER = "AA:BB:CC:DD:EE:03"


@pytest.fixture(scope="session")
def private_bus():
    bus = PrivateBus()
    address = bus.start()
    assert is_private_bus(address), "refusing to test on a bus we did not create"
    yield bus
    bus.close()


@pytest.fixture(scope="session")
def catalog():
    return default_catalog()


@pytest.fixture
def airpods(catalog):
    return accessory_from_model(
        catalog.get("airpods-pro-2"), AIRPODS, name="Kim\u2019s AirPods Pro", battery=80, firmware=0xD408
    )


@pytest.fixture
def speaker(catalog):
    return accessory_from_model(catalog.get("generic-speaker"), SPEAKER, name="Kitchen speaker")


@pytest.fixture
async def fake(private_bus):
    fake = FakeBluez(private_bus.address, clock=WallClock())
    await fake.start()
    yield fake
    await fake.stop()


class EventLog:
    """Collects a backend's events; ``await wait(pred)`` until one matches."""

    def __init__(self) -> None:
        self.events: list[AccessoryEvent] = []
        self._changed = asyncio.Event()

    def __call__(self, event: AccessoryEvent) -> None:
        self.events.append(event)
        self._changed.set()

    def of(self, kind: type) -> list[Any]:
        return [e for e in self.events if isinstance(e, kind)]

    async def wait(self, pred: Callable[[AccessoryEvent], bool], timeout: float = 3.0) -> AccessoryEvent:
        async def _wait() -> AccessoryEvent:
            seen = 0
            while True:
                for e in self.events[seen:]:
                    if pred(e):
                        return e
                seen = len(self.events)
                self._changed.clear()
                await self._changed.wait()

        return await asyncio.wait_for(_wait(), timeout)

    async def settle(self, delay: float = 0.12) -> None:
        """Let in-flight signals and the backend's short grace period pass."""
        await asyncio.sleep(delay)

    def clear(self) -> None:
        self.events.clear()


@pytest.fixture
async def make_backend(private_bus, catalog):
    made: list[BluezBackend] = []

    async def make(address: str | None = None, **kw: Any) -> tuple[BluezBackend, EventLog]:
        log = EventLog()
        kw.setdefault("catalog", catalog)
        kw.setdefault("pactl", None)
        be = BluezBackend(address or private_bus.address, on_event=log, clock=kw.pop("clock", WallClock()), **kw)
        assert not be.live
        await be.start(require_bluetoothd=False)
        made.append(be)
        return be, log

    yield make
    for be in made:
        await be.stop()
