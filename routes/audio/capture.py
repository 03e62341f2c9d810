"""AVCaptureSession with an audio input, as far as the app's audio session is concerned.

[DOC Doc-AVCaptureSession] and the scenario format's decision:

- ``automaticallyConfiguresApplicationAudioSession: true`` (the default): starting the capture session
  sets the app's session to playAndRecord for recording, without ``mixWithOthers`` unless
  ``configuresApplicationAudioSessionToMixWithOthers`` is true (that property exists from iOS 18), and
  activates it, interrupting non-mixable other audio. A category change posts ``routeChange``
  (``categoryChange``) like the app's own ``setCategory``. routesim sets mode ``default`` and no other
  option: Doc-AVCaptureSession names none [INF].
- ``false``: the capture session uses the session as the app left it (category, mode, options); it is
  activated implicitly if it is not active, as recording does ([DOC ASPG-Activate]).
- Stopping an automatically configuring capture session puts the app's own configuration back (our
  reading of the second camera report [DEV forum-tag-camera-cuts-music]: "reconfigured the session on start and stop" [INF]);
  other audio that the capture's configuration interrupted is told it may resume, and a session the
  capture session activated is deactivated again [INF].
- Starting one while one runs is a scenario error (scenario-format); so is
  ``configuresApplicationAudioSessionToMixWithOthers: true`` before iOS 18 (the property does not exist).
"""
from __future__ import annotations

from typing import Any

from routesim.routes.phone.config import Configuration
from routesim.routes.phone.errors import StepError
from routesim.routes.phone.others import INTERRUPTED, PLAYING
from routesim.routes.phone.session import Phone


class Capture:
    def __init__(self, phone: Phone):
        self.phone = phone
        self.running = False
        self.auto = True
        self.saved: Configuration | None = None
        self.activated_session = False
        self.interrupted: set[str] = set()
        phone.observers.append(self)
        previous = phone.io_running
        phone.io_running = lambda: previous() or self.running

    def start(self, auto: bool = True, mix: bool = False) -> None:
        phone = self.phone
        if self.running:
            raise StepError("a capture session is already running; stop it first")
        if mix and not phone.platform.at_least(18):
            raise StepError("configuresApplicationAudioSessionToMixWithOthers exists from iOS 18 "
                            f"(this scenario runs {phone.platform})")
        self.auto, self.saved, self.interrupted = auto, None, set()
        self.activated_session = not phone.active
        before = {k for k, o in phone.others.items() if o.state == INTERRUPTED}
        if auto:
            self.saved = phone.config
            phone._fire("capture.auto-configures")
            if mix:
                phone._fire("capture.mix-with-others")
            phone.set_category("playAndRecord", "default", ("mixWithOthers",) if mix else ())
            if phone.active:
                phone._apply_activation_to_others()  # the new configuration may no longer mix
            else:
                phone._activate()
        else:
            phone._fire("capture.uses-app-session")
            if not phone.active:
                phone._activate()
                phone._fire("activate.implicit")
        self.interrupted = {k for k, o in phone.others.items() if o.state == INTERRUPTED} - before
        self.running = True

    def stop(self) -> None:
        phone = self.phone
        if not self.running:
            return
        self.running = False
        if not self.auto or self.saved is None:
            return
        saved, self.saved = self.saved, None
        phone._fire("capture.restores-on-stop")
        phone.set_category(saved.category, saved.mode, tuple(sorted(saved.explicit)))
        for key in self.interrupted:
            other = phone.others.get(key)
            if other is not None and other.state == INTERRUPTED and other.interrupted_by == "app":
                other.state, other.interrupted_by = PLAYING, None
                phone._fire("activate.others-resume")
        self.interrupted = set()
        if self.activated_session and phone.active and not phone.io_running():
            phone._deactivate(False)

    def view(self) -> dict[str, Any]:
        return {"running": self.running, "automaticallyConfiguresApplicationAudioSession": self.auto}

    def on_interrupted(self) -> None:
        self.running = False

    def on_media_reset(self) -> None:
        self.running = False
        self.saved = None


def attach(run) -> None:
    capture = Capture(run.phone)
    run.capture = capture
    run.extras["capture"] = capture.view
