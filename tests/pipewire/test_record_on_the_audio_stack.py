"""`routesim record` against the real audio stack: virtual AirPods Pro 2 on the fake bluetoothd with
PipeWire, WirePlumber and pipewire-pulse on its bus, the recorder in its own process asking the audio
server through pactl (scripts/record-fixtures --pipewire, the way the bundled *-pipewire recordings are
made). The call story: connect, a CallKit call (A2DP to HFP and back), disconnect.

The rig's facts must be PipeWire's own, never the model's wishes: card names follow PipeWire's bluez5
plugin (``a2dp-sink-<codec>``, ``headset-head-unit-<codec>``: pw-bluez5), rates the codecs' own (SBC's
sampling frequencies from the A2DP specification; CVSD 8 kHz and mSBC 16 kHz from the HFP
specification), and Debian 12's PipeWire 0.3.65 has no HFP codec but those two (Apple's LC3 came in a
later PipeWire: PipeWire-64f2f38ec). Then replay passes with the drift table, and a changed golden fact
fails naming the step (tests/replay_checks.py, shared with the fake-only record tests)."""
from __future__ import annotations

import asyncio

import pytest

from routesim.profiles.catalog import default_catalog
from routesim.routes.scenario.loader import load_text

from tests.replay_checks import assert_changed_golden_fact_fails, assert_replays_with_drift_table, record_fixtures

RECORD = record_fixtures()
CATALOG = default_catalog()
SBC_RATES = {16000, 32000, 44100, 48000}  # A2DP specification, SBC sampling frequencies
HFP_RATES = {"cvsd": 8000, "msbc": 16000}  # HFP specification: narrowband and wideband speech
PIPEWIRE_NAME = {"a2dp": "a2dp-sink", "hfp": "headset-head-unit"}  # pw-bluez5 card profile names


@pytest.fixture(scope="module")
def call_recording(audio_bus, tmp_path_factory):
    """The call story recorded once against the real stack on the tests' private bus."""
    out = tmp_path_factory.mktemp("pipewire-recording") / "call-pipewire.scenario.yaml"
    asyncio.run(RECORD.record("call", out, bus=audio_bus.address, extra=RECORD.naming("call", True), pipewire=True))
    return out


def steps(path) -> list:
    (scenario,) = load_text(path.read_text(encoding="utf-8"), path, CATALOG.ids())
    return scenario.steps


def rig_facts(path) -> list[dict]:
    return [step.arg.rig["airpods-pro-2"] for step in steps(path) if step.op == "expect" and step.arg.rig]


def test_the_header_names_the_audio_server_the_facts_rest_on(call_recording):
    header = call_recording.read_text(encoding="utf-8").splitlines()[0]
    assert "with the audio server PulseAudio (on PipeWire " in header, header


def test_each_link_is_recorded_as_pipewire_shows_it(call_recording):
    facts = rig_facts(call_recording)
    model = CATALOG.get("airpods-pro-2")
    kinds = [f["profile"] for f in facts]
    assert [k for i, k in enumerate(kinds) if i == 0 or kinds[i - 1] != k] == ["a2dp", "hfp", "a2dp", "none"], \
        facts  # connect, the call, its end, disconnect
    for f in facts:
        if f["profile"] == "none":
            assert f == {"profile": "none", "codec": None}, f  # the card went with the device
            continue
        assert f["card"] == f"{PIPEWIRE_NAME[f['profile']]}-{f['codec'].replace('-', '_')}", f
        if f["profile"] == "a2dp":
            assert f["codec"] in model.a2dp_codecs, f
            if f["codec"] == "sbc":
                assert f["sampleRate"] in SBC_RATES, f
        else:
            assert f["codec"] in HFP_RATES and f["sampleRate"] == HFP_RATES[f["codec"]], f


def test_the_profile_steps_carry_the_codecs_pipewire_switched_to(call_recording):
    """The `profile` steps are the rig's link changes as the backend saw them: after the model's HFP request
    the card's codec is the one PipeWire chose, not the one the model asked for."""
    changes = [(s.arg["profile"], s.arg.get("codec")) for s in steps(call_recording) if s.op == "profile"]
    assert [p for p, _ in changes] == ["a2dp", "hfp", "a2dp"], changes
    model = CATALOG.get("airpods-pro-2")
    assert all(c in (model.a2dp_codecs if p == "a2dp" else HFP_RATES) for p, c in changes), changes


def test_replay_passes_with_the_drift_table_and_a_changed_golden_fact_names_the_step(call_recording, tmp_path,
                                                                                   capsys):
    assert_replays_with_drift_table(capsys, call_recording)
    # the route the call moved to, made A2DP again: the expect right after the call started fails
    assert_changed_golden_fact_fails(capsys, call_recording, tmp_path / "edited.scenario.yaml",
                                     "outputs: [{type: bluetoothHFP", "outputs: [{type: bluetoothA2DP",
                                     "after `callkit.startCall")
