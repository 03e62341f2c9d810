"""The few signal-processing pieces the audio chain needs, in numpy alone.

``scipy.signal`` takes most of a second to import (it pulls in scipy.stats and scipy.ndimage), more than
every ``audio:`` check of the bundled library costs to compute. These functions give what the chain used
from it, to float rounding (tests/test_dsp.py compares each with scipy's): a logarithmic sweep
(``scipy.signal.chirp``), the speech filter (``butter`` + ``sosfilt``), polyphase resampling with a
Kaiser-windowed FIR (``resample_poly``) and Welch's PSD (``welch``, Hann window, half overlap).
"""
from __future__ import annotations

import math
from functools import lru_cache

import numpy as np


def log_chirp(t: np.ndarray, f0: float, t1: float, f1: float) -> np.ndarray:
    """A logarithmic sine sweep from f0 at t=0 to f1 at t=t1 (scipy.signal.chirp, method="logarithmic")."""
    if f0 == f1:
        return np.cos(2 * math.pi * f0 * t)
    beta = t1 / np.log(f1 / f0)
    return np.cos(2 * math.pi * beta * f0 * (pow(f1 / f0, t / t1) - 1.0))


@lru_cache(maxsize=16)
def speech_impulse_response(rate: int) -> np.ndarray:
    """The impulse response of the speech shaping filter: a 2nd-order Butterworth high-pass at 100 Hz
    followed by a 1st-order Butterworth low-pass at 800 Hz (bilinear transform, prewarped), run until it
    has decayed below 1e-18 of its peak. A design step, once per rate."""
    k = math.tan(math.pi * 100.0 / rate)
    norm = 1.0 / (1.0 + math.sqrt(2) * k + k * k)
    hb = (norm, -2.0 * norm, norm)
    ha = (2.0 * (k * k - 1.0) * norm, (1.0 - math.sqrt(2) * k + k * k) * norm)
    k = math.tan(math.pi * 800.0 / rate)
    lb, la = k / (1.0 + k), (k - 1.0) / (k + 1.0)
    out: list[float] = []
    x1 = x2 = y1 = y2 = z1 = 0.0
    peak, n = 0.0, 0
    while True:
        x0 = 1.0 if n == 0 else 0.0
        y0 = hb[0] * x0 + hb[1] * x1 + hb[2] * x2 - ha[0] * y1 - ha[1] * y2
        z0 = lb * y0 + lb * y1 - la * z1
        x2, x1, y2, y1, z1 = x1, x0, y1, y0, z0
        out.append(z0)
        peak = max(peak, abs(z0))
        n += 1
        if n > 64 and abs(z0) < peak * 1e-18 and abs(y0) < 1e-18 and abs(y1) < 1e-18:
            break
    h = np.array(out)
    h.setflags(write=False)
    return h


def speech_filter(x: np.ndarray, rate: int) -> np.ndarray:
    """x through the speech shaping filter (linear convolution with its impulse response, by FFT)."""
    h = speech_impulse_response(rate)
    n = x.shape[0] + h.shape[0] - 1
    nfft = 1 << (n - 1).bit_length()
    return np.fft.irfft(np.fft.rfft(x, nfft) * np.fft.rfft(h, nfft), nfft)[: x.shape[0]]


@lru_cache(maxsize=16)
def _polyphase(up: int, down: int, dtype: str) -> tuple[np.ndarray, int, int]:
    """scipy.signal.resample_poly's filter (firwin, Kaiser beta 5, 10 zero crossings per side at the
    lower of the two Nyquists, gain ``up``), padded as it pads it and split into ``up`` phases:
    (taps (Q, up), the filter's delay in output samples, Q)."""
    max_rate = max(up, down)
    half_len = 10 * max_rate
    numtaps = 2 * half_len + 1
    cutoff = 1.0 / max_rate
    m = np.arange(numtaps) - 0.5 * (numtaps - 1)
    h = cutoff * np.sinc(cutoff * m)
    alpha = (numtaps - 1) / 2.0
    h = h * (np.i0(5.0 * np.sqrt(1 - ((np.arange(numtaps) - alpha) / alpha) ** 2.0)) / np.i0(5.0))
    h /= np.sum(h)
    h = h.astype(dtype) * up
    pre_pad = down - half_len % down
    delay = (half_len + pre_pad) // down
    h = np.concatenate((np.zeros(pre_pad, dtype=h.dtype), h))
    q = -(-h.shape[0] // up)
    taps = np.zeros(q * up, dtype=np.float64)
    taps[: h.shape[0]] = h
    taps = taps.reshape(q, up)
    taps.setflags(write=False)
    return taps, delay, q


def resample_poly(x: np.ndarray, up: int, down: int) -> np.ndarray:
    """x (1-D) resampled by up/down with scipy.signal.resample_poly's filter and zero padding: the output
    has ceil(len(x) * up / down) samples, in x's dtype."""
    g = math.gcd(up, down)
    up, down = up // g, down // g
    if up == down == 1:
        return np.array(x, copy=True)
    n_in = x.shape[0]
    n_out = -(-n_in * up // down)
    taps, delay, q = _polyphase(up, down, str(x.dtype))
    t = (np.arange(n_out) + delay) * down  # each output sample's position in the upsampled signal
    newest, phase = np.divmod(t, up)
    # y[k] = sum_j taps[j, phase_k] * x[newest_k - j]; x is zero outside [0, n_in)
    padded = np.concatenate((np.zeros(q, dtype=np.float64), np.asarray(x, dtype=np.float64),
                             np.zeros(max(0, int(newest[-1]) + 1 - n_in), dtype=np.float64)))
    idx = newest[:, None] + q - np.arange(q)[None, :]
    y = np.einsum("kj,kj->k", padded[idx], taps.T[phase])
    return y.astype(x.dtype)


def welch(x: np.ndarray, rate: float, nperseg: int) -> tuple[np.ndarray, np.ndarray]:
    """Welch's power spectral density as scipy.signal.welch computes it by default: periodic Hann window,
    half-segment overlap, each segment's mean removed, density scaling, one-sided, mean of segments."""
    x = np.asarray(x, dtype=np.float64)
    nperseg = min(nperseg, x.shape[0])
    hop = nperseg - nperseg // 2
    count = (x.shape[0] - nperseg // 2) // hop
    window = 0.5 - 0.5 * np.cos(2 * np.pi * np.arange(nperseg) / nperseg)
    starts = np.arange(count) * hop
    segments = x[starts[:, None] + np.arange(nperseg)[None, :]]
    segments = segments - segments.mean(axis=1, keepdims=True)
    spectra = np.fft.rfft(segments * window, axis=1)
    psd = (spectra.real ** 2 + spectra.imag ** 2) / (rate * np.sum(window * window))
    psd[:, 1: -1 if nperseg % 2 == 0 else None] *= 2
    return np.fft.rfftfreq(nperseg, 1.0 / rate), psd.mean(axis=0)
