"""A newly connected microphone takes the input even with a preference set, and preferredInput then reads nil
([DEV forum-737196], rule route.preferred-input-lost). One row per connect: the preference before it, what
connects, the preference after it, and whether the rule fired. Only a device that brings an input the
category can use takes over; without a preference there is nothing to lose."""
from __future__ import annotations

import textwrap

import pytest

from routesim.profiles.catalog import default_catalog
from routesim.routes.scenario.loader import load_text
from routesim.routes.scenario.runner import run_scenario

CATALOG = default_catalog()
LOST = "route.preferred-input-lost"

# id -> (category, preferred input before (an accessory id, builtInMic or null), model that connects,
#        preferredInput after, whether the connect fires the rule)
ROWS = {
    "a-headset-mic-takes-over-a-preferred-built-in-mic": (
        "{category: playAndRecord, options: [allowBluetoothHFP]}", "builtInMic", "generic-headset", None, True),
    "a-wired-headset-mic-takes-over-a-preferred-usb-mic": (
        "{category: playAndRecord}", "usb", "wired-headset", None, True),
    "headphones-without-a-mic-leave-the-preference": (
        "{category: playAndRecord}", "usb", "wired-headphones", "usb", False),
    "a-speaker-without-a-mic-leaves-the-preference": (
        "{category: playAndRecord, options: [allowBluetoothA2DP]}", "builtInMic", "generic-speaker", "builtInMic",
        False),
    "no-preference-nothing-to-lose": (
        "{category: playAndRecord, options: [allowBluetoothHFP]}", None, "generic-headset", None, False),
}


@pytest.mark.parametrize("category, before, model, after, fired", ROWS.values(), ids=ROWS.keys())
def test_a_new_microphone_and_the_preferred_input(category, before, model, after, fired):
    text = textwrap.dedent(f"""\
        name: t
        accessories:
          usb: {{model: usb-audio, connected: true}}
          new: {{model: {model}}}
        steps:
          - session.setCategory: {category}
          - session.setActive: true
          - session.setPreferredInput: {before if before else "null"}
          - connect: new
          - expect:
              session: {{preferredInput: {after if after else "null"}}}
        """)
    (scenario,) = load_text(text, "t.scenario.yaml", CATALOG.ids())
    result = run_scenario(scenario, CATALOG)
    assert result.invalid is None, result.invalid
    assert not [(c.key, c.expected, c.actual) for _, c in result.failures]
    (connect,) = [s for s in result.steps if s.step.op == "connect"]
    assert (LOST in connect.rules) == fired, connect.rules
