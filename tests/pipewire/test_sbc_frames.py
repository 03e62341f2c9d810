"""What the virtual headset decodes on an A2DP transport: SBC frame headers and lengths, RTP packets.

Frame lengths and bit rates are the A2DP specification's recommended SBC settings (A2DP 1.3 §4.3,
"Table 4.7: Recommended sets of SBC parameters in the SRC device", 8 subbands, 16 blocks, loudness):
the numbers below are copied from that table, not computed with the code under test."""
from __future__ import annotations

import pytest

from routesim.bt.fake_bluez.a2dp import SbcStream, sbc_header

RATES = {16000: 0, 32000: 1, 44100: 2, 48000: 3}
MODES = {"mono": 0, "dual": 1, "stereo": 2, "joint": 3}


def header(rate: int, mode: str, bitpool: int, blocks: int = 16, subbands: int = 8) -> bytes:
    """An SBC frame header laid out as the SBC specification does: sync word 0x9C; sampling frequency
    (2 bits), blocks (2), channel mode (2), allocation method (1), subbands (1); bitpool; CRC."""
    b1 = RATES[rate] << 6 | {4: 0, 8: 1, 12: 2, 16: 3}[blocks] << 4 | MODES[mode] << 2 | 0 << 1 | (subbands == 8)
    return bytes([0x9C, b1, bitpool, 0x00])


SPEC = [  # (quality, channel mode, sampling rate, bitpool, frame length in bytes, bit rate in kb/s)
    ("mono middle", "mono", 44100, 19, 46, 127),
    ("mono middle", "mono", 48000, 18, 44, 132),
    ("mono high", "mono", 44100, 31, 70, 193),
    ("mono high", "mono", 48000, 29, 66, 198),
    ("joint stereo middle", "joint", 44100, 35, 83, 229),
    ("joint stereo middle", "joint", 48000, 33, 79, 237),
    ("joint stereo high", "joint", 44100, 53, 119, 328),
    ("joint stereo high", "joint", 48000, 51, 115, 345),
]


@pytest.mark.parametrize("quality,mode,rate,bitpool,length,kbps", SPEC, ids=[f"{s[0]} {s[2]}" for s in SPEC])
def test_frame_length_and_bit_rate_match_the_a2dp_table(quality, mode, rate, bitpool, length, kbps):
    frame = sbc_header(header(rate, mode, bitpool))
    assert frame is not None
    assert frame.length == length
    assert round(8 * frame.length * rate / frame.samples / 1000) == kbps


def rtp(seq: int, frames: list[bytes], declared: int | None = None) -> bytes:
    """RTP v2 header (payload type 96), then the A2DP media payload header (number of frames)."""
    head = bytes([0x80, 96]) + seq.to_bytes(2, "big") + bytes(8)
    return head + bytes([len(frames) if declared is None else declared]) + b"".join(frames)


def frame(scale: int, rate: int = 48000) -> bytes:
    """A joint-stereo frame of bitpool 51 (115 bytes): header, join bits, then scale factors
    ``scale`` for every subband of both channels, then zeroed samples."""
    body = bytes([0x00]) + bytes([scale << 4 | scale] * 8)
    return header(rate, "joint", 51) + body + bytes(115 - 4 - len(body))


PACKETS = [
    # (what, packets, frames counted, frames with sound, bad packets, sequence without gaps)
    ("two packets of sound", [rtp(1, [frame(9)] * 3), rtp(2, [frame(9)] * 3)], 6, 6, 0, True),
    ("silence counts as frames, not as sound", [rtp(7, [frame(0)] * 4)], 4, 0, 0, True),
    ("a lost packet shows in the sequence", [rtp(1, [frame(9)]), rtp(3, [frame(9)])], 2, 2, 0, False),
    ("a frame without the sync word ends the count", [rtp(1, [frame(9), b"\x00" * 115])], 1, 1, 1, True),
    ("a packet claiming more frames than it has", [rtp(1, [frame(9)], declared=2)], 1, 1, 1, True),
    ("not RTP version 2", [b"\x40" + rtp(1, [frame(9)])[1:]], 0, 0, 1, True),
]


@pytest.mark.parametrize("what,packets,frames,audible,bad,in_order", PACKETS, ids=[p[0] for p in PACKETS])
def test_stream_counts_frames_from_rtp_packets(what, packets, frames, audible, bad, in_order):
    stream = SbcStream()
    for packet in packets:
        stream.feed(packet)
    assert (stream.frames, stream.audible_frames, stream.bad_packets, stream.sequence_ok) == (frames, audible, bad, in_order)
    if frames:
        assert stream.seconds == pytest.approx(frames * 128 / 48000)
