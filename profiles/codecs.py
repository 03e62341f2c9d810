"""Bluetooth audio codecs: the link they run on, the sample rate they give, the band they carry.

Rates: CVSD narrowband 8 kHz, mSBC wideband 16 kHz, Apple's LC3 over HFP 24 kHz on newer AirPods from
iOS 18 [DEV gh:deeeed/audiolab#35]; LC3-SWB 32 kHz (HFP 1.9 super-wideband) [DEV HFP-spec, PipeWire-bluez5].
Band limits are the usable audio band for the signal model: narrowband telephony 300-3400 Hz, wideband
50-7000 Hz; A2DP codecs are modelled flat to 20 kHz at 44.1/48 kHz [INF].
"""
from __future__ import annotations

from dataclasses import dataclass
from enum import Enum


class Link(str, Enum):
    A2DP = "a2dp"
    HFP = "hfp"


@dataclass(frozen=True, slots=True)
class Codec:
    name: str
    link: Link
    sample_rate: int
    band: tuple[float, float]  # usable audio band in Hz


CODECS: dict[str, Codec] = {
    c.name: c
    for c in (
        Codec("sbc", Link.A2DP, 48000, (20.0, 16000.0)),
        Codec("aac", Link.A2DP, 48000, (20.0, 18000.0)),
        Codec("aptx", Link.A2DP, 48000, (20.0, 20000.0)),
        Codec("ldac", Link.A2DP, 48000, (20.0, 20000.0)),
        Codec("cvsd", Link.HFP, 8000, (300.0, 3400.0)),
        Codec("msbc", Link.HFP, 16000, (50.0, 7000.0)),
        Codec("lc3-a127", Link.HFP, 24000, (50.0, 11000.0)),
        Codec("lc3-swb", Link.HFP, 32000, (50.0, 14000.0)),
    )
}

HFP_CODECS = tuple(n for n, c in CODECS.items() if c.link is Link.HFP)
A2DP_CODECS = tuple(n for n, c in CODECS.items() if c.link is Link.A2DP)
