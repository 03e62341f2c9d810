"""Where the app's code runs: visionOS on a device or in the simulator, an app or an app extension.

Modelled from developer reports [DEV] (docs/sources.md; rule ids ``context.*`` in routes/phone/rules.py):

- visionOS, on a device: an AVAudioEngine whose input node is in use (a tap that monitors the input, or
  voice processing) fails to start with ``cannotStartRecording`` (561145187); the same app starts the
  engine in the simulator [DEV forum-tag-visionos-engine-input-device]. The report gives no cause, and
  apps do record on Vision Pro, so the switch ``visionDeviceEngineInput`` (``fails`` | ``starts``) keeps
  the other reading a step away [INF].
- visionOS, a Quick Look preview extension: its session cannot be activated (``setActive(true)`` fails
  with -50, ``badParam``), so its player cannot start [DEV forum-tag-visionos-quicklook-setactive]. The
  report is about visionOS; on iOS the extension kind changes nothing [INF].

The simulator flag and the extension kind change nothing else.
"""
from __future__ import annotations

from typing import Any

from routesim.routes.phone.errors import SessionError

# app.extension values a scenario may name (scenario-format addition); only quickLookPreview has a report.
EXTENSION_KINDS = ("quickLookPreview",)


def on_visionos_device(phone) -> bool:
    return phone.platform.os == "visionos" and not phone.platform.simulator


def check_engine_input(phone) -> None:
    """Called by the engine before it starts with its input node in use."""
    if phone.platform.os != "visionos":
        return
    if phone.platform.simulator:
        phone._fire("context.visionos-simulator-engine-input")
        return
    if phone.behavior["visionDeviceEngineInput"] == "fails":
        raise SessionError("cannotStartRecording", "visionOS on a device: the engine's input cannot start",
                           rule="context.visionos-device-engine-input")


def activation_guard(phone) -> None:
    """setActive(true), and every implicit activation (player, engine), in a Quick Look preview extension."""
    if phone.app.extension == "quickLookPreview" and phone.platform.os == "visionos":
        raise SessionError("badParam", "a Quick Look preview extension's session cannot be activated on visionOS",
                           rule="context.quicklook-preview-activation")


def attach(run: Any) -> None:
    run.phone.activation_guards.append(activation_guard)


HANDLERS: dict = {}  # no steps of its own: the platform and app keys drive it
