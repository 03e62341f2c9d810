"""``routesim fake-bluez --pipewire``: the first of the two commands docs/live-rigs.md gives for trying
``watch`` against the real audio stack. It prints the lines another shell needs, WirePlumber makes the
virtual AirPods' card, and Ctrl-C leaves nothing running."""
from __future__ import annotations

import asyncio
import os
import signal
import sys

from routesim.bt.fake_bluez.audio_stack import missing_programs, parse_pactl_cards

from tests.pipewire.rig import poll, processes_in


async def test_fake_bluez_with_pipewire_makes_a_card_and_stops_cleanly(audio_bus):
    assert not missing_programs()
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "routesim", "fake-bluez", "--pipewire", "--connected",
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )
    env: dict[str, str] = {}
    try:
        while "PULSE_SERVER" not in env:
            line = (await asyncio.wait_for(proc.stdout.readline(), 20)).decode()
            assert line, (await proc.stderr.read()).decode()
            if line.startswith("export "):
                env.update(kv.split("=", 1) for kv in line.split()[1:])
        assert env["DBUS_SYSTEM_BUS_ADDRESS"].startswith("unix:path=")
        client_env = {**os.environ, **env}

        async def cards():
            pactl = await asyncio.create_subprocess_exec(
                "pactl", "list", "cards", env=client_env, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.DEVNULL)
            out, _ = await pactl.communicate()
            card = parse_pactl_cards(out.decode()).get("bluez_card.AA_BB_CC_DD_EE_01")
            return card if card is not None and (card.active_profile or "").startswith("a2dp-sink") else None

        await poll("the virtual AirPods' card, in A2DP", cards)
    finally:
        if proc.returncode is None:
            proc.send_signal(signal.SIGINT)
        rc = await asyncio.wait_for(proc.wait(), 20)
    assert rc == 0
    runtime = env["PIPEWIRE_RUNTIME_DIR"]
    left = processes_in(runtime)
    assert left == [], f"processes left behind by fake-bluez --pipewire: {left}"
    assert not os.path.exists(runtime)
