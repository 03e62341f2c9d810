"""visionOS device versus simulator, and a Quick Look preview extension, as table rows.

Each row's expectation comes from the report its comment cites (keys in docs/sources.md), not from the
model: the platform and the app's context, a short list of actions, the error the last action returns (or
None) and whether the engine runs and the session is active afterwards.
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field

import pytest

from routesim import Phone
from routesim.profiles.platform import Platform
from routesim.routes.phone.errors import SessionError
from routesim.routes.phone.session import AppState

MONITOR = ("category", "activate", "tap", "start")  # playAndRecord, active, tap at the hardware format, start
PLAY = ("playback", "activate")


@dataclass
class Row:
    id: str
    platform: str
    simulator: bool
    actions: tuple[str, ...]
    error: str | None
    running: bool | None = None
    active: bool | None = None
    extension: str | None = None
    behavior: dict = field(default_factory=dict)


ROWS = [
    # [DEV forum-tag-visionos-engine-input-device]: starts in the simulator, fails on the device with '!rec'
    Row("visionos-simulator-engine-input-starts", "visionos-2.0", True, MONITOR, None, running=True),
    Row("visionos-device-engine-input-fails", "visionos-2.0", False, MONITOR, "cannotStartRecording", running=False),
    # [INF] the switch's other reading
    Row("visionos-device-engine-input-switch-starts", "visionos-2.0", False, MONITOR, None, running=True,
        behavior={"visionDeviceEngineInput": "starts"}),
    # [INF] the report is about visionOS: iOS devices are unchanged
    Row("ios-device-engine-input-starts", "ios-26.0", False, MONITOR, None, running=True),
    # [DEV forum-tag-visionos-quicklook-setactive]: setActive fails with -50; the player's activation too
    Row("visionos-quicklook-setactive-fails", "visionos-2.0", False, PLAY, "badParam", active=False,
        extension="quickLookPreview"),
    Row("visionos-quicklook-player-fails", "visionos-2.0", False, ("playback", "player"), "badParam", active=False,
        extension="quickLookPreview"),
    Row("visionos-quicklook-simulator-fails-too", "visionos-2.0", True, PLAY, "badParam", active=False,
        extension="quickLookPreview"),
    # [INF] no report for iOS, nor for a plain visionOS app
    Row("ios-quicklook-activates", "ios-26.0", False, PLAY, None, active=True, extension="quickLookPreview"),
    Row("visionos-app-activates", "visionos-2.0", False, PLAY, None, active=True),
]


def run_row(row: Row) -> tuple[Phone, str | None]:
    platform = dataclasses.replace(Platform.parse(row.platform), simulator=row.simulator)
    app = AppState(context="extension" if row.extension else "app", extension=row.extension)
    phone = Phone(platform=platform, behavior=row.behavior, app=app)
    steps = {
        "category": lambda: phone.set_category("playAndRecord"),
        "playback": lambda: phone.set_category("playback"),
        "activate": lambda: phone.set_active(True),
        "tap": lambda: phone.engine.install_tap("hardware"),
        "start": lambda: phone.engine.start(),
        "player": lambda: phone.player(True),
    }
    for i, action in enumerate(row.actions):
        try:
            steps[action]()
        except SessionError as e:
            assert i == len(row.actions) - 1, f"{action} failed before the last action: {e}"
            return phone, e.name
    return phone, None


@pytest.mark.parametrize("row", ROWS, ids=[r.id for r in ROWS])
def test_context_row(row: Row):
    phone, error = run_row(row)
    assert error == row.error
    if row.running is not None:
        assert phone.parts.engine.running is row.running
    if row.active is not None:
        assert phone.model.active is row.active


def test_reports_say_when_a_scenario_ran_in_the_simulator(tmp_path):
    import io
    import json

    from routesim.profiles.catalog import default_catalog
    from routesim.routes.scenario.loader import load_text
    from routesim.routes.scenario.report import as_json, timeline
    from routesim.routes.scenario.runner import run_scenario

    text = ("name: sim\nplatform: {os: visionos-2.0, simulator: true}\nsteps: []\n---\n"
            "name: device\nplatform: visionos-2.0\nsteps: []\n")
    catalog = default_catalog()
    sim, device = (run_scenario(s, catalog) for s in load_text(text, "p.scenario.yaml", catalog.ids()))
    out = io.StringIO()
    timeline(sim, out)
    timeline(device, out)
    headers = [line for line in out.getvalue().splitlines() if line.startswith("──")]
    assert headers[0].endswith("[visionos-2.0 simulator, iphone]") and headers[1].endswith("[visionos-2.0, iphone]")
    assert json.loads(json.dumps(as_json(sim)))["simulator"] is True
    assert "simulator" not in as_json(device)
