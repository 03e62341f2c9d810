"""Record a rig, replay it forever: `routesim record` against the fake bluetoothd (a separate process on a
private bus, driven from here), `routesim replay` on the virtual clock, the scenario-format additions for
recordings (the `profile` step and `expect: rig`), and the rig's link facts read from BlueZ and pactl."""
from __future__ import annotations

import asyncio
import json
import sys
import textwrap

import pytest

from routesim.bt.bluez.link_facts import LinkFacts, a2dp_sample_rate, link_facts, parse_pactl
from routesim.profiles.catalog import default_catalog
from routesim.routes.cli.main import main
from routesim.routes.scenario.loader import load_text
from routesim.routes.scenario.model import ScenarioError
from routesim.routes.scenario.runner import run_scenario

from tests.replay_checks import (ROOT, assert_changed_golden_fact_fails, assert_replays_with_drift_table,
                                 record_fixtures, replay)

CATALOG = default_catalog()
RECORD = record_fixtures()
ORIGINALS = ("Kim\u2019s AirPods Pro", "Kim\u2019s Pods", "AA:BB:CC:DD:EE:01", "AA_BB_CC_DD_EE_01", "aa:bb:cc:dd:ee:01")


@pytest.fixture(scope="module")
def recordings(tmp_path_factory):
    """Two sessions recorded at once, each by `routesim record` in its own process on its own fake bluetoothd:
    the whole story (connect, rename, a call, ears out and in, disconnect), and the rename story anonymised.
    Both end with Ctrl-C (SIGINT)."""
    folder = tmp_path_factory.mktemp("recordings")
    session, anonymised = folder / "session.scenario.yaml", folder / "anonymised.scenario.yaml"

    async def both():
        return await asyncio.gather(RECORD.record("session", session),
                                    RECORD.record("rename", anonymised, extra=["--anonymise"]))

    printed = asyncio.run(both())
    return {"session": session, "anonymised": anonymised, "printed": printed}


# ---------------------------------------------------------------------------------------------- recording
@pytest.mark.parametrize("step", ["connect: airpods-pro-2", "rename: {accessory: airpods-pro-2, name: Kim\u2019s Pods}",
                                  "callkit.startCall: call-1", "profile: {accessory: airpods-pro-2, profile: hfp",
                                  "ears: {accessory: airpods-pro-2, left: out, right: out}", "callkit.end: call-1",
                                  "disconnect: airpods-pro-2", "- wait: "])
def test_a_recorded_session_holds_every_step_of_the_story(recordings, step):
    assert step in recordings["session"].read_text()


def test_a_recording_names_the_device_by_its_modalias_and_keeps_the_rigs_facts_apart(recordings):
    text = recordings["session"].read_text()
    (scenario,) = load_text(text, recordings["session"], CATALOG.ids())
    assert scenario.accessories["airpods-pro-2"].model == "airpods-pro-2"
    assert scenario.accessories["airpods-pro-2"].address == "AA:BB:CC:DD:EE:01"
    expects = [s.arg for s in scenario.steps if s.op == "expect"]
    assert all(e.route is not None and e.notifications is not None for e in expects)  # the golden view
    facts = [e.rig["airpods-pro-2"] for e in expects if e.rig]
    assert {"profile": "hfp", "codec": "lc3-a127", "sampleRate": 24000, "card": "headset-head-unit"} in facts
    assert any(f["profile"] == "a2dp" and f["card"] == "a2dp-sink" for f in facts)


def test_replay_passes_and_shows_the_drift_table(recordings, capsys):
    rows = assert_replays_with_drift_table(capsys, recordings["session"])
    # the fake's AAC stream runs at 44.1 kHz (its Configuration bytes); the model says 48 kHz
    assert any(row[2:5] == ["sampleRate", "44100", "48000"] for row in rows), rows


def test_drift_fails_only_with_strict(recordings, capsys):
    code, out = replay(capsys, "--strict", recordings["session"])
    assert code == 1 and out.startswith("DRIFT"), out


# (what the edit changes in the golden view, the text before, the text after, what the message names)
GOLDEN_EDITS = [
    ("a route after the rename", "outputs: [{type: bluetoothA2DP, name: Kim\u2019s Pods}]}",
     "outputs: [{type: bluetoothA2DP, name: Kim\u2019s AirPods Pro}]}", "after `rename"),
    ("a notification's reason", "reason: oldDeviceUnavailable", "reason: override", "notifications"),
]


@pytest.mark.parametrize("what, before, after, named", GOLDEN_EDITS, ids=[e[0] for e in GOLDEN_EDITS])
def test_a_changed_golden_fact_fails_naming_the_step_and_update_fixes_it(recordings, tmp_path, capsys, what,
                                                                         before, after, named):
    assert_changed_golden_fact_fails(capsys, recordings["session"], tmp_path / "edited.scenario.yaml",
                                     before, after, named)


def test_update_keeps_comments_other_keys_and_their_order(tmp_path, capsys):
    path = tmp_path / "hand.scenario.yaml"
    path.write_text(textwrap.dedent("""\
        name: hand-edited recording
        accessories:
          pods: {model: airpods-pro-2}
        steps:
          - session.setCategory: playback
          - connect: pods   # the case opened
          - expect:
              # what the app saw
              rig: {pods: {profile: a2dp, codec: aac}}
              route:
                outputs: [builtInSpeaker]
              notifications:
                - routeChange
                - didActivate
              # keep this comment
              session: {category: playback}
        """))
    code, _ = replay(capsys, path)
    assert code == 1
    code, out = replay(capsys, "--update", path)
    assert code == 0, out
    text = path.read_text()
    assert "      route: {inputs: [], outputs: [{type: bluetoothA2DP, name: AirPods Pro}]}" in text, text
    assert "- {routeChange: {reason: newDeviceAvailable" in text and "didActivate" not in text
    for kept in ("# the case opened", "# what the app saw", "rig: {pods: {profile: a2dp, codec: aac}}",
                 "# keep this comment", "session: {category: playback}"):
        assert kept in text
    assert text.index("rig:") < text.index("route:") < text.index("notifications:") < text.index("session:")


def test_anonymise_leaves_no_original_name_or_address(recordings, capsys):
    text = recordings["anonymised"].read_text()
    assert [o for o in ORIGINALS if o.lower() in text.lower()] == []
    assert "Device name 1" in text and "Device name 2" in text and "02:00:00:00:00:01" in text
    code, out = replay(capsys, recordings["anonymised"])
    assert code == 0, out


def test_recording_writes_the_file_when_its_time_is_up(tmp_path):
    """--seconds ends the recording as Ctrl-C does; on a fake with nothing connected, the app's category is
    all there is."""
    from routesim import FakeBluetooth

    out = tmp_path / "quiet.scenario.yaml"

    async def go():
        async with FakeBluetooth() as fake:
            proc = await asyncio.create_subprocess_exec(
                sys.executable, "-m", "routesim", "record", str(out), "--bus", fake.address, "--seconds", "0.3",
                "-q", stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
            _, err = await proc.communicate()
            return proc.returncode, err

    code, err = asyncio.run(go())
    assert code == 0, err
    (scenario,) = load_text(out.read_text(), out, CATALOG.ids())
    assert [s.op for s in scenario.steps] == ["session.setCategory", "expect"]


# (arguments, the one-line error)
RECORD_ERRORS = [
    (["record", "out.yaml"], "a recording's name must end in .scenario.yaml"),
    (["record", "x.scenario.yaml", "--seconds", "0"], "--seconds 0: give a positive number of seconds"),
    (["record", "x.scenario.yaml", "--bus", "unix:path=/nonexistent/bus", "--seconds", "1"], "no D-Bus system bus"),
    (["record", "x.scenario.yaml", "--bus", "unix:path=/nonexistent/bus", "--category", "nonsense"],
     "setCategory(nonsense"),
]


@pytest.mark.parametrize("argv, error", RECORD_ERRORS, ids=[e[1][:30] for e in RECORD_ERRORS])
def test_record_errors_are_one_line(tmp_path, capsys, monkeypatch, argv, error):
    monkeypatch.chdir(tmp_path)
    assert main(argv) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("routesim: ") and error in err[0], err
    assert not list(tmp_path.glob("*.scenario.yaml"))


def test_replay_of_a_missing_file_says_so(tmp_path, capsys):
    assert main(["replay", str(tmp_path / "none.scenario.yaml")]) == 2
    assert "no such file" in capsys.readouterr().err


# ---------------------------------------------------------------------------------------------- the format
HEADER = "name: additions\naccessories:\n  pods: {model: airpods-pro-2, connected: true}\nsteps:\n"

# (steps, the loader's error or None)
FORMAT_ROWS = [
    ("  - profile: {accessory: pods, profile: hfp, codec: msbc}\n", None),
    ("  - profile: {accessory: pods, profile: none}\n", None),
    ("  - profile: {accessory: pods, profile: sco}\n", "'sco'"),
    ("  - profile: {accessory: buds, profile: hfp}\n", "buds"),
    ("  - profile: {profile: hfp}\n", "accessory"),
    ("  - expect: {rig: {pods: {profile: a2dp, codec: sbc-xq, sampleRate: 44100, card: a2dp-sink}}}\n", None),
    ("  - expect: {rig: {pods: {profile: a2dp, bitrate: 320}}}\n", "bitrate"),
    ("  - expect: {rig: {pods: {sampleRate: fast}}}\n", "sampleRate"),
]


@pytest.mark.parametrize("steps, error", FORMAT_ROWS, ids=[r[0].strip()[2:40] for r in FORMAT_ROWS])
def test_the_recording_additions_load_or_say_what_is_wrong(steps, error):
    if error is None:
        load_text(HEADER + steps, "a.scenario.yaml", CATALOG.ids())
    else:
        with pytest.raises(ScenarioError) as info:
            load_text(HEADER + steps, "a.scenario.yaml", CATALOG.ids())
        assert str(info.value).startswith("a.scenario.yaml:") and error in str(info.value)


# (rig facts at an expect, whether they drift from the model: AirPods Pro 2 on A2DP/AAC at 48 kHz for playback)
RIG_ROWS = [
    ("{profile: a2dp, codec: aac, sampleRate: 48000}", []),
    ("{profile: a2dp, codec: aac, sampleRate: 44100}", ["rig.pods.sampleRate"]),
    ("{profile: hfp, codec: msbc}", ["rig.pods.profile", "rig.pods.codec"]),
    ("{profile: a2dp, card: a2dp-sink-sbc}", []),  # the card name has no counterpart in the model
]


@pytest.mark.parametrize("facts, drift", RIG_ROWS, ids=[r[0] for r in RIG_ROWS])
def test_rig_facts_against_the_model_are_drift_not_failure(facts, drift):
    text = HEADER + "  - session.setCategory: playback\n  - expect:\n      route: {outputs: [bluetoothA2DP]}\n" \
                    f"      rig: {{pods: {facts}}}\n"
    (scenario,) = load_text(text, "a.scenario.yaml", CATALOG.ids())
    result = run_scenario(scenario, CATALOG)
    assert result.passed
    assert [c.key for _, c in result.drift] == drift


def test_the_profile_step_reaches_the_phone_as_the_rigs_profile_event():
    text = HEADER + "  - profile: {accessory: pods, profile: hfp, codec: msbc}\n  - expect\n"
    (scenario,) = load_text(text, "a.scenario.yaml", CATALOG.ids())
    from routesim.routes.scenario.runner import ScenarioRun

    run = ScenarioRun(scenario, CATALOG)
    run.run()
    assert run.manager.device_profiles["pods"] == ("hfp", "msbc")
    assert [e.name for e in run.sim.timeline if e.kind == "event"][-1] == "profile"


# ---------------------------------------------------------------------------------------------- link facts
# (codec, MediaTransport1.Configuration, rate): SBC's rate is the high nibble of byte 0, AAC's the 12 bits
# of byte 1 and the high nibble of byte 2 (BlueZ a2dp-codecs.h)
RATES = [
    ("sbc", b"\x21\x15\x02\x35", 44100),
    ("sbc", b"\x11\x15\x02\x35", 48000),
    ("sbc", b"\x81\x15\x02\x35", 16000),
    ("aac", b"\x80\x01\x04\x03\x5b\x60", 44100),
    ("aac", b"\x80\x00\x84\x03\x5b\x60", 48000),
    ("aac", b"\x80", None),
    ("aptx", b"\x4f\x00\x00\x00\x01\x00\x22", None),
    ("sbc", b"", None),
]


@pytest.mark.parametrize("codec, conf, rate", RATES)
def test_a2dp_sample_rate_from_the_transport_configuration(codec, conf, rate):
    assert a2dp_sample_rate(codec, conf) == rate


CONNECTED = {"Connected": True}
AAC = {"Codec": 0x02, "Configuration": b"\x80\x01\x04\x03\x5b\x60", "State": "active"}

# (Device1, MediaTransport1, card profile followed, its codec, the audio server's word, the facts)
FACT_ROWS = [
    ("no audio server, streaming", CONNECTED, AAC, None, None, None, LinkFacts("a2dp", "aac", 44100, None)),
    ("no audio server, idle", CONNECTED, {**AAC, "State": "idle"}, None, None, None, LinkFacts("none")),
    ("card in HFP, codec in its name", CONNECTED, AAC, "headset-head-unit-msbc", None, None,
     LinkFacts("hfp", "msbc", 16000, "headset-head-unit-msbc")),
    ("card in HFP, codec followed", CONNECTED, AAC, "headset-head-unit", "lc3_a127", None,
     LinkFacts("hfp", "lc3-a127", 24000, "headset-head-unit")),
    ("the server's sink says more", CONNECTED, AAC, "a2dp-sink", "aac",
     {"card": "a2dp-sink-sbc", "codec": "sbc", "sampleRate": 48000}, LinkFacts("a2dp", "sbc", 48000, "a2dp-sink-sbc")),
    ("not connected", {"Connected": False}, None, None, None, None, LinkFacts("none")),
]


@pytest.mark.parametrize("what, device, transport, card, codec, server, facts", FACT_ROWS, ids=[r[0] for r in FACT_ROWS])
def test_link_facts_combine_bluez_the_card_and_the_audio_server(what, device, transport, card, codec, server, facts):
    assert link_facts(device, transport, card, codec, server) == facts


PACTL_CARDS = json.dumps([
    {"name": "bluez_card.AA_BB_CC_DD_EE_01", "active_profile": "headset-head-unit",
     "properties": {"api.bluez5.address": "AA:BB:CC:DD:EE:01", "device.description": "Kim's AirPods Pro"}},
    {"name": "alsa_card.pci-0000_00_1f.3", "active_profile": "output:analog-stereo", "properties": {}},
])
PACTL_SINKS = json.dumps([
    {"name": "bluez_output.AA_BB_CC_DD_EE_01.1", "sample_specification": "s16le 1ch 16000Hz",
     "properties": {"api.bluez5.codec": "msbc", "api.bluez5.profile": "headset-head-unit"}},
])


@pytest.mark.parametrize("cards, sinks, parsed", [
    (PACTL_CARDS, PACTL_SINKS, {"AA:BB:CC:DD:EE:01": {"card": "headset-head-unit", "codec": "msbc", "sampleRate": 16000}}),
    (PACTL_CARDS, "[]", {"AA:BB:CC:DD:EE:01": {"card": "headset-head-unit"}}),
    # the card is back in A2DP while the HFP sink is still listed: that sink's codec and rate are not the link's
    (PACTL_CARDS.replace('"headset-head-unit"', '"a2dp-sink-sbc"'), PACTL_SINKS,
     {"AA:BB:CC:DD:EE:01": {"card": "a2dp-sink-sbc"}}),
    ("not json", "[]", {}),
    ('{"cards": 1}', "[]", {}),
], ids=["cards and sinks", "cards only", "a sink of the profile left", "not json", "not a list"])
def test_pactl_json_gives_each_bluetooth_cards_profile_codec_and_rate(cards, sinks, parsed):
    assert parse_pactl(cards, sinks) == parsed


# ---------------------------------------------------------------------------------------------- bundled
BUNDLED = sorted((ROOT / "fixtures" / "recordings").rglob("*.scenario.yaml"))


def test_there_is_a_bundled_recording_per_path_on_the_fake_and_against_the_real_audio_stack():
    stems = {p.name.removesuffix(".scenario.yaml") for p in BUNDLED}
    for path in ("connect", "rename", "call", "ears-out", "disconnect"):
        assert {path, f"{path}-pipewire"} <= stems, sorted(stems)
    assert {p.parent.name for p in BUNDLED} == {"airpods-pro-2"}
    for p in BUNDLED:  # what the facts rest on is in the file: the audio server that answered, or none
        header = p.read_text(encoding="utf-8").splitlines()[0]
        assert ("with the audio server PulseAudio (on PipeWire" in header) == p.name.endswith("-pipewire.scenario.yaml")


def test_the_bundled_recordings_replay_as_recorded(capsys):
    code, out = replay(capsys, ROOT / "fixtures" / "recordings")
    assert code == 0, out
    assert out.count("PASS") == len(BUNDLED)


def test_the_recordings_come_with_the_package():
    from importlib import resources

    folder = resources.files("routesim.fixtures") / "recordings" / "airpods-pro-2"
    assert sorted(p.name for p in folder.iterdir() if p.name.endswith(".scenario.yaml")) == [p.name for p in BUNDLED]


# ---------------------------------------------------------------------------------------------- the writer
def _capture(*moments):
    from routesim.events import AccessoryInfo
    from routesim.routes.scenario.recording import Capture

    info = AccessoryInfo("AA:BB:CC:DD:EE:01", "airpods-pro-2", "Kim's AirPods Pro", "AA:BB:CC:DD:EE:01", "D408")
    return Capture(list(moments), {info.key: info}, "ios-26.0", "in a test")


def _moment(kind, time, name, args=None, data=None, facts=None):
    from routesim.routes.phone.ports import SPEAKER, Route
    from routesim.routes.scenario.recording import Moment

    return Moment(kind, time, name, args or {}, Route((), (SPEAKER,)), data, facts or {})


def _note(name, time, **fields):
    from routesim.routes.phone.notifications import Notification

    return _moment("notification", time, name, data=Notification(name, fields, time))


A2DP = {"AA:BB:CC:DD:EE:01": {"profile": "a2dp", "codec": "aac"}}
CATEGORY = ("action", 0.0001, "session.setCategory", {"category": "playback", "mode": "default", "options": []})

# (what the rule is, the moments, lines the file must hold in this order, lines it must not hold)
WRITER_ROWS = [
    ("the story starts at its first step; waits are whole ms rounded up",
     [_moment(*CATEGORY), _moment("event", 0.5003, "connect", {"accessory": "AA:BB:CC:DD:EE:01"})],
     ["  - session.setCategory: playback", "  - wait: 501ms", "  - connect: airpods-pro-2"], ["  - wait: 1ms"]),
    ("a late notification came from a timer: its own wait and expect",
     [_moment(*CATEGORY), _note("didActivate", 0.0002), _note("engineConfigurationChange", 0.4)],
     ["        - didActivate", "  - wait: 400ms", "        - engineConfigurationChange"], []),
    ("a step the rig's phone refused is kept as a comment",
     [_moment(*CATEGORY), _moment("event", 1.0, "connect", {"accessory": "AA:BB:CC:DD:EE:01"}),
      _moment("error", 1.0, "connect", {"error": "already connected"})],
     ["  # on the rig: connect: airpods-pro-2 was not applied (already connected)"], ["  - connect: airpods-pro-2"]),
    ("the rig's facts are written once the rig had time to settle",
     [_moment(*CATEGORY), _moment("event", 1.0, "profile", {"accessory": "AA:BB:CC:DD:EE:01", "profile": "a2dp"},
                                  facts=A2DP), _moment("event", 2.0, "disconnect", {"accessory": "AA:BB:CC:DD:EE:01"})],
     ["  - profile: {accessory: airpods-pro-2, profile: a2dp}", "      rig: {airpods-pro-2: {profile: a2dp, codec: aac}}",
      "  - disconnect: airpods-pro-2"], []),
    ("the rig's facts are left out while it is still switching",
     [_moment(*CATEGORY), _moment("action", 1.0, "callkit.startCall", {"call": "c1", "fulfillAfter": 0.0},
                                  facts=A2DP), _moment("event", 1.05, "profile", {"accessory": "AA:BB:CC:DD:EE:01", "profile": "hfp"})],
     ["  - callkit.startCall: c1"], ["      rig: {airpods-pro-2: {profile: a2dp, codec: aac}}"]),
    ("a firmware string the catalog cannot compare becomes a comment",
     [_moment(*CATEGORY)], ["  # firmware D408: a Device ID version the quirk ranges cannot compare"], ["firmware: D408"]),
]


@pytest.mark.parametrize("rule, moments, holds, lacks", WRITER_ROWS, ids=[r[0] for r in WRITER_ROWS])
def test_the_writer_turns_timeline_entries_into_steps(rule, moments, holds, lacks):
    from routesim.routes.scenario.recording import write_capture

    text = write_capture(_capture(*moments), title="t", firmware_ok=lambda info: False)
    lines = text.split("\n")
    positions = [next((i for i, l in enumerate(lines) if l.startswith(h) or h.startswith("  #") and h.strip() in l), None)
                 for h in holds]
    assert None not in positions and positions == sorted(positions), text
    assert not [l for l in lacks if any(line.startswith(l) for line in lines)], text
    load_text(text, "w.scenario.yaml", CATALOG.ids())  # what the writer writes always loads
