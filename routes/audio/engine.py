"""AVAudioEngine as the app's session sees it: node formats, start/stop, the input tap, and
AVAudioEngineConfigurationChange.

What is modelled ([DOC Doc-AVAudioEngineConfigurationChange, Doc-voiceChat]; the decisions in
docs/scenario-format.md):

- ``inputNode.inputFormat(forBus: 0)`` reads the hardware's current input format: the session's sample
  rate and input channel count, or 0 Hz / 0 channels when the category has no input or the session is
  inactive ([DEV gh:harmony-one/x#160, gh:deeeed/audiolab#218], [DOC H-Session17: getters return 0]).
- ``outputNode.outputFormat(forBus: 0)`` reads the hardware output format: the session's rate and the
  output channel count [INF].
- ``start`` activates an inactive session implicitly ([DOC ASPG-Activate]); when the input node is used (a
  tap, or voice processing) it checks the input: an invalid hardware input format raises the
  IsFormatSampleRateAndChannelCountValid exception, and a tap whose format was taken at another rate
  raises ``format.sampleRate == hwFormat.sampleRate`` ([DEV gh:AudioKit/AudioKit#2030, forum-688686]).
- ``installTap`` checks the tap's format against the hardware input format at that moment; a second tap
  raises (scenario-format; the ``nullptr == Tap()`` text is the one developers report).
- A route change that changes the hardware sample rate or a channel count while the engine runs posts
  ``engineConfigurationChange`` after the ``routeChange`` and stops the engine; nodes and the tap keep
  the formats they had ([DOC Doc-AVAudioEngineConfigurationChange], [INF]).
- ``setVoiceProcessingEnabled(true)`` sets the voiceChat mode implicitly unless the mode is already a
  chat mode ([DOC QA1803]); it uses the input node.
- An interruption, a deactivation and a media-services reset stop the engine ([DOC H-Types, ASPG-Int]; [INF]).

The model is synchronous and lives on one ``Phone``; the scenario runner attaches it per run
(``attach``) and serves ``expect: engine`` from ``Engine.view``.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from routesim.routes.phone.config import CHAT_MODES, Configuration
from routesim.routes.phone import contexts
from routesim.routes.phone.errors import AppException
from routesim.routes.phone.policy import Decision
from routesim.routes.phone.session import Phone

EXC_RATE = "required condition is false: format.sampleRate == hwFormat.sampleRate"
EXC_INVALID = "required condition is false: IsFormatSampleRateAndChannelCountValid(format)"
EXC_INPUT_HW_INVALID = "Input HW format is invalid"
EXC_SECOND_TAP = "required condition is false: nullptr == Tap()"


@dataclass(frozen=True, slots=True)
class Format:
    """An AVAudioFormat reduced to what the session's checks look at."""

    sample_rate: float
    channels: int

    @property
    def valid(self) -> bool:
        return self.sample_rate > 0 and self.channels > 0

    def as_dict(self) -> dict[str, Any]:
        rate = self.sample_rate
        return {"sampleRate": int(rate) if float(rate).is_integer() else rate, "channels": self.channels}

    def __str__(self) -> str:
        return f"{self.sample_rate:g} Hz, {self.channels} ch"


def hardware_formats(decision: Decision, config: Configuration) -> tuple[int, int, int]:
    """(sample rate, input channels, output channels) the I/O unit sees for a route decision. The
    engine compares these before and after a route change ([DOC Doc-AVAudioEngineConfigurationChange]: "channel count or sample rate")."""
    route = decision.route
    ins = route.inputs[0].channels if (route.inputs and config.has_input) else 0
    outs = route.outputs[0].channels if route.outputs else 0
    return decision.sample_rate, ins, outs


class Engine:
    """The app's one AVAudioEngine (an input node, an output node, at most one tap on input bus 0)."""

    def __init__(self, phone: Phone):
        self.phone = phone
        self.running = False
        self.tap: Format | None = None
        self.voice_processing = False
        self.configuration_changes = 0
        self.started = False  # ever started: only then is "no change for a stopped engine" worth explaining
        phone.observers.append(self)
        phone.listeners.append(self._route_changed)
        previous = phone.io_running
        phone.io_running = lambda: previous() or self.running

    # ------------------------------------------------------------------ what the app reads
    def input_format(self) -> Format:
        """inputNode.inputFormat(forBus: 0): the hardware input format now."""
        phone = self.phone
        if not phone.active or not phone.config.has_input:
            phone._fire("engine.input-format-zero")
            return Format(0.0, 0)
        channels = phone.input_channels
        if channels == 0:
            phone._fire("engine.input-format-zero")
            return Format(0.0, 0)
        phone._fire("engine.formats-follow-route")
        return Format(float(phone.sample_rate), channels)

    def output_format(self) -> Format:
        """outputNode.outputFormat(forBus: 0): the hardware output format now."""
        phone = self.phone
        phone._fire("engine.formats-follow-route")
        return Format(float(phone.sample_rate), phone.output_channels)

    @property
    def uses_input(self) -> bool:
        return self.tap is not None or self.voice_processing

    def view(self) -> dict[str, Any]:
        return {
            "running": self.running,
            "inputFormat": self.input_format().as_dict(),
            "outputFormat": self.output_format().as_dict(),
            "tapFormat": self.tap.as_dict() if self.tap else None,
            "voiceProcessingEnabled": self.voice_processing,
        }

    # ------------------------------------------------------------------ what the app does
    def start(self) -> None:
        phone = self.phone
        if self.running:
            return
        if not phone.active:
            phone._activate()  # may raise SessionError (background, call priority): start returns the error
            phone._fire("activate.implicit", "engine.start-activates")
        if self.uses_input:
            contexts.check_engine_input(phone)  # visionOS: device versus simulator [DEV]
            hw = self.input_format()
            if not hw.valid:
                phone._fire("engine.start-invalid-input")
                raise AppException(f"{EXC_INPUT_HW_INVALID}: {EXC_INVALID} (input {hw})")
            if self.tap is not None and self.tap.sample_rate != hw.sample_rate:
                phone._fire("engine.stale-tap-crashes")
                raise AppException(f"{EXC_RATE} (tap format {self.tap}, hardware input {hw})")
        self.running = True
        self.started = True

    def stop(self) -> None:
        self.running = False

    def install_tap(self, fmt: str | dict[str, Any] = "hardware") -> None:
        phone = self.phone
        if self.tap is not None:
            phone._fire("engine.second-tap")
            raise AppException(f"{EXC_SECOND_TAP} (a tap is already installed on bus 0)")
        hw = self.input_format()
        wanted = hw if fmt == "hardware" else Format(float(fmt["sampleRate"]), int(fmt["channels"]))
        if not hw.valid or not wanted.valid:
            phone._fire("engine.tap-invalid-format")
            raise AppException(f"{EXC_INVALID} (input {hw})")
        if wanted.sample_rate != hw.sample_rate:
            phone._fire("engine.tap-rate-mismatch")
            raise AppException(f"{EXC_RATE} (tap format {wanted}, hardware input {hw})")
        phone._fire("engine.tap-installed")
        self.tap = wanted

    def remove_tap(self) -> None:
        self.tap = None

    def set_voice_processing(self, enabled: bool) -> None:
        phone = self.phone
        self.voice_processing = enabled
        if not enabled:
            return
        config = phone.config
        if config.category != "playAndRecord":
            # voiceChat is valid only in playAndRecord ([DOC H-Types]); the mode is left alone [INF].
            phone._fire("engine.voice-processing-other-category")
            return
        if config.mode in CHAT_MODES:
            phone._fire("engine.voice-processing-keeps-chat-mode")
            return
        phone._fire("engine.voice-processing-voicechat")
        new = Configuration(config.category, "voiceChat", config.explicit)

        def mutate() -> None:
            phone.config = new

        phone._change(mutate, "categoryChange")
        if phone.pending and phone.pending[-1].name == "routeChange":
            phone._fire("notify.config-route-change")

    # ------------------------------------------------------------------ what happens to it
    def _route_changed(self, phone: Phone, old: Decision, new: Decision) -> None:
        if not self.running:
            if self.started and hardware_formats(old, _config(phone)) != hardware_formats(new, _config(phone)):
                phone._fire("engine.config-change-only-while-running")
            return
        if hardware_formats(old, _config(phone)) == hardware_formats(new, _config(phone)):
            return
        self.running = False
        self.configuration_changes += 1
        phone.post("engineConfigurationChange", "engine.configuration-change")
        phone._fire("engine.nodes-keep-formats")

    def on_interrupted(self) -> None:
        if self.running:
            self.phone._fire("engine.stops-on-interruption")
        self.running = False

    def on_deactivated(self) -> None:
        if self.running:
            self.phone._fire("engine.stops-on-interruption")
        self.running = False

    def on_media_reset(self) -> None:
        self.running = False


# ---------------------------------------------------------------------- scenario runner glue
def attach(run) -> None:
    engine = Engine(run.phone)
    run.engine = engine
    run.extras["engine"] = engine.view


def _config(phone: Phone) -> Configuration:
    """The configuration the route follows (a CallKit call's system session, when routes.callkit sets one)."""
    return getattr(phone, "call_config", None) or phone.config
