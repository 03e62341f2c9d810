"""Head detection (AirPods Max) in the session model: the worn step per model and switch, and the one-line
error for a model without it. Expected routes follow the route.head-off rule's sources (see its scenario)."""
from __future__ import annotations

import pytest

from routesim.routes.cli.main import main

CASE = """\
name: worn
behavior: {{headOffLeavesRoute: {switch}}}
accessories:
  h: {{model: {model}, connected: true}}
steps:
  - session.setCategory: {{category: playback}}
  - session.setActive: true
  - worn: {{accessory: h, worn: false}}
  - expect:
      route: {{outputs: [{output}]}}
      accessories: {{h: {{worn: false}}}}
"""


@pytest.mark.parametrize("model,switch,output", [
    ("airpods-max", "false", "bluetoothA2DP"),  # default: the route stays
    ("airpods-max-2", "false", "bluetoothA2DP"),
    ("airpods-max", "true", "builtInSpeaker"),  # switch: as both buds out
    ("airpods-max-usbc", "true", "builtInSpeaker"),
])
def test_taking_headphones_off(tmp_path, capsys, model, switch, output):
    path = tmp_path / "w.scenario.yaml"
    path.write_text(CASE.format(model=model, switch=switch, output=output))
    assert main(["run", "-q", str(path)]) == 0, capsys.readouterr().out


@pytest.mark.parametrize("model", ["airpods-pro", "beats-solo-4", "generic-headset"])
def test_worn_on_a_model_without_head_detection_is_refused(tmp_path, capsys, model):
    path = tmp_path / "w.scenario.yaml"
    path.write_text(CASE.format(model=model, switch="false", output="bluetoothA2DP"))
    assert main(["run", "-q", str(path)]) == 2
    assert "has no head detection; use 'ears' for earbuds" in capsys.readouterr().out
