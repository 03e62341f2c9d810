"""routes.signal: test signals, the route chain, measurements; the `audio:` expectation; `routesim render`."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from scipy.io import wavfile

from routesim.profiles.codecs import CODECS
from routesim.routes.cli.main import main
from routesim.routes.audio.signal import Chain, NOISE_FLOOR_DBFS, bandwidth, chain_for, generate, level_dbfs, measure, render
from tests.phone_rig import make_rig

SCENARIOS = Path(__file__).resolve().parents[1] / "fixtures" / "scenarios" / "audio-io"


@pytest.mark.parametrize("kind", ["sweep", "tone", "noise", "speech"])
def test_generated_level_is_the_requested_rms(kind):
    x = generate(kind, level_dbfs=-20.0)
    assert level_dbfs(x) == pytest.approx(-20.0, abs=0.01)


def test_full_scale_sine_reads_minus_3_dbfs():
    t = np.arange(48000) / 48000
    assert level_dbfs(np.sin(2 * np.pi * 1000 * t)) == pytest.approx(-3.01, abs=0.01)


@pytest.mark.parametrize("codec", ["cvsd", "msbc", "lc3-a127", "lc3-swb", "sbc", "aac"])
def test_bandwidth_sits_at_the_codec_band_edge(codec):
    c = CODECS[codec]
    rate = c.sample_rate
    chain = Chain("output", rate, 1, c.band, 0.0, NOISE_FLOOR_DBFS[codec], "x", codec)
    for kind in ("sweep", "noise", "speech"):
        bw = measure(render(generate(kind), chain))["bandwidth"]
        assert c.band[1] <= bw <= min(c.band[1] * 1.1, rate / 2), (kind, bw)


def test_narrowband_is_below_4k_and_a2dp_above_15k():
    x = generate("sweep")
    narrow = measure(render(x, Chain("output", 8000, 1, CODECS["cvsd"].band, 0, -45, "bluetoothHFP", "cvsd")))
    wide = measure(render(x, Chain("output", 48000, 2, CODECS["aac"].band, 0, -85, "bluetoothA2DP", "aac")))
    assert narrow["bandwidth"] < 4000 < 15000 < wide["bandwidth"]
    assert (narrow["channels"], wide["channels"]) == (1, 2)
    assert narrow["snr"] < wide["snr"]


def test_receiver_is_quieter_and_noisier_relative_to_signal():
    x = generate("noise")
    spk = measure(render(x, Chain("output", 48000, 2, (20, 20000), 0.0, -96, "builtInSpeaker")))
    rcv = measure(render(x, Chain("output", 48000, 2, (20, 20000), -18.0, -96, "builtInReceiver")))
    assert spk["level"] - rcv["level"] == pytest.approx(18.0, abs=0.1)
    assert rcv["snr"] < spk["snr"]


def test_render_is_deterministic_and_resamples_to_the_chain_rate():
    x = generate("speech", duration=0.5)
    chain = Chain("output", 16000, 1, CODECS["msbc"].band, 0, -60, "bluetoothHFP", "msbc")
    a, b = render(x, chain), render(x, chain)
    assert a.audio.shape == (8000, 1)
    assert np.array_equal(a.audio, b.audio)


def test_bandwidth_without_reference_uses_the_output_spectrum():
    x = generate("noise")
    chain = Chain("output", 16000, 1, CODECS["msbc"].band, 0, -60, "bluetoothHFP", "msbc")
    assert 7000 <= bandwidth(render(x, chain).mono, 16000) <= 8000


def test_chain_follows_the_phone_route():
    rig = make_rig(category="playAndRecord", options=("allowBluetoothHFP",), devices=(("h", "generic-headset"),),
                   active=True)
    out, inp = chain_for(rig.phone, "output"), chain_for(rig.phone, "input")
    assert (out.rate, out.channels, out.codec, out.port) == (8000, 1, "cvsd", "bluetoothHFP")
    assert (inp.channels, inp.band) == (1, CODECS["cvsd"].band)
    idle = make_rig(category="playback")
    assert chain_for(idle.phone, "input").channels == 0
    assert measure(render(generate("sweep"), chain_for(idle.phone, "input")))["level"] == -200.0


def test_render_command_writes_a_wav_and_a_png(tmp_path, capsys):
    scenario = SCENARIOS / "engine-input-tap-airpods-hfp.scenario.yaml"
    rc = main(["render", str(scenario), "--step", "25", "--signal", "sweep", "--duration", "0.5",
               "--out", str(tmp_path)])
    assert rc == 0
    wav = tmp_path / "engine-input-tap-airpods-hfp-L25-sweep-output.wav"
    png = wav.with_suffix(".png")
    rate, data = wavfile.read(wav)
    assert rate <= 24000 and data.ndim == 1 and len(data) == rate // 2  # HFP: mono at the HFP rate
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert "bluetoothHFP" in capsys.readouterr().out


def test_render_before_the_first_step_and_on_a_silent_input(tmp_path):
    scenario = SCENARIOS / "recorder-552-byte-m4a.scenario.yaml"
    assert main(["render", str(scenario), "--step", "12", "--direction", "input", "--duration", "0.25",
                 "--out", str(tmp_path)]) == 0
    rate, data = wavfile.read(next(tmp_path.glob("*.wav")))
    assert not np.any(data)


def test_render_rejects_a_missing_file(tmp_path):
    assert main(["render", str(tmp_path / "nope.scenario.yaml"), "--step", "1", "--out", str(tmp_path)]) == 2


def test_audio_expectation_rejects_unknown_keys(tmp_path):
    from routesim.profiles.catalog import default_catalog
    from routesim.routes.scenario.loader import load_path
    from routesim.routes.scenario.model import ScenarioError

    f = tmp_path / "bad.scenario.yaml"
    f.write_text("name: x\nsteps:\n  - expect:\n      audio: {bandwith: '<4000'}\n")
    with pytest.raises(ScenarioError, match="bandwith"):
        load_path(f, default_catalog().ids())
