"""BluezBackend against the fake org.bluez over a real private D-Bus: discovery, events, commands."""
from __future__ import annotations

import json

from routesim.events import (
    BatteryChanged,
    Connected,
    ConnectDevice,
    Disconnected,
    DisconnectDevice,
    ProfileChanged,
    Renamed,
    RenameDevice,
    SwitchProfile,
)
from routesim.bt.fake_bluez import FakeBluez, VirtualAccessory, proximity_pairing
from routesim.bt.bluez.constants import A2DP_SINK, HFP_HF
from routesim.clock import WallClock

AIRPODS = "AA:BB:CC:DD:EE:01"
SPEAKER = "AA:BB:CC:DD:EE:02"


async def test_discovery_reads_the_tree_with_get_managed_objects(fake, make_backend, airpods, speaker):
    fake.add_device(airpods, connected=True)
    fake.add_device(speaker)  # paired, not connected
    fake.add_advert("5E:11:22:33:44:55", {0x004C: proximity_pairing(0x2014, left=100, right=90)})
    backend, log = await make_backend()

    assert [a.address for a in backend.adapters()] == [fake.adapter_address]
    views = {v.address: v for v in backend.devices()}
    assert set(views) == {AIRPODS, SPEAKER, "5E:11:22:33:44:55"}
    pods = views[AIRPODS]
    assert (pods.model_id, pods.name, pods.firmware, pods.connected) == ("airpods-pro-2", "Kim\u2019s AirPods Pro", "D408", True)
    assert pods.profiles == ("a2dp", "hfp") and pods.battery == 80 and pods.transport == "aac idle"
    assert views[SPEAKER].model_id == "generic-speaker" and not views[SPEAKER].connected
    # only the connected audio device is announced, with what is known about it
    assert [type(e) for e in log.events] == [Connected, BatteryChanged, ProfileChanged]
    info = log.events[0].info
    assert (info.key, info.model_id, info.name, info.address, info.firmware) == (
        AIRPODS, "airpods-pro-2", "Kim\u2019s AirPods Pro", AIRPODS, "D408")
    assert log.events[2] == ProfileChanged(AIRPODS, "a2dp", "aac")


async def test_connect_then_disconnect_gives_one_event_each(fake, make_backend, airpods):
    fake.add_device(airpods)
    backend, log = await make_backend()
    assert log.events == []
    fake.connect(AIRPODS)
    await log.wait(lambda e: isinstance(e, ProfileChanged))
    fake.disconnect(AIRPODS)
    await log.wait(lambda e: isinstance(e, Disconnected))
    await log.settle()
    assert [type(e).__name__ for e in log.events] == ["Connected", "BatteryChanged", "ProfileChanged", "Disconnected"]
    assert backend.announced() == {}


async def test_unknown_device_gets_a_generic_model_from_its_uuids(fake, make_backend):
    fake.add_device(VirtualAccessory("AA:BB:CC:00:00:07", "Car kit", uuids=(HFP_HF,)), connected=True)
    fake.add_device(VirtualAccessory("AA:BB:CC:00:00:08", "Boombox", modalias="bluetooth:v0075p0100d0001", uuids=(A2DP_SINK,)), connected=True)
    backend, log = await make_backend()
    models = {e.info.key: e.info.model_id for e in log.of(Connected)}
    assert models == {"AA:BB:CC:00:00:07": "generic-hfp-only", "AA:BB:CC:00:00:08": "generic-speaker"}


async def test_non_audio_device_is_not_announced(fake, make_backend):
    fake.add_device(VirtualAccessory("AA:BB:CC:00:00:09", "Keyboard", uuids=("00001124-0000-1000-8000-00805f9b34fb",)), connected=True)
    backend, log = await make_backend()
    await log.settle(0.05)
    assert log.events == []


async def test_rename_sets_alias_and_empty_name_restores_the_remote_name(fake, make_backend, airpods):
    fake.add_device(airpods, connected=True)
    backend, log = await make_backend()
    result = await backend.execute(RenameDevice(AIRPODS, "Work buds"))
    assert result.done and result.undo == RenameDevice(AIRPODS, "")
    await log.wait(lambda e: e == Renamed(AIRPODS, "Work buds"))
    assert fake.device(AIRPODS).alias == "Work buds"

    result = await backend.execute(RenameDevice(AIRPODS, ""))
    assert result.done and "restore" in result.description
    await log.wait(lambda e: e == Renamed(AIRPODS, "Kim\u2019s AirPods Pro"))
    assert fake.device(AIRPODS).alias is None  # the stored alias is cleared, Alias follows Name again


async def test_rename_remembers_an_existing_user_alias_for_undo(fake, make_backend, airpods):
    fake.add_device(airpods, connected=True, alias="Desk pods")
    backend, log = await make_backend()
    first = await backend.execute(RenameDevice(AIRPODS, "Test 1"))
    second = await backend.execute(RenameDevice(AIRPODS, "Test 2"))
    assert first.undo == second.undo == RenameDevice(AIRPODS, "Desk pods")
    assert backend.previous_alias(AIRPODS) == "Desk pods"
    await backend.execute(second.undo)
    await log.wait(lambda e: e == Renamed(AIRPODS, "Desk pods"))


async def test_remote_rename_reaches_alias_only_without_a_local_alias(fake, make_backend, airpods, speaker):
    fake.add_device(airpods, connected=True)
    fake.add_device(speaker, connected=True, alias="Mine")
    backend, log = await make_backend()
    fake.rename_remote(AIRPODS, "Luca\u2019s AirPods Pro")
    fake.rename_remote(SPEAKER, "Renamed speaker")
    await log.wait(lambda e: e == Renamed(AIRPODS, "Luca\u2019s AirPods Pro"))
    await log.settle(0.05)
    assert [e for e in log.of(Renamed) if e.key == SPEAKER] == []


async def test_battery_levels_become_battery_changed(fake, make_backend, airpods):
    fake.add_device(airpods, connected=True)
    backend, log = await make_backend()
    fake.set_battery(AIRPODS, 60)
    fake.set_battery(AIRPODS, 50)
    await log.wait(lambda e: e == BatteryChanged(AIRPODS, left=50))
    assert [e.left for e in log.of(BatteryChanged)] == [80, 60, 50]


async def test_a2dp_transport_codec_becomes_profile_changed(fake, make_backend, airpods):
    fake.add_device(airpods, connected=True)
    backend, log = await make_backend()
    for codec in ("sbc", "ldac", "aptx", "aac"):
        fake.set_codec(AIRPODS, codec)
        await log.wait(lambda e, c=codec: e == ProfileChanged(AIRPODS, "a2dp", c))
    fake.set_transport_state(AIRPODS, "active")  # streaming starts: same profile, no event
    await log.settle()
    assert [e.codec for e in log.of(ProfileChanged)] == ["aac", "sbc", "ldac", "aptx", "aac"]


async def test_a2dp_profile_disconnect_reports_none_after_grace(fake, make_backend, airpods):
    fake.add_device(airpods, connected=True)
    backend, log = await make_backend()
    result = await backend.connect_profile(AIRPODS, "hfp")
    assert result.done
    result = await backend.disconnect_profile(AIRPODS, "a2dp")
    assert result.done, result
    await log.wait(lambda e: e == ProfileChanged(AIRPODS, "none", None))


async def test_switch_profile_goes_through_the_card_and_reports_hfp(fake, make_backend, airpods):
    fake.add_device(airpods, connected=True)
    backend, log = await make_backend()
    result = await backend.execute(SwitchProfile(AIRPODS, "hfp"))
    assert result.done, result
    assert result.undo == SwitchProfile(AIRPODS, "a2dp")
    await log.wait(lambda e: e == ProfileChanged(AIRPODS, "hfp", "lc3-a127"))
    assert fake.device(AIRPODS).card_profile == "headset-head-unit"
    await backend.execute(result.undo)
    await log.wait(lambda e: e == ProfileChanged(AIRPODS, "a2dp", "aac"))


async def test_switch_profile_without_pipewire_says_nothing_can_do_it(private_bus, make_backend, airpods):
    fake = FakeBluez(private_bus.address, pipewire=False, clock=WallClock())
    await fake.start()
    try:
        fake.add_device(airpods, connected=True)
        backend, log = await make_backend()
        result = await backend.execute(SwitchProfile(AIRPODS, "hfp"))
        assert not result.done
        assert "nothing can carry this out" in result.error and "PipeWire" in result.error
    finally:
        await fake.stop()


async def test_connect_and_disconnect_commands_and_bluez_errors(fake, make_backend, airpods):
    fake.add_device(airpods)
    backend, log = await make_backend()
    result = await backend.execute(ConnectDevice(AIRPODS))
    assert result.done and result.undo == DisconnectDevice(AIRPODS)
    await log.wait(lambda e: isinstance(e, Connected))
    assert (await backend.execute(DisconnectDevice(AIRPODS))).done
    await log.wait(lambda e: isinstance(e, Disconnected))
    again = await backend.execute(DisconnectDevice(AIRPODS))
    assert not again.done and again.error.startswith("org.bluez.Error.NotConnected")
    fake.set_reachable(AIRPODS, False)  # buds in a closed case
    failed = await backend.execute(ConnectDevice(AIRPODS))
    assert failed.error == "org.bluez.Error.Failed: br-connection-page-timeout"
    missing = await backend.execute(ConnectDevice("00:00:00:00:00:00"))
    assert missing.error == "no such device on org.bluez"
    bad = await backend.connect_profile(AIRPODS, "0000110a-0000-1000-8000-00805f9b34fb")
    assert bad.error.startswith("org.bluez.Error.NotAvailable")


def _stub_pactl(tmp_path):
    """A stand-in ``pactl`` (an executable script) that knows one card and logs what it is asked. Its
    ``subscribe`` waits until it is stopped, as the real one does while the audio server runs."""
    calls = tmp_path / "pactl.log"
    script = tmp_path / "pactl"
    card = {"index": 57, "name": "bluez_card.AA_BB_CC_DD_EE_01", "driver": "module-bluez5-device.c",
            "active_profile": "a2dp-sink-aac",
            "profiles": {p: {"description": p, "sinks": 1, "sources": 0, "priority": 0, "available": True}
                         for p in ("off", "a2dp-sink", "a2dp-sink-aac", "headset-head-unit",
                                   "headset-head-unit-cvsd", "headset-head-unit-msbc")}}
    script.write_text(
        "#!/bin/sh\n"
        f'echo "$@" >> {calls}\n'
        f"if [ \"$1 $2 $3\" = '--format=json list cards' ]; then echo '{json.dumps([card])}'; fi\n"
        'if [ "$1" = subscribe ]; then exec sleep 3600; fi\n'
    )
    script.chmod(0o755)
    return script, calls


async def test_switch_profile_uses_pactl_when_pipewire_has_the_card(fake, make_backend, airpods, tmp_path):
    fake.add_device(airpods, connected=True)
    pactl, calls = _stub_pactl(tmp_path)
    backend, log = await make_backend(pactl=str(pactl))
    result = await backend.execute(SwitchProfile(AIRPODS, "hfp", "msbc"))
    assert result.done, result
    assert "set-card-profile bluez_card.AA_BB_CC_DD_EE_01 headset-head-unit-msbc" in calls.read_text()
    await log.wait(lambda e: e == ProfileChanged(AIRPODS, "hfp", "msbc"))


async def test_on_a_live_bus_changes_need_apply(fake, make_backend, airpods, tmp_path):
    fake.add_device(airpods, connected=True)
    pactl, calls = _stub_pactl(tmp_path)
    backend, log = await make_backend(pactl=str(pactl))
    backend.live = True  # as on a real rig; the bus is still the private one
    fake.calls.clear()
    for command in (DisconnectDevice(AIRPODS), RenameDevice(AIRPODS, "x"), SwitchProfile(AIRPODS, "hfp")):
        result = await backend.execute(command)
        assert not result.done and result.error is None and result.description.startswith("would ")
    assert not (await backend.disconnect_profile(AIRPODS, "hfp")).done
    touched = [c for c in fake.calls if c[2] in ("Disconnect", "Set", "DisconnectProfile", "SetCardProfile")]
    assert touched == []
    assert "set-card-profile" not in calls.read_text()
    assert (await backend.execute(RenameDevice(AIRPODS, "x"), apply=True)).done
    await log.wait(lambda e: e == Renamed(AIRPODS, "x"))


async def test_events_async_iterator_ends_after_stop(fake, make_backend, airpods):
    fake.add_device(airpods, connected=True)
    backend, log = await make_backend()
    await backend.stop()
    seen = [e async for e in backend.events()]
    assert seen == log.events
