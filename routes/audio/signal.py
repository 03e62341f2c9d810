"""The audio signal through the current route: test signals, the route's chain, and measurements.

numpy/scipy only, vectorised (no per-sample Python loops). The chain a route gives (all [INF] modelling
choices built on the hardware rates per route and profiles/codecs.py; see docs/audio-expectation.md):

1. the app's signal (48 kHz mono) is resampled to the session's hardware rate with
   ``scipy.signal.resample_poly`` (its Kaiser-window anti-alias filter);
2. the codec's usable band (``profiles.codecs.CODECS[...].band``: CVSD 300-3400 Hz, mSBC 50-7000 Hz,
   LC3 to 11 or 14 kHz, SBC/AAC to 16/18 kHz) is applied in the frequency domain: flat inside, a
   raised-cosine roll-off outside, zero beyond; wired and built-in ports pass 20 Hz to 20 kHz;
3. the codec's noise floor (``NOISE_FLOOR_DBFS``) is added inside the band;
4. the port's gain: the receiver (earpiece) is 18 dB quieter than the speaker;
5. channels: HFP mono, A2DP / wired / built-in outputs stereo (the same signal on both), inputs mono.

Measurements: ``level_dbfs`` (RMS over all channels, full scale 1.0, so a full-scale sine reads
-3.01 dBFS; silence reads ``SILENCE_DBFS``), ``bandwidth`` (the highest frequency at which the route's
response, output spectrum over input spectrum from Welch estimates, is within 20 dB of its peak) and
``snr_db`` (clean rendering against the rendering with codec noise).
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

import numpy as np
from scipy import fft as sfft
from scipy import signal as sps

from routesim.profiles.codecs import CODECS

SOURCE_RATE = 48000
DEFAULT_LEVEL_DBFS = -12.0
SILENCE_DBFS = -200.0
RECEIVER_GAIN_DB = -18.0                 # [INF] "the quiet speaker" (jackyoustra-speaker)
FULL_BAND = (20.0, 20000.0)              # built-in and wired ports [INF]
NOISE_FLOOR_DBFS: dict[str | None, float] = {   # in-band RMS noise per codec [INF]
    "cvsd": -45.0, "msbc": -60.0, "lc3-a127": -70.0, "lc3-swb": -70.0,
    "sbc": -75.0, "aac": -85.0, "aptx": -80.0, "ldac": -90.0,
    None: -96.0,                          # 16-bit PCM on built-in and wired ports
}
SIGNALS = ("sweep", "tone", "noise", "speech")


# ---------------------------------------------------------------------- test signals
def _scale(x: np.ndarray, level_dbfs: float) -> np.ndarray:
    rms = float(np.sqrt(np.mean(np.square(x, dtype=np.float64))))
    return x * (10 ** (level_dbfs / 20) / rms) if rms > 0 else x


def generate(kind: str = "sweep", *, rate: int = SOURCE_RATE, duration: float = 1.0,
             level_dbfs: float = DEFAULT_LEVEL_DBFS, frequency: float = 1000.0, seed: int = 0) -> np.ndarray:
    """A mono test signal (float64) at ``rate`` with the given RMS level.

    sweep: logarithmic (exponential) sine sweep 20 Hz to 20 kHz (capped below Nyquist);
    tone: a sine at ``frequency``; noise: white Gaussian noise;
    speech: speech-like noise, the long-term speech spectrum (100 Hz high-pass, -6 dB/octave above
    ~800 Hz) with a 4 Hz syllabic envelope."""
    n = max(1, int(round(rate * duration)))
    t = np.arange(n, dtype=np.float64) / rate
    if kind == "sweep":
        f1 = min(20000.0, 0.45 * rate)
        x = sps.chirp(t, f0=20.0, t1=max(t[-1], 1.0 / rate), f1=f1, method="logarithmic")
    elif kind == "tone":
        x = np.sin(2 * np.pi * frequency * t)
    elif kind == "noise":
        x = np.random.default_rng(seed).standard_normal(n)
    elif kind == "speech":
        white = np.random.default_rng(seed).standard_normal(n)
        x = sps.sosfilt(_speech_sos(rate), white)
        envelope = 0.25 + 0.75 * (0.5 * (1 + np.sin(2 * np.pi * 4.0 * t - np.pi / 2))) ** 2
        x = x * envelope
    else:
        raise ValueError(f"unknown signal {kind!r} (expected one of {', '.join(SIGNALS)})")
    return _scale(x, level_dbfs)


@lru_cache(maxsize=16)
def _speech_sos(rate: int) -> np.ndarray:
    hp = sps.butter(2, 100.0, "highpass", fs=rate, output="sos")
    lp = sps.butter(1, 800.0, "lowpass", fs=rate, output="sos")
    return np.vstack([hp, lp])


# ---------------------------------------------------------------------- the route's chain
@dataclass(frozen=True, slots=True)
class Chain:
    direction: str                   # "output" | "input"
    rate: int                        # the session's hardware rate
    channels: int                    # 0: nothing flows (no input route, inactive input)
    band: tuple[float, float]
    gain_db: float = 0.0
    noise_dbfs: float = NOISE_FLOOR_DBFS[None]
    port: str | None = None          # port type
    codec: str | None = None
    rules: tuple[str, ...] = field(default=())

    def describe(self) -> str:
        if not self.channels:
            return f"{self.direction}: nothing (no {self.direction} route)"
        codec = f" {self.codec}" if self.codec else ""
        gain = f", {self.gain_db:+g} dB" if self.gain_db else ""
        return (f"{self.direction} {self.port}{codec}: {self.rate} Hz, {self.channels} ch, "
                f"band {self.band[0]:g}-{self.band[1]:g} Hz{gain}, noise {self.noise_dbfs:g} dBFS")


def chain_for(phone, direction: str = "output") -> Chain:
    """The chain the app's audio goes through now (output), or the mic's signal comes through (input)."""
    route = phone.route
    rate = int(phone.sample_rate)
    rules = ["signal.resample-to-route"]
    if direction == "output":
        ports = route.outputs
        channels = ports[0].channels if ports else 0
    elif direction == "input":
        ports = route.inputs
        channels = 1 if (ports and phone.input_channels) else 0
    else:
        raise ValueError(f"direction is output or input, not {direction!r}")
    if not ports or not channels:
        return Chain(direction, rate, 0, (0.0, 0.0), port=ports[0].type if ports else None,
                     rules=("signal.no-input-silence",))
    port = ports[0]
    link = phone.decision.links.get(port.owner) if port.owner else None
    codec = link.codec if link is not None and link.profile in ("a2dp", "hfp") else None
    band = CODECS[codec].band if codec in CODECS else FULL_BAND
    if codec in CODECS:
        rules.append("signal.codec-band")
    rules.append("signal.codec-noise")
    if port.type == "bluetoothHFP":
        channels = 1
    rules.append("signal.channels")
    gain = 0.0
    if direction == "output" and port.type == "builtInReceiver":
        gain = RECEIVER_GAIN_DB
        rules.append("signal.receiver-quieter")
    nyquist = rate / 2
    band = (min(band[0], nyquist * 0.5), min(band[1], nyquist * 0.98))
    return Chain(direction, rate, channels, band, gain, NOISE_FLOOR_DBFS.get(codec, NOISE_FLOOR_DBFS[None]),
                 port.type, codec, tuple(rules))


@lru_cache(maxsize=64)
def _mask(n: int, rate: int, lo: float, hi: float) -> np.ndarray:
    """Frequency-domain response for an n-point rfft (float32): 1 in [lo, hi], raised-cosine roll-offs to
    0 at 0.7*lo and at hi + max(5 % of hi, 100 Hz) (capped at Nyquist)."""
    f = np.fft.rfftfreq(n, 1.0 / rate)
    m = np.ones_like(f)
    hi_stop = min(hi + max(0.05 * hi, 100.0), rate / 2)
    if hi_stop > hi:
        m = np.where(f > hi, 0.5 * (1 + np.cos(np.pi * np.clip((f - hi) / (hi_stop - hi), 0, 1))), m)
    m[f >= hi_stop] = 0.0
    lo_stop = 0.7 * lo
    if lo > 0:
        up = 0.5 * (1 - np.cos(np.pi * np.clip((f - lo_stop) / (lo - lo_stop), 0, 1)))
        m = np.where(f < lo, up, m)
    m = m.astype(np.float32)
    m.setflags(write=False)
    return m


@dataclass(slots=True)
class Rendered:
    chain: Chain
    source: np.ndarray               # the app's / the mic's signal, mono at source_rate
    source_rate: int
    audio: np.ndarray                # (frames, channels) at chain.rate; (0, 0) when nothing flows
    clean: np.ndarray | None = None  # mono, without codec noise (for SNR)

    @property
    def mono(self) -> np.ndarray:
        return self.audio[:, 0] if self.audio.size else np.zeros(0, dtype=np.float32)


def render(x: np.ndarray, chain: Chain, *, source_rate: int = SOURCE_RATE, seed: int = 0,
           keep_clean: bool = True) -> Rendered:
    """Send a mono signal through the chain. Vectorised float32 work: one polyphase resample, one
    rfft, the band mask and gain, in-band noise drawn in the frequency domain, one irfft."""
    if not chain.channels:
        return Rendered(chain, x, source_rate, np.zeros((0, 0), dtype=np.float32), np.zeros(0, dtype=np.float32))
    x32 = np.asarray(x, dtype=np.float32)
    g = math.gcd(int(chain.rate), int(source_rate))
    up, down = chain.rate // g, source_rate // g
    y = sps.resample_poly(x32, up, down) if (up, down) != (1, 1) else x32
    n = y.shape[0]
    mask = _mask(n, chain.rate, *chain.band)
    spectrum = sfft.rfft(y)
    spectrum *= mask * np.float32(10 ** (chain.gain_db / 20))
    clean = sfft.irfft(spectrum, n) if keep_clean else None
    # In-band codec noise, white inside the mask with the in-band RMS noise_dbfs. Drawn as uniform
    # real and imaginary parts per bin (variance 1/12 each): after the inverse FFT each sample sums
    # thousands of bins, so the time-domain noise is Gaussian.
    power_fraction = float(np.mean(mask * mask)) or 1.0
    sigma = 10 ** (chain.noise_dbfs / 20) / math.sqrt(power_fraction)
    u = np.random.default_rng(seed).random((2, spectrum.shape[0]), dtype=np.float32)
    u -= np.float32(0.5)
    u *= mask * np.float32(sigma * math.sqrt(n / 2) * math.sqrt(12.0))
    spectrum.real += u[0]
    spectrum.imag += u[1]
    out = sfft.irfft(spectrum, n)
    audio = np.broadcast_to(out[:, None], (n, chain.channels))
    return Rendered(chain, x, source_rate, audio, clean)


# ---------------------------------------------------------------------- measurements
def level_dbfs(audio: np.ndarray) -> float:
    if audio.size == 0:
        return SILENCE_DBFS
    power = float(np.mean(np.square(audio, dtype=np.float64)))
    return max(SILENCE_DBFS, 10 * math.log10(power)) if power > 0 else SILENCE_DBFS


def _psd(x: np.ndarray, rate: int) -> tuple[np.ndarray, np.ndarray]:
    nperseg = min(len(x), 1 << max(8, int(math.log2(max(rate, 1) / 8))))
    # Zero-pad half a segment at both ends so Welch's segments cover the first and last samples (a
    # sweep's top octave lives in its last few milliseconds).
    padded = np.pad(np.asarray(x, dtype=np.float64), (nperseg // 2, nperseg // 2))
    return sps.welch(padded, fs=rate, nperseg=nperseg)


def bandwidth(x: np.ndarray, rate: int, reference: np.ndarray | None = None, reference_rate: int | None = None,
              drop_db: float = 20.0) -> float:
    """The highest frequency where the response is within ``drop_db`` of its peak. With a reference
    (the signal that went in) the response is PSD(out) / PSD(in), so a sweep or speech measures the route,
    not the signal's own slope; without one it is the output spectrum itself."""
    if x.size < 16:
        return 0.0
    f, p = _psd(x, rate)
    if reference is not None:
        fr, pr = _psd(reference, reference_rate or rate)
        pin = np.interp(f, fr, pr)
        usable = pin > pin.max() * 1e-4  # where the input has energy (within 40 dB of its peak)
        h = np.where(usable, p / np.where(usable, pin, 1.0), 0.0)
    else:
        h = p
    peak = h.max()
    if peak <= 0:
        return 0.0
    above = np.nonzero(h >= peak * 10 ** (-drop_db / 10))[0]
    return float(f[above[-1]])


def snr_db(clean: np.ndarray, noisy: np.ndarray) -> float:
    noise = noisy - clean
    ps, pn = float(np.sum(clean * clean)), float(np.sum(noise * noise))
    if ps <= 0:
        return 0.0
    return 200.0 if pn <= 0 else 10 * math.log10(ps / pn)


def measure(r: Rendered) -> dict[str, Any]:
    c = r.chain
    if not c.channels:
        return {"sampleRate": c.rate, "channels": 0, "level": SILENCE_DBFS, "bandwidth": 0.0, "snr": 0.0,
                "port": c.port, "codec": None}
    mono = r.mono
    return {
        "sampleRate": c.rate,
        "channels": c.channels,
        "level": round(level_dbfs(r.audio), 2),
        "bandwidth": round(bandwidth(mono, c.rate, r.source, r.source_rate), 1),
        "snr": round(snr_db(r.clean, mono), 2) if r.clean is not None else None,
        "port": c.port,
        "codec": c.codec,
    }


def audio_view(phone, spec: dict[str, Any] | None = None) -> dict[str, Any]:
    """What `expect: audio` checks: the named signal rendered through the current route and measured."""
    spec = spec or {}
    direction = spec.get("direction", "output")
    kind = spec.get("signal", "sweep")
    chain = chain_for(phone, direction)
    phone._fire(*chain.rules)
    x = generate(kind, duration=float(spec.get("duration", 1.0)), level_dbfs=float(spec.get("sourceLevel", DEFAULT_LEVEL_DBFS)),
                 frequency=float(spec.get("frequency", 1000.0)))
    result = measure(render(x, chain))
    return {**{k: v for k, v in spec.items()}, **result}
