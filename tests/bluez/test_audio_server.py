"""The audio-server seam (bt/bluez/audio_server.py): switching with care, reading pactl, following card
changes, and the drift between what the model wants and what the rig carries."""
from __future__ import annotations

import asyncio
import json

import pytest

from routesim.bt.bluez.audio_server import Card, parse_cards_json, parse_subscribe_line, plan_switch
from routesim.events import ProfileChanged, SwitchProfile

AIRPODS = "AA:BB:CC:DD:EE:01"
CARD = "bluez_card.AA_BB_CC_DD_EE_01"
ALL = {"off": True, "a2dp-sink": True, "a2dp-sink-aac": True, "a2dp-sink-sbc": True,
       "headset-head-unit": True, "headset-head-unit-cvsd": True, "headset-head-unit-msbc": False}


@pytest.mark.parametrize("active, offered, kind, codec, expected", [
    # never off: both buds out, or a call on another device, must not turn the card off
    ("a2dp-sink-aac", ALL, "none", None, ("refuse", None)),
    # the active profile is not requested again (no re-send on every connect)
    ("a2dp-sink-aac", ALL, "a2dp", "aac", ("already", "a2dp-sink-aac")),
    ("a2dp-sink", ALL, "a2dp", "aac", ("already", "a2dp-sink")),  # the bare name is the best codec
    ("a2dp-sink-sbc", ALL, "a2dp", None, ("already", "a2dp-sink-sbc")),
    # a different one that exists and is available
    ("a2dp-sink-aac", ALL, "hfp", "cvsd", ("switch", "headset-head-unit-cvsd")),
    ("a2dp-sink-sbc", ALL, "a2dp", "aac", ("switch", "a2dp-sink-aac")),
    # a codec variant that is unavailable or missing: the bare profile instead
    ("a2dp-sink-aac", ALL, "hfp", "msbc", ("switch", "headset-head-unit")),
    ("a2dp-sink-aac", ALL, "hfp", "lc3-a127", ("switch", "headset-head-unit")),
    # nothing of that kind offered: refused, never guessed
    ("a2dp-sink", {"off": True, "a2dp-sink": True}, "hfp", None, ("refuse", None)),
    ("a2dp-sink", {"off": True, "a2dp-sink": True, "headset-head-unit": False}, "hfp", None, ("refuse", None)),
    # PulseAudio's name for HFP counts as hfp
    ("a2dp_sink", {"a2dp_sink": True, "handsfree_head_unit": True}, "hfp", None, ("switch", "handsfree_head_unit")),
])
def test_plan_switch(active, offered, kind, codec, expected):
    plan = plan_switch(Card(CARD, active, offered), kind, codec)
    assert (plan.action, plan.profile) == expected, plan.reason


def test_plan_switch_without_a_card_refuses():
    assert plan_switch(None, "hfp").action == "refuse"


def test_pactl_card_list_is_read_with_availability():
    text = json.dumps([
        {"index": 57, "name": CARD, "driver": "module-bluez5-device.c", "active_profile": "a2dp-sink-aac",
         "profiles": {"off": {"available": True}, "a2dp-sink-aac": {"available": True},
                      "headset-head-unit": {"available": False}}},
        {"index": 1, "name": "alsa_card.pci-0000_00_1f.3", "active_profile": "output:analog-stereo", "profiles": {}},
        {"index": 2},  # malformed: skipped
    ])
    cards = parse_cards_json(text)
    assert [(c.name, c.address, c.active) for c in cards] == [
        (CARD, AIRPODS, "a2dp-sink-aac"), ("alsa_card.pci-0000_00_1f.3", None, "output:analog-stereo")]
    assert cards[0].profiles == {"off": True, "a2dp-sink-aac": True, "headset-head-unit": False}


@pytest.mark.parametrize("line, expected", [
    ("Event 'change' on card #57", ("change", 57)),
    ("Event 'new' on card #3\n", ("new", 3)),
    ("Event 'remove' on card #3", ("remove", 3)),
    ("Event 'change' on sink #12", None),
    ("Event 'change' on server", None),
    ("garbage", None),
])
def test_pactl_subscribe_lines(line, expected):
    assert parse_subscribe_line(line) == expected


# ----------------------------------------------------------------------------------- with the stand-in
async def _watch_with_feed(private_bus, lines, **feed_kw):
    from routesim.routes.live.rig import SessionFeed, watch

    feed = SessionFeed(feed_kw.pop("category", "playback"), "default", feed_kw.pop("options", ()), "ios-26.0",
                       out=lines.append)
    ready = asyncio.get_running_loop().create_future()
    task = asyncio.ensure_future(watch(private_bus.address, on_event=feed, out=lines.append, ready=ready, **feed_kw))
    await asyncio.wait_for(ready, 3)
    return task


async def _until(cond, seconds=3.0):
    for _ in range(int(seconds / 0.01)):
        if cond():
            return
        await asyncio.sleep(0.01)


async def test_a_connect_does_not_resend_the_active_profile(fake, private_bus, airpods):
    fake.add_device(airpods, connected=True)
    lines: list[str] = []
    task = await _watch_with_feed(private_bus, lines)
    await _until(lambda: any(line.startswith("command") for line in lines))
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)
    command = next(line for line in lines if line.startswith("command"))
    assert "nothing to request, the card is already in a2dp-sink" in command, command
    assert not [c for c in fake.calls if c[2] == "SetCardProfile"]


async def test_both_buds_out_never_switches_the_card_off(fake, private_bus, airpods, monkeypatch):
    from routesim.bt.fake_bluez import APPLE, proximity_pairing

    monkeypatch.setenv("DBUS_SYSTEM_BUS_ADDRESS", private_bus.address)
    fake.add_device(airpods, connected=True)
    fake.add_advert("5E:11:22:33:44:55", {APPLE: proximity_pairing(0x2014, left=100, right=90)})
    lines: list[str] = []
    task = await _watch_with_feed(private_bus, lines, adverts=True)
    await _until(lambda: any("right 90%" in line for line in lines))
    fake.update_advert("5E:11:22:33:44:55", {APPLE: proximity_pairing(0x2014, left=100, right=90, left_in_ear=False,
                                                                       right_in_ear=False)})
    await _until(lambda: any("routesim never switches a card off" in line for line in lines))
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)
    assert [c for c in fake.calls if c[2] == "SetCardProfile"] == []
    assert fake.device(AIRPODS).card_profile == "a2dp-sink"
    assert not any(line.startswith("drift") for line in lines), lines  # an unused device is not drift


async def test_the_audio_servers_own_switch_is_followed_and_drift_reported(fake, private_bus, airpods):
    """WirePlumber moves the AirPods to HFP by itself (a Communication capture stream): the card's profile
    becomes a profile event, the model's link record follows, and since a playback app on iOS would stay
    on A2DP, watch reports the drift; back on A2DP it says they are in step again. Here no audio server
    answers pactl (the fake's stand-in switches the card), so the route itself stays: only an audio
    server's card profile is followed into the route (tests/pipewire)."""
    fake.add_device(airpods, connected=True)
    lines: list[str] = []
    task = await _watch_with_feed(private_bus, lines)
    await _until(lambda: any(line.startswith("command") for line in lines))
    fake.switch_profile(AIRPODS, "hfp")
    await _until(lambda: any(line.startswith("drift") for line in lines))
    fake.switch_profile(AIRPODS, "a2dp")
    await _until(lambda: any("in step again" in line for line in lines))
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)
    drift = [line for line in lines if line.startswith("drift")]
    assert drift == [f"drift         {AIRPODS}  the rig carries hfp (lc3-a127); for this session iOS would use a2dp "
                     "(route in[-] out[bluetoothA2DP])",
                     f"drift         {AIRPODS}  in step again: the rig carries a2dp (aac)"], lines
    assert f"profile       {AIRPODS}  hfp (lc3-a127)" in lines


def _pactl(tmp_path, *, refuse: bool):
    """A stand-in pactl (the real one needs PipeWire): lists the card from cards.json; ``subscribe``
    prints a card event whenever the file ``changed`` appears; set-card-profile is refused or done."""
    cards = tmp_path / "cards.json"
    card = {"index": 57, "name": CARD, "active_profile": "a2dp-sink-aac",
            "profiles": {p: {"available": True} for p in ("off", "a2dp-sink", "a2dp-sink-aac", "headset-head-unit",
                                                          "headset-head-unit-cvsd")}}
    cards.write_text(json.dumps([card]))
    script = tmp_path / "pactl"
    refusal = 'echo "Failure: Not supported" >&2; exit 1' if refuse else "true"
    script.write_text(
        "#!/bin/sh\n"
        f'if [ "$1" = --format=json ]; then cat {cards}; exit 0; fi\n'
        f'if [ "$1" = set-card-profile ]; then {refusal}; exit 0; fi\n'
        f'if [ "$1" = subscribe ]; then while true; do if [ -e {tmp_path}/changed ]; then rm {tmp_path}/changed; '
        "echo \"Event 'change' on card #57\"; fi; sleep 0.02; done; fi\n")
    script.chmod(0o755)
    return script, cards, card


async def test_a_refused_switch_rolls_the_model_back_and_says_so(fake, make_backend, airpods, tmp_path):
    from routesim.routes.live.rig import BluezCommandSink

    fake.add_device(airpods, connected=True)
    pactl, _, _ = _pactl(tmp_path, refuse=True)
    backend, log = await make_backend(pactl=str(pactl), follow_cards=False)
    links = {AIRPODS: ("a2dp", "aac")}
    reports: list[str] = []
    sink = BluezCommandSink(backend, report=reports.append, links=links)
    result = await sink.execute(SwitchProfile(AIRPODS, "hfp", "cvsd"))
    assert result.refused and not result.done
    assert links == {AIRPODS: ("a2dp", "aac")}
    assert reports == [f"command       switch {AIRPODS} to hfp (cvsd): PipeWire card {CARD} profile "
                       "headset-head-unit-cvsd: refused by the audio server: pactl set-card-profile "
                       f"{CARD} headset-head-unit-cvsd: Failure: Not supported; rolled back: the model keeps a2dp (aac)"]


async def test_one_devices_switches_land_in_the_order_the_phone_gave_them(fake, make_backend, airpods, tmp_path):
    """A slow switch to A2DP (asked at connect) and a quick one to HFP (a call starts) for the same device: the
    HFP switch waits, so the card ends in the headset profile instead of the late A2DP switch undoing it."""
    from routesim.routes.live.rig import BluezCommandSink

    fake.add_device(airpods, connected=True)
    pactl, cards, card = _pactl(tmp_path, refuse=False)
    cards.write_text(json.dumps([dict(card, active_profile="off")]))
    asked = tmp_path / "asked"
    pactl.write_text(pactl.read_text().replace(
        'if [ "$1" = set-card-profile ]; then true;',
        f'if [ "$1" = set-card-profile ]; then case "$3" in a2dp*) sleep 0.3;; esac; echo "$3" >> {asked};'))
    backend, _ = await make_backend(pactl=str(pactl), follow_cards=False)
    sink = BluezCommandSink(backend, report=lambda line: None, apply=True)
    first, second = sink.execute(SwitchProfile(AIRPODS, "a2dp", "aac")), sink.execute(SwitchProfile(AIRPODS, "hfp", "cvsd"))
    assert (await first).done and (await second).done
    assert asked.read_text().split() == ["a2dp-sink-aac", "headset-head-unit-cvsd"]
    await backend.stop()


async def test_card_changes_seen_through_pactl_subscribe_become_profile_events(fake, make_backend, airpods, tmp_path):
    fake.add_device(airpods, connected=True)
    pactl, cards, card = _pactl(tmp_path, refuse=False)
    backend, log = await make_backend(pactl=str(pactl))
    await asyncio.sleep(0.2)  # the follower has read the cards once
    cards.write_text(json.dumps([dict(card, active_profile="headset-head-unit-cvsd")]))
    (tmp_path / "changed").touch()
    await log.wait(lambda e: e == ProfileChanged(AIRPODS, "hfp", "cvsd"), timeout=5)
    await backend.stop()


async def test_the_steering_lock_falls_back_to_a_lock_file_where_the_bus_refuses_the_name(private_bus):
    """On the real system bus the policy does not let us own io.routesim.Steering.*: a flock on a file
    keyed by bus address and adapter takes its place (the second holder is refused, and a release frees it)."""
    from routesim.bt.bluez.steering import SteeringLocks

    first, second = SteeringLocks(private_bus.address, ["hci7"]), SteeringLocks(private_bus.address, ["hci7"])
    assert first._flock("hci7") is None  # noqa: SLF001 - the fallback itself, as the refused name would reach it
    held = second._flock("hci7")  # noqa: SLF001
    assert held is not None and held.startswith("lock file ") and held.endswith("-hci7.lock is held")
    await first.release()
    assert second._flock("hci7") is None  # noqa: SLF001
    await second.release()
