"""Every quirk effect of the vocabulary does what profiles/quirks.py says, end to end: a user quirk file
layered over the bundled catalog, a scenario run with it. Expectations follow the effect definitions."""
from __future__ import annotations

import textwrap

import pytest

from routesim.profiles.catalog import load_catalog
from routesim.routes.scenario.runner import run_scenario
from routesim.routes.scenario.loader import load_text

QUIRK = """\
quirks:
  - id: test-{name}
    effect: {effect}
    params: {params}
    match: {{product_ids: [0x200F]}}
    platform: ">=12"
    source: "[INF] tests/test_quirk_effects.py (a made-up quirk for the {effect} effect)"
    confidence: test
    summary: test quirk
"""

HFP = "session.setCategory: {category: playAndRecord, options: [allowBluetoothHFP]}"

CASES = [
    ("profile-refused", "{profile: hfp}", "ios-26.0", "", f"""
      - {HFP}
      - connect: pods
      - expect: {{route: {{inputs: [builtInMic], outputs: [builtInReceiver]}}, accessories: {{pods: {{profile: none}}}}}}
    """),
    ("codec-unavailable", "{codec: msbc}", "ios-26.0", "", f"""
      - {HFP}
      - connect: pods
      - expect: {{route: {{outputs: [bluetoothHFP]}}, accessories: {{pods: {{codec: cvsd}}}}, session: {{sampleRate: 8000}}}}
    """),
    ("sample-rate-forced", "{link: hfp, rate: 24000}", "ios-26.0", "", f"""
      - {HFP}
      - connect: pods
      - expect: {{route: {{outputs: [bluetoothHFP]}}, session: {{sampleRate: 24000}}}}
    """),
    ("output-fallback", "{output: builtInSpeaker}", "ios-26.0", "", """
      - session.setCategory: {category: playback}
      - connect: pods
      - expect: {route: {outputs: [builtInSpeaker]}}
    """),
    ("profile-delayed", "{profile: hfp, delay: 2s}", "ios-18.0", "", f"""
      - {HFP}
      - expect: {{notificationsInclude: [routeChange]}}
      - connect: pods
      - expect: {{route: {{outputs: [builtInReceiver]}}, notificationsExclude: [routeChange]}}
      - wait: 1.9s
      - expect: {{route: {{outputs: [builtInReceiver]}}}}
      - wait: 0.2s
      - expect:
          route: {{inputs: [bluetoothHFP], outputs: [bluetoothHFP]}}
          notifications: [{{routeChange: {{reason: newDeviceAvailable, previousRoute: {{outputs: [builtInReceiver]}}}}}}]
    """),
    ("negotiation-delay", "{delay: 1s}", "ios-26.0", "", """
      - session.setCategory: {category: playback}
      - expect: {notificationsInclude: [routeChange]}
      - connect: pods
      - expect: {route: {outputs: [builtInSpeaker]}, notifications: []}
      - wait: 1s
      - expect: {route: {outputs: [bluetoothA2DP]}, notifications: [{routeChange: {reason: newDeviceAvailable}}]}
    """),
    ("extra-route-change", "{reason: override}", "ios-18.0", "", f"""
      - {HFP}
      - expect: {{notificationsInclude: [routeChange]}}
      - connect: pods
      - expect:
          notifications:
            - routeChange: {{reason: newDeviceAvailable}}
            - routeChange: {{reason: override, previousRoute: {{outputs: [bluetoothHFP]}}}}
    """),
]


def run_with_quirk(tmp_path, name, effect, params, platform, steps):
    """Run the steps with a user quirk file holding one made-up quirk ``test-<name>`` for the pods."""
    (tmp_path / "user.yaml").write_text(QUIRK.format(name=name, effect=effect, params=params))
    catalog = load_catalog([tmp_path])
    text = f"name: {name}\nplatform: {platform}\naccessories: {{pods: {{model: airpods-2}}}}\nsteps:\n" \
        + textwrap.indent(textwrap.dedent(steps).strip("\n"), "  ") + "\n"
    (scenario,) = load_text(text, f"{name}.scenario.yaml", catalog.ids())
    return run_scenario(scenario, catalog)


@pytest.mark.parametrize("effect, params, platform, extra, steps", CASES, ids=[c[0] for c in CASES])
def test_quirk_effect(tmp_path, effect, params, platform, extra, steps):
    result = run_with_quirk(tmp_path, effect, effect, params, platform, steps)
    assert result.invalid is None, result.invalid
    failures = [(res.step.line, c.key, c.expected, c.actual) for res, c in result.failures]
    assert not failures


def test_without_the_quirk_the_same_steps_route_normally(tmp_path):
    """Control: the bundled catalog has no such quirk for this model, so HFP is used at once."""
    catalog = load_catalog()
    text = f"name: control\naccessories: {{pods: {{model: airpods-2}}}}\nsteps:\n  - {HFP}\n  - connect: pods\n" \
        "  - expect: {route: {outputs: [bluetoothHFP]}, accessories: {pods: {codec: msbc}}}\n"
    (scenario,) = load_text(text, "control.scenario.yaml", catalog.ids())
    assert run_scenario(scenario, catalog).passed


# route.quirk [INF] ("a model quirk changed the route"): explain names the quirk on the step it changed
EXPLAINED = [
    (effect, params, platform, steps) for effect, params, platform, _, steps in CASES
    if effect in ("profile-refused", "codec-unavailable", "output-fallback")
] + [
    # record takes the headset's HFP input (Doc-record, H-Types); a quirk that removes a codec shows there too
    ("codec-unavailable", "{codec: msbc}", "ios-26.0", """
      - session.setCategory: {category: record, options: [allowBluetoothHFP]}
      - connect: pods
      - expect: {route: {inputs: [bluetoothHFP]}, accessories: {pods: {codec: cvsd}}}
    """),
]


@pytest.mark.parametrize("effect, params, platform, steps", EXPLAINED, ids=[f"{c[0]}-{i}" for i, c in enumerate(EXPLAINED)])
def test_the_step_a_quirk_changes_names_it(tmp_path, effect, params, platform, steps):
    result = run_with_quirk(tmp_path, effect, effect, params, platform, steps)
    assert result.passed
    (connect,) = [res for res in result.steps if res.step.op == "connect"]
    assert "route.quirk" in connect.rules
    assert [q.id for q in connect.quirks] == [f"test-{effect}"]
