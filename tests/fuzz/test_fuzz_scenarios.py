"""Malformed scenario files through ``routesim run``: exit 0/1 for a file that is still valid, exit 2 with
one line naming FILE:LINE for one that is not; never a traceback, within time and memory budgets."""
from __future__ import annotations

import tempfile
from pathlib import Path

from hypothesis import given

from tests.fuzz.promise import run_cli
from tests.fuzz.settings import examples
from tests.fuzz.strategies import mutated_text

BASE = """\
name: fuzz base
description: a call on AirPods while music plays
platform: ios-17.4
hardware: {device: iphone, hfpCodecs: [msbc, cvsd]}
app: {state: foreground, backgroundAudio: true}
accessories:
  pods: {model: airpods-pro-2, name: "Kim's AirPods", address: "AA:BB:CC:DD:EE:01", firmware: "6.8", connected: true}
others:
  music: {category: playback, playing: true}
behavior:
  callkitActionTimeout: 5s
steps:
  - session.setCategory: {category: playAndRecord, mode: voiceChat, options: [allowBluetoothHFP]}
  - session.setPreferredSampleRate: 48000
  - session.setPreferredInputNumberOfChannels: 1
  - session.setActive: true
  - wait: 250ms
  - callkit.reportIncoming: {call: c1}
  - callkit.answer: {call: c1, fulfillAfter: 0.5}
  - battery: {accessory: pods, left: 50, right: 40, case: 90}
  - ears: {accessory: pods, left: out}
  - recorder.record: {format: lpcm, sampleRate: 16000, channels: 1, duration: 2s}
  - expect:
      route: {inputs: [bluetoothHFP], outputs: [bluetoothHFP]}
      session: {sampleRate: ">8000"}
      recording: {bytes: ">1000"}
      audio: {signal: tone, frequency: 1000, duration: 0.2}
  - callkit.end: {call: c1}
  - wait: 1
"""


def test_the_base_scenario_is_valid(tmp_path):
    path = tmp_path / "base.scenario.yaml"
    path.write_text(BASE)
    assert run_cli(["run", "-q", str(path)], allowed=(0, 1)).code in (0, 1)


@examples(suite=40)
@given(data=mutated_text(BASE))
def test_a_mutated_scenario_keeps_the_promise(data):
    with tempfile.TemporaryDirectory() as d:
        path = Path(d) / "fuzz.scenario.yaml"
        path.write_bytes(data)
        run_cli(["run", "-q", str(path)])
