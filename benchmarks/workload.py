"""A long, realistic scenario for the throughput benchmarks: rounds of connects and disconnects, category
and mode changes, activation, a CallKit call that moves AirPods to HFP and back, ears out and in, another
app's music, a wired headset, each round checked with expectations. Every file stays under the loader's
limits (bytes and values per document), so the benchmark measures what users can run."""
from __future__ import annotations

HEADER = """\
name: "benchmark workload {doc}: rounds of connects, category changes, calls, ears and other apps"
description: A generated workload for benchmarks/ (not a behaviour claim).
platform: ios-18.0
accessories:
  pods: {{model: airpods-pro-2}}
  wired: {{model: wired-headset}}
others:
  music: {{category: playback}}
steps:
"""

ROUND = """\
  - connect: pods
  - session.setCategory: {{category: playback}}
  - session.setActive: true
  - expect:
      route: {{outputs: [bluetoothA2DP]}}
  - session.setCategory: {{category: playAndRecord, options: [allowBluetoothA2DP]}}
  - expect:
      route: {{inputs: [builtInMic], outputs: [bluetoothA2DP]}}
  - session.setMode: voiceChat
  - expect:
      route: {{inputs: [bluetoothHFP], outputs: [bluetoothHFP]}}
  - session.setCategory: {{category: playback}}
  - callkit.reportIncoming: call{n}
  - session.setCategory: {{category: playAndRecord, mode: voiceChat}}
  - callkit.answer: call{n}
  - expect:
      calls: {{call{n}: active}}
      route: {{outputs: [bluetoothHFP]}}
  - wait: 0.5
  - callkit.end: call{n}
  - ears: {{accessory: pods, left: out, right: out}}
  - ears: {{accessory: pods, left: in, right: in}}
  - session.setCategory: {{category: playback}}
  - session.setActive: false
  - others.play: music
  - others.stop: music
  - connect: wired
  - expect:
      route: {{outputs: [headphones]}}
  - disconnect: wired
  - disconnect: pods
  - expect:
      route: {{outputs: [builtInSpeaker]}}
"""

STEPS_PER_ROUND = sum(1 for line in ROUND.splitlines() if line.startswith("  - "))


def document(doc: int, rounds: int) -> str:
    return HEADER.format(doc=doc) + "".join(ROUND.format(n=f"{doc}x{r}") for r in range(rounds))


def workload(documents: int = 2, rounds: int = 100) -> tuple[str, int]:
    """The file's text and its step count (several documents: each stays under the per-document limit)."""
    text = "---\n".join(document(d, rounds) for d in range(documents))
    return text, documents * rounds * STEPS_PER_ROUND
