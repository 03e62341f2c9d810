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


WORN_READ = """\
name: worn read back
accessories:
  h: {{model: {model}, connected: true}}
steps:
  - session.setCategory: {{category: playback}}
  - expect:
      accessories: {{h: {{worn: true}}}}
"""


@pytest.mark.parametrize("model, status", [
    ("airpods-max", 0),  # connected headphones start worn
    ("airpods-pro", 1),  # no head detection: worn reads null, so expecting true fails
    ("beats-solo-4", 1),
])
def test_worn_reads_null_on_a_model_without_head_detection(tmp_path, capsys, model, status):
    path = tmp_path / "w.scenario.yaml"
    path.write_text(WORN_READ.format(model=model))
    assert main(["run", "-q", str(path)]) == status
    if status:
        assert "accessories.h.worn: expected true, got null" in capsys.readouterr().out
