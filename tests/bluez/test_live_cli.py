"""routes.live against the fake: `watch` prints events and feeds the on_event hook; errors are one line."""
from __future__ import annotations

import asyncio

from routesim.events import Connected, Disconnected
from routesim.routes.live.rig import BluezCommandSink, watch
from routesim.events import RenameDevice

AIRPODS = "AA:BB:CC:DD:EE:01"


async def until(condition, seconds: float = 2.0) -> None:
    """Poll a condition on the running loop (the fake and the watch share it)."""
    for _ in range(int(seconds / 0.01)):
        if condition():
            return
        await asyncio.sleep(0.01)


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
    from routesim.routes.cli.live import add_live_commands
    import argparse

    parser = argparse.ArgumentParser()
    add_live_commands(parser.add_subparsers())
    args = parser.parse_args(["devices", "--bus", f"unix:path={tmp_path}/none"])
    assert args.func(args) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert err == [f"routesim: no D-Bus system bus at unix:path={tmp_path}/none (No such file or directory)"]


async def test_devices_says_firmware_scoped_quirks_are_not_applied(fake, private_bus, airpods, capsys):
    """The fake AirPods report Modalias version D408 (conftest), which is no firmware version."""
    import argparse

    from routesim.routes.cli.live import _devices

    fake.add_device(airpods, connected=True)
    args = argparse.Namespace(bus=private_bus.address, all=False, firmware_map={})
    assert await _devices(args) == 0
    out = capsys.readouterr().out
    assert "firmware-scoped quirks not applied (0 for airpods-pro-2): the Modalias version D408 is not a " \
           "firmware version; state it with --firmware airpods-pro-2=VERSION" in out
    args.firmware_map = {"airpods-pro-2": "7A305"}
    assert await _devices(args) == 0
    assert "firmware 7A305 (from --firmware) for firmware-scoped quirks" in capsys.readouterr().out


def test_bad_firmware_argument_exits_2_with_one_line(capsys):
    from routesim.routes.cli.main import main

    assert main(["watch", "--firmware", "airpods-pro-2"]) == 2
    assert main(["devices", "--firmware", "nope=7A305"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err == ["routesim watch: --firmware 'airpods-pro-2': write MODEL=VERSION, e.g. airpods-pro-2=7A305",
                   "routesim devices: --firmware 'nope=7A305': no catalog model 'nope' (see `routesim models`)"]


async def test_watch_feeds_the_session_model_and_a_call_moves_the_airpods_to_hfp(fake, private_bus, airpods):
    """The live-rig story on the fake: AirPods connect (A2DP for playback), a CallKit call switches them
    to HFP through the fake's card profiles and back when it ends, then they disconnect."""
    from routesim.routes.live.rig import SessionFeed

    fake.add_device(airpods, connected=True)
    lines: list[str] = []
    feed = SessionFeed("playback", "default", (), "ios-26.0", out=lines.append, call_at=0.2, call_length=0.3)
    ready = asyncio.get_running_loop().create_future()
    task = asyncio.ensure_future(watch(private_bus.address, on_event=feed, out=lines.append, ready=ready))
    await asyncio.wait_for(ready, 3)
    await until(lambda: any("call-1 ended" in line for line in lines)
                and fake.device(AIRPODS).card_profile == "a2dp-sink")
    fake.disconnect(AIRPODS)
    await until(lambda: any("oldDeviceUnavailable" in line for line in lines))
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)
    text = "\n".join(lines)
    assert "could not apply" not in text, text
    # In order: the route change a call causes comes before didActivate (routes/callkit.py, [INF]).
    order = ["routeChange(reason=newDeviceAvailable", "out[bluetoothA2DP]", "in[bluetoothHFP]", "didActivate",
             "didDeactivate", "call-1 ended", "oldDeviceUnavailable"]
    positions = [text.find(marker) for marker in order]
    assert -1 not in positions, [m for m, p in zip(order, positions) if p == -1]
    assert positions == sorted(positions), text
    # The HFP switch reached the (fake) device, as the negotiation command it is.
    assert f"switch {AIRPODS} to hfp" in text


async def test_watch_with_adverts_moves_the_route_when_both_buds_come_out(fake, private_bus, airpods, monkeypatch):
    """Ear detection on a rig: the connected AirPods' proximity adverts say both buds are out, and the
    session model moves the route on with oldDeviceUnavailable (scenario-format decisions on earbuds)."""
    from routesim.bt.fake_bluez import APPLE, proximity_pairing
    from routesim.routes.live.rig import SessionFeed

    monkeypatch.setenv("DBUS_SYSTEM_BUS_ADDRESS", private_bus.address)  # bleak reads only this
    fake.add_device(airpods, connected=True)
    pods_le = "5E:11:22:33:44:55"  # the rotating random address AirPods advertise from
    fake.add_advert(pods_le, {APPLE: proximity_pairing(0x2014, left=100, right=90)})
    lines: list[str] = []
    feed = SessionFeed("playback", "default", (), "ios-26.0", out=lines.append)
    ready = asyncio.get_running_loop().create_future()
    task = asyncio.ensure_future(watch(private_bus.address, on_event=feed, out=lines.append, ready=ready,
                                       adverts=True))
    await asyncio.wait_for(ready, 3)
    await until(lambda: any(line.startswith("battery") and "right 90%" in line for line in lines))
    fake.update_advert(pods_le, {APPLE: proximity_pairing(0x2014, left=100, right=90, left_in_ear=False,
                                                          right_in_ear=False)})
    await until(lambda: any("oldDeviceUnavailable" in line for line in lines))
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)
    text = "\n".join(lines)
    assert "could not apply" not in text, text
    assert f"ears          {AIRPODS}  left out, right out" in text, text
    assert text.index("out[bluetoothA2DP]") < text.index("routeChange(reason=oldDeviceUnavailable"), text
    assert "route in[-] out[builtInSpeaker]" in text.split("routeChange(reason=oldDeviceUnavailable")[-1], text
