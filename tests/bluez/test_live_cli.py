"""routes.live against the fake: `watch` prints events and feeds the on_event hook; errors are one line."""
from __future__ import annotations

import asyncio

from bt.events import Connected, Disconnected
from routes.live import BluezCommandSink, watch
from bt.events import RenameDevice

AIRPODS = "AA:BB:CC:DD:EE:01"


async def test_watch_prints_events_and_calls_the_hook(fake, private_bus, airpods):
    fake.add_device(airpods, connected=True)
    lines: list[str] = []
    hooked: list = []
    ready = asyncio.get_running_loop().create_future()
    task = asyncio.ensure_future(watch(private_bus.address, on_event=hooked.append, out=lines.append, ready=ready))
    backend = await asyncio.wait_for(ready, 3)
    fake.disconnect(AIRPODS)
    for _ in range(100):
        if any(isinstance(e, Disconnected) for e in hooked):
            break
        await asyncio.sleep(0.01)
    sink = BluezCommandSink(backend, report=lines.append)
    assert not sink.owns(AIRPODS)
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)
    assert lines[0].startswith("watching ") and "private bus" in lines[0]
    assert any(l.startswith("connected     AA:BB:CC:DD:EE:01") for l in lines)
    assert isinstance(hooked[0], Connected) and isinstance(hooked[-1], Disconnected)


async def test_command_sink_carries_out_commands(fake, private_bus, airpods, make_backend):
    fake.add_device(airpods, connected=True)
    backend, log = await make_backend()
    reports: list[str] = []
    sink = BluezCommandSink(backend, report=reports.append)
    assert sink.owns(AIRPODS)
    result = await sink.execute(RenameDevice(AIRPODS, "Desk"))
    assert result.done and reports == [f'command       rename {AIRPODS} from "Kim\u2019s AirPods Pro" to "Desk" (BlueZ Alias, local to this host)']


def test_one_line_error_without_a_bus(tmp_path, capsys):
    from routes.live import add_live_commands
    import argparse

    parser = argparse.ArgumentParser()
    add_live_commands(parser.add_subparsers())
    args = parser.parse_args(["devices", "--bus", f"unix:path={tmp_path}/none"])
    assert args.func(args) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert err == [f"routesim: no D-Bus system bus at unix:path={tmp_path}/none (No such file or directory)"]
