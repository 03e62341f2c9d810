"""The behaviour switches: where sources disagree, one reading is the default and the other a switch away.

A scenario's ``behavior:`` block overrides these per scenario (docs/scenario-format.md lists each
switch with its sources). This is the one definition of their defaults.
"""
from __future__ import annotations

from types import MappingProxyType
from typing import Any, Mapping

DEFAULT_BEHAVIOR: Mapping[str, Any] = MappingProxyType({
    "setModeClearsOptions": True,               # False: setMode keeps the explicit options
    "headsetOverridesDefaultToSpeaker": True,   # False: defaultToSpeaker keeps the speaker with a headset
    "invalidOptionError": "badParam",            # or "unspecified"
    "callkitManualActivation": "refuse",         # or "lenient"
    "interruptionEndedAfterAnsweredCall": True,
    "phoneCallsInterruptMixable": True,
    "callkitActionTimeout": 10.0,                # seconds
    "callkitDropsDidActivate": False,
    "headOffLeavesRoute": False,                 # True: headphones taken off leave the route, like both buds out
    "visionDeviceEngineInput": "fails",          # or "starts": visionOS device, engine with its input in use
})
