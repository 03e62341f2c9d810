"""The real Linux audio stack against the fake bluetoothd, for tests: fixtures and helpers.

Other test folders reuse them by importing the fixtures into their own conftest::

    from tests.pipewire.rig import audio_bus, audio_fake, audio_stack, audio_rig  # noqa: F401

``audio_rig`` gives an :class:`AudioRig`: the fake (``rig.fake``), the running stack (``rig.stack``:
``rig.stack.env`` is the environment for ``pactl``/``pw-play``/``routesim`` in the stack's world,
``rig.stack.system_bus`` the fake's bus address) and helpers that poll with timeouts (never fixed
sleeps). Everything is stopped by PID at teardown, and the teardown checks that nothing is left.

Set ``ROUTESIM_SKIP_PIPEWIRE=1`` to skip these tests on a machine without the Debian packages (the
skip is reported with its reason); otherwise a missing package fails the tests with the apt-get line.
"""
from __future__ import annotations

import asyncio
import math
import os
import struct
import time
import wave
from pathlib import Path
from typing import Any, Callable

import pytest

from routesim.bt.bluez.constants import A2DP_SOURCE, HFP_AG, card_name
from routesim.bt.fake_bluez import FakeBluez, PrivateBus, VirtualAccessory, accessory_from_model
from routesim.bt.fake_bluez.audio_stack import AudioStack, Card, missing_programs
from routesim.bt.fake_bluez.device import FakeDevice
from routesim.clock import WallClock
from routesim.profiles.catalog import default_catalog

TIMEOUT = 15.0  # generous: two busy cores shared with other jobs
# What these tests found cannot run on this machine, for the run's summary (conftest prints it).
NOT_RUN_HERE: list[str] = []


async def poll(what: str, check: Callable[[], Any], timeout: float = TIMEOUT, interval: float = 0.05) -> Any:
    """Await ``check()`` (sync or async) until it returns something true; fail naming ``what``."""
    deadline = time.monotonic() + timeout
    last: Any = None
    while True:
        last = check()
        if asyncio.iscoroutine(last):
            last = await last
        if last:
            return last
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what} (last: {last!r})")
        await asyncio.sleep(interval)


def processes_in(world: str) -> list[str]:
    """PIDs of every process whose environment names ``world`` (a private runtime directory): what a
    stopped audio stack or fake-bluez must not leave behind, children included."""
    return [p.name for p in Path("/proc").iterdir() if p.name.isdigit() and _environ_has(p, world)]


def _environ_has(proc: Path, value: str) -> bool:
    try:
        return value.encode() in (proc / "environ").read_bytes()
    except OSError:  # the process ended meanwhile, or is not ours to read
        return False


def write_tone(path: Path, seconds: float, rate: int = 48000, freq: float = 440.0) -> Path:
    """A stereo 16-bit sine of exactly ``seconds`` (rounded to whole samples) as a WAV file."""
    n = round(seconds * rate)
    with wave.open(str(path), "wb") as w:
        w.setnchannels(2)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(b"".join(
            struct.pack("<hh", v, v) for v in (int(8000 * math.sin(2 * math.pi * freq * i / rate)) for i in range(n))
        ))
    return path


class AudioRig:
    def __init__(self, fake: FakeBluez, stack: AudioStack, tmp: Path):
        self.fake = fake
        self.stack = stack
        self.tmp = tmp
        self.catalog = default_catalog()

    def accessory(self, model_id: str, address: str, **kw: Any) -> VirtualAccessory:
        return accessory_from_model(self.catalog.get(model_id), address, **kw)

    async def connect(self, accessory: VirtualAccessory) -> FakeDevice:
        """Add (if new) and connect the accessory; wait until the audio server has its profiles up (the
        A2DP stream configured, the HFP link up with its codec chosen)."""
        if accessory.address not in self.fake.devices:
            self.fake.add_device(accessory)
        self.fake.connect(accessory.address)
        dev = self.fake.device(accessory.address)
        await self.fake.wait_audio(
            lambda: (dev.a2dp_link is not None or not accessory.has_a2dp)
            and (not accessory.has_hfp or (dev.hfp_up and dev.hfp_link.headset.codec_selected.is_set())),
            TIMEOUT,
        )
        return dev

    async def card(self, address: str, check: Callable[[Card], bool] = lambda c: True, what: str = "") -> Card:
        """The device's PipeWire card once ``check(card)`` holds."""
        name = card_name(address)

        async def found() -> Card | None:
            card = (await self.stack.acards()).get(name)
            return card if card is not None and check(card) else None

        return await poll(what or f"card {name}", found)

    async def no_card(self, address: str) -> None:
        name = card_name(address)

        async def gone() -> bool:
            return name not in await self.stack.apactl("list", "cards", "short")

        await poll(f"card {name} to go", gone)

    async def set_profile(self, address: str, profile: str) -> Card:
        await self.stack.apactl("set-card-profile", card_name(address), profile)
        return await self.card(address, lambda c: (c.active_profile or "").startswith(profile),
                               f"active profile {profile}")

    def sink(self, address: str) -> str:
        return "bluez_output." + address.upper().replace(":", "_") + ".1"

    async def play(self, address: str, seconds: float, timeout: float = TIMEOUT) -> None:
        """``paplay`` a tone of ``seconds`` into the device's sink; returns when the player has drained."""
        wav = write_tone(self.tmp / f"tone-{seconds}.wav", seconds)
        await self.stack.arun("paplay", f"--device={self.sink(address)}", str(wav), timeout=timeout)


# -- fixtures -----------------------------------------------------------------------------------------------
@pytest.fixture(scope="session")
def audio_bus():
    """A private system bus for the fake bluetoothd and the audio stack (never the host's)."""
    if os.environ.get("ROUTESIM_SKIP_PIPEWIRE") == "1":
        pytest.skip("ROUTESIM_SKIP_PIPEWIRE=1: the real-audio-stack tests were asked not to run")
    missing = missing_programs()
    if missing:
        pytest.fail("the real audio stack is not installed: apt-get install " + " ".join(missing)
                    + " (./scripts/test does it; ROUTESIM_SKIP_PIPEWIRE=1 skips these tests)", pytrace=False)
    bus = PrivateBus()
    bus.start()
    yield bus
    bus.close()


@pytest.fixture
async def audio_fake(audio_bus):
    fake = FakeBluez(audio_bus.address, clock=WallClock())
    await fake.start()
    yield fake
    await fake.stop()


@pytest.fixture
async def audio_stack(audio_bus, audio_fake):
    """PipeWire, WirePlumber and pipewire-pulse, registered with the fake (A2DP endpoints and the HFP
    audio-gateway profile); stopped afterwards, with a check that none of them is left running."""
    stack = AudioStack(audio_bus.address)
    await asyncio.to_thread(stack.start)  # the fake answers WirePlumber's calls meanwhile
    try:
        await audio_fake.wait_audio(
            lambda: any(e.uuid == A2DP_SOURCE for e in audio_fake.endpoints.values())
            and any(p.uuid == HFP_AG for p in audio_fake.profiles.values()),
            TIMEOUT,
        )
        yield stack
    finally:
        pids = [p.pid for p in stack.processes.values()]
        await asyncio.to_thread(stack.stop)
        assert not stack.running(), f"still running after stop: {stack.running()}"
        assert not [pid for pid in pids if Path(f"/proc/{pid}").exists() and _alive(pid)], "audio processes left behind"


def _alive(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().split(") ", 1)[1][0] != "Z"
    except (OSError, IndexError):
        return False


@pytest.fixture
async def audio_rig(audio_fake, audio_stack, tmp_path):
    return AudioRig(audio_fake, audio_stack, tmp_path)
