"""AVAudioRecorder as the app's session sees it: implicit activation, the 0-channel source, file sizes.

``recorder.record: {format, sampleRate, channels, duration}`` records for the duration on the virtual
clock (the step never fails; the outcome is read with ``expect: recording``):

1. An inactive session is activated first, as playing or recording does
   [DOC ASPG-Activate]. If that activation is refused (background, a call holds
   priority), ``record()`` returns NO: no file, ``success: false``, ``error`` the activation's error [INF].
2. The settings are checked: AAC takes the MPEG-4 AAC sample rates (8 to 48 kHz) only; another rate makes
   the converter fail with ``'fmt?'`` (kAudioFormatUnsupportedDataFormatError, 1718449215), no file
   [INF: Core Audio's AAC encoder rates, not from a listed source].
3. A category without input (the default ``soloAmbient``, ``playback``, ``ambient``) gives the recorder a
   0-channel source: ``AudioConverterNew`` fails with -50 (``badParam``), the file is the empty container,
   552 bytes for the report's M4A, and the delegate gets ``successfully == false`` ([DOC H-Session17], [DEV forum-tag-recorder-552-bytes];
   scenario-format decisions).
4. With input the file size follows the format (documented in docs/audio-expectation.md, [INF]):

   - ``lpcm``: a 4,096-byte CAF header (AVAudioRecorder pads its CAF header with a ``free`` chunk to
     4 KiB) + frames x channels x 2 bytes (16-bit, AVLinearPCMBitDepthKey's default);
   - ``aac``: the 552-byte empty M4A (header and ``moov``) + bitrate x duration / 8, where the encoder's
     default bitrate is modelled as 1.5 bits per sample per channel, capped at 320 kbit/s
     (44.1 kHz mono: 66 kbit/s; 22.05 kHz mono: 33 kbit/s).
5. ``wait: false`` (an addition) starts the recording and lets later steps run while it records on the
   virtual clock. An interruption of the session stops it where it is (recorder.interrupted): the recorder
   is paused, so the delegate gets no ``audioRecorderDidFinishRecording`` (``success`` reads null), and the
   file holds what was recorded up to the interruption ([DOC Doc-audioRecorderBeginInterruption: the
   system interrupted the recording; DEV oreilly-ios6-cookbook-10.4: the recorder's session is
   deactivated, and recording again afterwards starts the file over]; the size to the interruption is
   [INF]). Otherwise it finishes at its duration as above.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from routesim.routes.phone.errors import SessionError, error_for_code
from routesim.routes.phone.session import Phone

EMPTY_M4A_BYTES = 552          # the report's file: the container with no audio packets [DEV forum-tag-recorder-552-bytes]
CAF_HEADER_BYTES = 4096        # [INF]
LPCM_BYTES_PER_SAMPLE = 2      # 16-bit integer PCM [INF: AVLinearPCMBitDepthKey default]
AAC_BITS_PER_SAMPLE = 1.5      # per channel [INF]
AAC_MAX_BITRATE = 320_000      # [INF]
AAC_RATES = frozenset({8000, 11025, 12000, 16000, 22050, 24000, 32000, 44100, 48000})
FMT_UNSUPPORTED = 1718449215   # 'fmt?' kAudioFormatUnsupportedDataFormatError


@dataclass(frozen=True, slots=True)
class Recording:
    bytes: int
    success: bool
    error_code: int | None = None      # OSStatus the converter (or activation) reported
    error_name: str | None = None      # AVAudioSession.ErrorCode name when it is one
    source_channels: int = 0
    source_rate: float = 0.0
    duration: float = 0.0
    interrupted: bool = False  # stopped by an interruption; the recorder is paused, not finished

    def view(self) -> dict[str, Any]:
        return {
            "bytes": self.bytes,
            "error": error_for_code(self.error_code) if self.error_code is not None else None,
            "success": None if self.interrupted else self.success,
            "interrupted": self.interrupted,
            "sourceFormat": {"sampleRate": self.source_rate, "channels": self.source_channels},
        }


def file_bytes(fmt: str, sample_rate: float, channels: int, duration: float) -> int:
    """The size of a recording with input, as modelled (see the module docstring)."""
    frames = round(sample_rate * duration)
    if fmt == "lpcm":
        return CAF_HEADER_BYTES + frames * channels * LPCM_BYTES_PER_SAMPLE
    bitrate = min(AAC_BITS_PER_SAMPLE * sample_rate * channels, AAC_MAX_BITRATE)
    return EMPTY_M4A_BYTES + round(bitrate * duration / 8)


class Recorder:
    def __init__(self, phone: Phone):
        self.phone = phone
        self.recording = False
        self.last: Recording | None = None
        self._pending: dict[str, Any] | None = None  # a recording running while later steps happen
        previous = phone.io_running
        phone.io_running = lambda: previous() or self.recording
        phone.observers.append(self)

    def record(self, fmt: str = "aac", sample_rate: float = 44100.0, channels: int = 1,
               duration: float = 1.0, advance=None, wait: bool = True, schedule=None) -> Recording | None:
        phone = self.phone
        if not phone.active:
            try:
                phone._activate()
            except SessionError as e:
                phone._fire("recorder.activation-refused")
                self.last = Recording(0, False, e.code, e.name, duration=0.0)
                return self.last
            phone._fire("activate.implicit", "recorder.activates")
        if fmt == "aac" and int(sample_rate) not in AAC_RATES:
            phone._fire("recorder.aac-rate")
            self.last = Recording(0, False, FMT_UNSUPPORTED, None, duration=0.0)
            return self.last
        channels_in = phone.input_channels
        rate_in = float(phone.sample_rate) if channels_in else 0.0
        self.recording = True
        if not wait and schedule is not None and channels_in:
            timer = schedule(duration, lambda: self._finish_pending())
            self._pending = {"fmt": fmt, "rate": sample_rate, "channels": channels, "duration": duration,
                             "start": phone.now(), "timer": timer, "in": (channels_in, rate_in)}
            self.last = None
            return None
        try:
            if advance is not None:
                advance(duration)
        finally:
            self.recording = False
        if channels_in == 0:
            phone._fire("recorder.no-input-badparam")
            size = EMPTY_M4A_BYTES if fmt == "aac" else CAF_HEADER_BYTES
            self.last = Recording(size, False, -50, "badParam", 0, 0.0, duration)
        else:
            phone._fire("recorder.file-size")
            self.last = Recording(file_bytes(fmt, sample_rate, channels, duration), True, None, None,
                                  channels_in, rate_in, duration)
        return self.last

    def _finish_pending(self) -> None:
        p, self._pending = self._pending, None
        if p is None:
            return
        self.recording = False
        self.phone._fire("recorder.file-size")
        self.last = Recording(file_bytes(p["fmt"], p["rate"], p["channels"], p["duration"]), True, None, None,
                              p["in"][0], p["in"][1], p["duration"])

    def on_interrupted(self) -> None:
        """The session was interrupted mid-recording: stop where it is (recorder.interrupted)."""
        p, self._pending = self._pending, None
        if p is None:
            return
        if hasattr(p["timer"], "cancel"):
            p["timer"].cancel()
        self.recording = False
        elapsed = max(0.0, self.phone.now() - p["start"])
        self.phone._fire("recorder.interrupted")
        self.last = Recording(file_bytes(p["fmt"], p["rate"], p["channels"], elapsed), False, None, None,
                              p["in"][0], p["in"][1], elapsed, interrupted=True)

    def view(self) -> dict[str, Any]:
        if self._pending is not None:
            return {"bytes": None, "error": None, "success": None, "interrupted": False}  # still recording
        return self.last.view() if self.last else {}


def attach(run) -> None:
    recorder = Recorder(run.phone)
    run.recorder = recorder
    run.extras["recording"] = recorder.view
