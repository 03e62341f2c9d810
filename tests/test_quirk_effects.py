"""Every quirk effect of the vocabulary does what profiles/quirks.py says, end to end: a user quirk file
layered over the bundled catalog, a scenario run with it. Expectations follow the effect definitions."""
from __future__ import annotations

import textwrap

import pytest

from routesim.profiles.catalog import load_catalog
from routesim.routes.scenario.runner import run_scenario
from routesim.routes.scenario.loader import load_text
from routesim.routes.phone.rules import RULES
from routesim.events import AccessoryInfo, Connected
from routesim.profiles.platform import Platform
from routesim.routes.live.manager import RouteManager
from routesim.routes.phone.session import Phone

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
# the connect posts newDeviceAvailable, then the quirk's extra routeChange (reason override)
EXTRA_OVERRIDE = """
      - {setup}
      - expect: {{notificationsInclude: [routeChange]}}
      - connect: pods
      - expect:
          notifications:
            - routeChange: {{reason: newDeviceAvailable}}
            - routeChange: {{reason: override, previousRoute: {{outputs: [bluetoothHFP]}}}}
"""

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
    ("extra-route-change", "{reason: override}", "ios-18.0", "", EXTRA_OVERRIDE.format(setup=HFP)),
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


# --- several quirks at once, `when` clauses, and the rules a quirk's step fires -------------------------------
# Each row: the quirks (effect, params, when), the platform, the steps. Expectations follow the effect
# definitions in profiles/quirks.py (profile-delayed: "the profile comes up only after the delay";
# negotiation-delay: "profile/codec negotiation takes this long", so every profile; extra-route-change: "an
# additional route-change notification with this reason"), the `when` clause (session_matches: category, mode
# and options must all match), and Doc-RouteChangeReason (routeConfigurationChange: the route's
# configuration changed, here a device already in the route gained a profile).

A2DP_TOO = "session.setCategory: {category: playAndRecord, options: [allowBluetoothHFP, allowBluetoothA2DP]}"
VOICE = "session.setCategory: {category: playAndRecord, mode: voiceChat, options: [allowBluetoothHFP]}"
ONLY_VOICE_HFP = "{category: [playAndRecord], mode: [voiceChat], options_include: [allowBluetoothHFP]}"
HFP_AFTER = """
      - {setup}
      - expect: {{notificationsInclude: [routeChange]}}
      - connect: pods
      - expect: {{route: {{inputs: [builtInMic], outputs: [builtInReceiver]}}, notifications: []}}
      - wait: {before}
      - expect: {{route: {{outputs: [builtInReceiver]}}}}
      - wait: {rest}
      - expect: {{route: {{inputs: [bluetoothHFP], outputs: [bluetoothHFP]}},
                 notificationsInclude: [{{routeChange: {{reason: newDeviceAvailable}}}}]}}
"""
NO_EXTRA = f"""
      - {HFP}
      - expect: {{notificationsInclude: [routeChange]}}
      - connect: pods
      - expect: {{notifications: [{{routeChange: {{reason: newDeviceAvailable}}}}]}}
"""

SEVERAL = {
    # two delays of one profile: it waits for the longer
    "two-delays-of-one-profile-take-the-longer": (
        [("profile-delayed", "{profile: hfp, delay: 2s}", "{}"), ("profile-delayed", "{profile: hfp, delay: 1s}", "{}")],
        HFP_AFTER.format(setup=HFP, before="1.9s", rest="0.2s"), "route.quirk"),
    # a delay shorter than a second is that long, not rounded up
    "a-sub-second-profile-delay": (
        [("profile-delayed", "{profile: hfp, delay: 400ms}", "{}")],
        HFP_AFTER.format(setup=HFP, before="0.3s", rest="0.1s"), "route.quirk"),
    # negotiation delays every profile, HFP as much as A2DP
    "negotiation-delay-holds-hfp-too": (
        [("negotiation-delay", "{delay: 400ms}", "{}")],
        HFP_AFTER.format(setup=HFP, before="0.3s", rest="0.1s"), "route.quirk"),
    # a profile delay and a negotiation delay: the longer one holds the profile
    "profile-and-negotiation-delay-take-the-longer": (
        [("profile-delayed", "{profile: hfp, delay: 2s}", "{}"), ("negotiation-delay", "{delay: 1s}", "{}")],
        HFP_AFTER.format(setup=HFP, before="1.9s", rest="0.2s"), "route.quirk"),
    # a zero delay for one profile does not drop the next profile's delay
    "a-zero-delay-keeps-the-next-delay": (
        [("profile-delayed", "{profile: a2dp, delay: 0s}", "{}"), ("profile-delayed", "{profile: hfp, delay: 1s}", "{}")],
        HFP_AFTER.format(setup=HFP, before="0.9s", rest="0.1s"), "route.quirk"),
    # a zero delay is no delay: the profile is up at once
    "a-zero-delay-is-none": (
        [("profile-delayed", "{profile: hfp, delay: 0s}", "{}")], f"""
      - {HFP}
      - connect: pods
      - expect: {{route: {{inputs: [bluetoothHFP], outputs: [bluetoothHFP]}}}}
    """, None),
    # HFP delayed on AirPods whose A2DP the route already uses: the profile coming up changes the configuration
    # of the route it is in (routeConfigurationChange), it is no new device
    "a-delayed-profile-of-a-device-in-the-route": (
        [("profile-delayed", "{profile: hfp, delay: 1s}", "{}")], f"""
      - {A2DP_TOO}
      - connect: pods
      - expect: {{route: {{inputs: [builtInMic], outputs: [bluetoothA2DP]}}}}
      - wait: 1s
      - expect:
          route: {{inputs: [bluetoothHFP], outputs: [bluetoothHFP]}}
          notificationsInclude: [{{routeChange: {{reason: routeConfigurationChange, previousRoute: {{outputs: [bluetoothA2DP]}}}}}}]
          notificationsExclude: [{{routeChange: {{reason: newDeviceAvailable}}}}]
    """, "route.quirk"),
    # a quirk for one category, mode and option applies in that configuration...
    "a-quirk-for-voice-chat-with-hfp": (
        [("extra-route-change", "{reason: override}", ONLY_VOICE_HFP)], EXTRA_OVERRIDE.format(setup=VOICE), "route.quirk"),
    # a refused A2DP in playback: the device gives no output link, the speaker plays (profile-refused: "the
    # device refuses the profile when the phone asks for it"; route.output-only-last-in: else the speaker)
    "a-refused-a2dp-leaves-playback-on-the-speaker": ([("profile-refused", "{profile: a2dp}", "{}")], """
      - session.setCategory: {category: playback}
      - connect: pods
      - expect: {route: {outputs: [builtInSpeaker]}}
    """, "route.quirk"),
    # a quirk the policy applies (a refused profile) for one mode: in that mode HFP is refused...
    "a-refusal-for-voice-chat-in-voice-chat": ([("profile-refused", "{profile: hfp}", ONLY_VOICE_HFP)], f"""
      - {VOICE}
      - connect: pods
      - expect: {{route: {{inputs: [builtInMic], outputs: [builtInReceiver]}}}}
    """, "route.quirk"),
    # ...and in the default mode HFP comes up
    "a-refusal-for-voice-chat-not-in-the-default-mode": ([("profile-refused", "{profile: hfp}", ONLY_VOICE_HFP)], f"""
      - {HFP}
      - connect: pods
      - expect: {{route: {{inputs: [bluetoothHFP], outputs: [bluetoothHFP]}}}}
    """, None),
    # ...and not in another mode, or without the option
    "not-in-another-mode": ([("extra-route-change", "{reason: override}", ONLY_VOICE_HFP)], NO_EXTRA, None),
    "not-in-another-category": ([("extra-route-change", "{reason: override}", "{category: [playback]}")], NO_EXTRA, None),
    "not-without-the-option": (
        [("extra-route-change", "{reason: override}", "{options_include: [allowBluetoothA2DP]}")], NO_EXTRA, None),
}


def _run_with(tmp_path, quirks, steps, platform="ios-18.0"):  # before availableInputsChange (iOS 26)
    text = "quirks:\n" + "".join(
        QUIRK.split("\n", 1)[1].format(name=f"{effect}-{i}", effect=effect, params=params).replace(
            "    platform:", f"    when: {when}\n    platform:")
        for i, (effect, params, when) in enumerate(quirks))
    (tmp_path / "user.yaml").write_text(text)
    catalog = load_catalog([tmp_path])
    body = f"name: t\nplatform: {platform}\naccessories: {{pods: {{model: airpods-2}}}}\nsteps:\n" \
        + textwrap.indent(textwrap.dedent(steps).strip("\n"), "  ") + "\n"
    (scenario,) = load_text(body, "t.scenario.yaml", catalog.ids())
    result = run_scenario(scenario, catalog)
    assert result.invalid is None, result.invalid
    assert not [(res.step.line, c.key, c.expected, c.actual) for res, c in result.failures]
    return result


@pytest.mark.parametrize("quirks, steps, rule", SEVERAL.values(), ids=SEVERAL.keys())
def test_quirks_together(tmp_path, quirks, steps, rule):
    result = _run_with(tmp_path, quirks, steps)
    (connect,) = [s for s in result.steps if s.step.op == "connect"]
    # what explain shows for the connect step: every rule a listed one, and route.quirk where a quirk acted,
    # on the extra routeChange too
    assert set(connect.rules) <= set(RULES), connect.rules
    assert (rule in connect.rules) if rule else ("route.quirk" not in connect.rules), connect.rules
    extra = [n for s in result.steps for n in s.notifications
             if n.name == "routeChange" and n.fields.get("reason") == "override"]
    assert all(n.rule == "route.quirk" for n in extra)


def test_a_zero_delay_sets_no_timer(tmp_path):
    """A delay of 0 (the validator allows 0 to 600 s) is no delay: the profile is up in the connect step
    itself and no timer is set for it, on a live rig's wall clock as in a scenario."""
    (tmp_path / "user.yaml").write_text("quirks:\n" + "".join(
        QUIRK.split("\n", 1)[1].format(name=f"zero-{i}", effect=effect, params=params)
        for i, (effect, params) in enumerate([("profile-delayed", "{profile: hfp, delay: 0s}"),
                                              ("negotiation-delay", "{delay: 0ms}")])))
    timers: list[float] = []
    phone = Phone(platform=Platform.parse("ios-18.0"), schedule=lambda delay, fn: timers.append(delay))
    manager = RouteManager(phone, load_catalog([tmp_path]))
    phone.set_category("playAndRecord", "default", ("allowBluetoothHFP",))
    manager.dispatch(Connected(AccessoryInfo("pods", "airpods-2", "AirPods", "AA:BB:CC:DD:EE:01", None)))
    assert {q.effect for q in phone.accessories["pods"].quirks} >= {"profile-delayed", "negotiation-delay"}
    assert timers == []
    assert phone.route.types() == (("bluetoothHFP",), ("bluetoothHFP",))


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


def test_opening_the_case_connects_the_buds_so_the_negotiation_starts_then(tmp_path):
    """case: open connects the buds (scenario contract), so a negotiation delay runs from the opening: buds put
    in at once wait for it like any connect (negotiation-delay: "profile/codec negotiation takes this long")."""
    _run_with(tmp_path, [("negotiation-delay", "{delay: 1s}", "{}")], """
      - session.setCategory: {category: playback}
      - ears: {accessory: pods, case: open}
      - ears: {accessory: pods, left: in, right: in}
      - expect: {route: {outputs: [builtInSpeaker]}}
      - wait: 1s
      - expect: {route: {outputs: [bluetoothA2DP]}, notifications: [{routeChange: {reason: newDeviceAvailable}}]}
    """)


def test_a_forced_rate_names_its_quirk_on_the_connect(tmp_path):
    """explain shows the quirk that set the rate, and route.quirk among the connect's rules."""
    result = run_with_quirk(tmp_path, "rate", "sample-rate-forced", "{link: hfp, rate: 24000}", "ios-26.0", f"""
      - {HFP}
      - connect: pods
      - expect: {{session: {{sampleRate: 24000}}}}
    """)
    (connect,) = [s for s in result.steps if s.step.op == "connect"]
    assert [q.id for q in connect.quirks] == ["test-rate"]
    assert "route.quirk" in connect.rules, connect.rules
