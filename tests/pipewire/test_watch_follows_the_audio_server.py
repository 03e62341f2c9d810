"""`routesim watch` against the real PipeWire and WirePlumber on the fake bluetoothd: a switch the audio
server makes (here `pactl set-card-profile`, as a user or WirePlumber would) shows in watch within a
second as a profile event, with the drift from what iOS would use, and back in step afterwards."""
from __future__ import annotations

import asyncio
import os
import signal
import sys
import time

AIRPODS = "AA:BB:CC:DD:EE:01"


async def test_a_pactl_switch_shows_in_watch_within_a_second(audio_rig, audio_bus):
    await audio_rig.connect(audio_rig.accessory("airpods-pro-2", AIRPODS, name="Kim\u2019s AirPods Pro", battery=80))
    await audio_rig.card(AIRPODS, lambda c: (c.active_profile or "").startswith("a2dp-sink"))
    env = {k: v for k, v in os.environ.items() if k != "PYTHONUNBUFFERED"}
    env.update(audio_rig.stack.env, DBUS_SYSTEM_BUS_ADDRESS=audio_bus.address)
    proc = await asyncio.create_subprocess_exec(sys.executable, "-m", "routesim", "watch", env=env,
                                                stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    lines: list[str] = []

    async def until(pred, timeout: float = 10.0) -> float:
        t0 = time.monotonic()

        async def read() -> None:
            while not any(pred(line) for line in lines):
                raw = await proc.stdout.readline()
                assert raw, "watch ended:\n" + "\n".join(lines)
                lines.append(raw.decode().rstrip("\n"))

        await asyncio.wait_for(read(), timeout)
        return time.monotonic() - t0

    try:
        await until(lambda line: line.startswith("profile") and "a2dp" in line)
        await asyncio.sleep(0.5)  # the follower has read the cards
        await audio_rig.stack.apactl("set-card-profile", f"bluez_card.{AIRPODS.replace(':', '_')}", "headset-head-unit")
        took = await until(lambda line: line.startswith("drift") and "the rig carries hfp" in line)
        await audio_rig.stack.apactl("set-card-profile", f"bluez_card.{AIRPODS.replace(':', '_')}", "a2dp-sink")
        await until(lambda line: line.startswith("drift") and "in step again" in line)
    finally:
        proc.send_signal(signal.SIGTERM)
        rest, err = await asyncio.wait_for(proc.communicate(), 5)
    lines += rest.decode().splitlines()
    assert proc.returncode == 0 and err.decode() == "", err.decode()
    assert took < 1.0, (took, lines)
    assert any(line.startswith(f"profile       {AIRPODS}  hfp") for line in lines), lines
    # The model's link is the card's profile (route.rig-link, notify.rig-link [INF]): a playback app cannot
    # use the HFP link, so its route goes to the speaker with routeConfigurationChange, and comes back.
    hfp_at = next(i for i, line in enumerate(lines) if line.startswith(f"profile       {AIRPODS}  hfp"))
    later = lines[hfp_at:]
    assert any("routeChange(reason=routeConfigurationChange" in line for line in later), lines
    speaker = later.index("session       route in[-] out[builtInSpeaker]  (48000 Hz)")
    assert any(line.startswith("session       route in[-] out[bluetoothA2DP]") for line in later[speaker:]), lines


async def test_the_policys_switch_goes_to_an_offered_profile_through_pactl(audio_rig, audio_bus):
    """An app recording with allowBluetoothHFP: the route policy asks for HFP, routesim requests a profile
    the card offers (through pactl, PipeWire being there), the card ends in it, and nothing drifts."""
    await audio_rig.connect(audio_rig.accessory("airpods-pro-2", AIRPODS, name="Kim\u2019s AirPods Pro", battery=80))
    await audio_rig.card(AIRPODS, lambda c: (c.active_profile or "").startswith("a2dp-sink"))
    env = {k: v for k, v in os.environ.items() if k != "PYTHONUNBUFFERED"}
    env.update(audio_rig.stack.env, DBUS_SYSTEM_BUS_ADDRESS=audio_bus.address)
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "routesim", "watch", "--category", "playAndRecord", "--options", "allowBluetoothHFP",
        env=env, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    lines: list[str] = []
    try:
        while not any(line.startswith("command") for line in lines):
            raw = await asyncio.wait_for(proc.stdout.readline(), 10)
            assert raw, "\n".join(lines)
            lines.append(raw.decode().rstrip("\n"))
        card = await audio_rig.card(AIRPODS, lambda c: (c.active_profile or "").startswith("headset-head-unit"))
        await asyncio.sleep(0.5)
    finally:
        proc.send_signal(signal.SIGTERM)
        rest, err = await asyncio.wait_for(proc.communicate(), 5)
    lines += rest.decode().splitlines()
    assert proc.returncode == 0 and err.decode() == "", err.decode()
    command = next(line for line in lines if line.startswith("command"))
    assert "to hfp" in command and "profile headset-head-unit" in command and ": " not in command.split("profile ")[-1], command
    assert card.active_profile.startswith("headset-head-unit")
    assert not [line for line in lines if line.startswith("drift") and "the rig carries" in line], lines
