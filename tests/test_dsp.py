"""The numpy signal pieces (routes/audio/dsp.py) against the scipy.signal functions they stand in for, and
the audio chain's import staying free of scipy.signal (its import cost more than the library's audio checks)."""
from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest
from scipy import signal as sps

from routesim.routes.audio import dsp

RATE = 48000


def _noise(n: int, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).standard_normal(n)


@pytest.mark.parametrize("f0, f1, duration", [(20.0, 20000.0, 1.0), (20.0, 3600.0, 0.25), (1000.0, 1000.0, 0.1)])
def test_log_chirp_is_scipys_logarithmic_chirp_bit_for_bit(f0, f1, duration):
    t = np.arange(int(RATE * duration)) / RATE
    assert np.array_equal(dsp.log_chirp(t, f0, t[-1], f1), sps.chirp(t, f0=f0, t1=t[-1], f1=f1, method="logarithmic"))


@pytest.mark.parametrize("rate", [48000, 16000, 8000])
def test_speech_filter_is_butterworth_highpass_100_then_lowpass_800(rate):
    x = _noise(rate)
    sos = np.vstack([sps.butter(2, 100.0, "highpass", fs=rate, output="sos"),
                     sps.butter(1, 800.0, "lowpass", fs=rate, output="sos")])
    want = sps.sosfilt(sos, x)
    assert np.max(np.abs(dsp.speech_filter(x, rate) - want)) < 1e-9 * np.max(np.abs(want))


@pytest.mark.parametrize("rate", [8000, 16000, 24000, 32000, 44100, 48000, 96000])
@pytest.mark.parametrize("n", [48000, 1001, 7])
def test_resample_poly_matches_scipy_in_length_dtype_and_value(rate, n):
    x = (_noise(n) * 0.1).astype(np.float32)
    g = np.gcd(rate, RATE)
    want = sps.resample_poly(x, rate // g, RATE // g)
    got = dsp.resample_poly(x, rate // g, RATE // g)
    assert got.dtype == want.dtype and got.shape == want.shape
    assert np.max(np.abs(got - want)) < 1e-5


@pytest.mark.parametrize("rate, nperseg, n", [(48000, 4096, 52096), (8000, 1024, 9024), (44100, 4096, 48196),
                                              (16000, 255, 4000)])
def test_welch_matches_scipy(rate, nperseg, n):
    x = _noise(n, seed=1)
    f_want, p_want = sps.welch(x, fs=rate, nperseg=nperseg)
    f_got, p_got = dsp.welch(x, rate, nperseg)
    assert np.array_equal(f_got, f_want)
    assert np.max(np.abs(p_got - p_want)) < 1e-12 * np.max(p_want)


def test_the_audio_chain_does_not_import_scipy_signal():
    code = ("import sys, routesim.routes.audio.signal as s; s.measure(s.render(s.generate('speech'), "
            "s.Chain('output', 16000, 1, (50.0, 7000.0)))); print(sorted(m for m in sys.modules if m.startswith('scipy')))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"
