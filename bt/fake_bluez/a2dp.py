"""The A2DP side of a virtual headset: what its stream endpoints offer, and what it hears on a transport.

Capabilities are the A2DP codec information elements of the A2DP specification (byte layouts as in
PipeWire's ``a2dp-codec-caps.h``) [DEV A2DP-spec, PipeWire-bluez5]: a sink that accepts every SBC mode,
AAC LC at 44.1/48 kHz. What arrives on an acquired transport is decoded as far as counting goes: the
RTP header [DEV RFC3550], the one-byte A2DP media payload header with its frame count [DEV A2DP-spec],
then each SBC frame header (sync word 0x9C, sampling rate, blocks, channel mode, subbands, bitpool) and
its length, so a frame is counted only when its header is real and the lengths add up. The frame's
scale factors (4 bits per subband and channel, after the join bits in joint stereo; the SBC appendix
of the A2DP-spec) tell sound from digital silence: silence has every scale factor 0, a tone does not. That
is how a test tells the frames of a tone from the silence a source keeps sending before it suspends.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field

from routesim.bt.bluez.constants import A2DP_CODEC_IDS, VENDOR_CODEC, VENDOR_CODECS

# Remote sink capabilities per codec name (a headset that accepts everything the codec allows).
_CAPS = {
    # SBC: all rates/modes (byte 0), all block lengths, subbands, allocations (byte 1), bitpool 2..53
    "sbc": bytes([0xFF, 0xFF, 2, 53]),
    # AAC: MPEG-2 AAC LC; 44.1 and 48 kHz; 1 or 2 channels; VBR, up to 320 kb/s
    "aac": bytes([0x80, 0x01, 0x8C, 0x84, 0xE2, 0x00]),
}
# The A2DP Media Codec byte of the vendor codecs' information element; the rest of their element
# (channel mode / rate byte) accepts everything.
_VENDOR_TAIL = {"aptx": b"\xff", "aptx-hd": b"\xff\x00\x00\x00\x00", "ldac": b"\x3f\x07"}


def codec_byte(codec: str) -> int:
    if codec in A2DP_CODEC_IDS:
        return A2DP_CODEC_IDS[codec]
    if any(name == codec for name in VENDOR_CODECS.values()):
        return VENDOR_CODEC
    raise ValueError(f"unknown A2DP codec {codec!r}")


def sink_capabilities(codec: str) -> bytes:
    """``MediaEndpoint1.Capabilities`` of the headset's sink endpoint for ``codec``."""
    if codec in _CAPS:
        return _CAPS[codec]
    for (vendor, cid), name in VENDOR_CODECS.items():
        if name == codec:
            return vendor.to_bytes(4, "little") + cid.to_bytes(2, "little") + _VENDOR_TAIL.get(codec, b"\xff")
    raise ValueError(f"no capabilities known for A2DP codec {codec!r}")


def matches(codec: str, codec_id: int, capabilities: bytes) -> bool:
    """Whether a local endpoint (``Codec`` byte, ``Capabilities``) speaks ``codec``; vendor codecs are
    told apart by the vendor and codec IDs at the start of their capabilities."""
    if codec_byte(codec) != codec_id:
        return False
    if codec_id != VENDOR_CODEC:
        return True
    if len(capabilities) < 6:
        return False
    key = (int.from_bytes(capabilities[:4], "little"), int.from_bytes(capabilities[4:6], "little"))
    return VENDOR_CODECS.get(key) == codec


# -- what arrives on the transport ----------------------------------------------------------------------
SBC_SYNC = 0x9C
_SBC_RATES = (16000, 32000, 44100, 48000)
_SBC_BLOCKS = (4, 8, 12, 16)
_SBC_MODES = ("mono", "dual", "stereo", "joint")
RTP_HEADER = 12


@dataclass(frozen=True)
class SbcFrame:
    rate: int
    blocks: int
    mode: str
    subbands: int
    bitpool: int

    @property
    def channels(self) -> int:
        return 1 if self.mode == "mono" else 2

    @property
    def samples(self) -> int:
        """PCM samples per channel this frame carries."""
        return self.blocks * self.subbands

    @property
    def length(self) -> int:
        """Bytes of the frame (SBC spec / A2DP appendix: header, scale factors, audio samples)."""
        head = 4 + (4 * self.subbands * self.channels) // 8
        if self.mode in ("mono", "dual"):
            return head + math.ceil(self.blocks * self.channels * self.bitpool / 8)
        join = 1 if self.mode == "joint" else 0
        return head + math.ceil((join * self.subbands + self.blocks * self.bitpool) / 8)


def sbc_loudest_scale_factor(data: bytes | memoryview, offset: int, frame: SbcFrame) -> int:
    """The largest scale factor of the frame at ``offset`` (0 for digital silence, up to 15)."""
    bit = 32 + (frame.subbands if frame.mode == "joint" else 0)  # header (with CRC), then join bits
    loudest = 0
    for i in range(frame.channels * frame.subbands):
        byte = data[offset + (bit >> 3)]
        nibble = (byte >> 4) if bit & 4 == 0 else (byte & 0x0F)
        loudest = max(loudest, nibble)
        bit += 4
    return loudest


def sbc_header(data: bytes | memoryview, offset: int = 0) -> SbcFrame | None:
    """The SBC frame header at ``offset``, or None where there is no sync word."""
    if len(data) < offset + 4 or data[offset] != SBC_SYNC:
        return None
    b1 = data[offset + 1]
    return SbcFrame(
        rate=_SBC_RATES[b1 >> 6],
        blocks=_SBC_BLOCKS[(b1 >> 4) & 3],
        mode=_SBC_MODES[(b1 >> 2) & 3],
        subbands=8 if b1 & 1 else 4,
        bitpool=data[offset + 2],
    )


@dataclass
class SbcStream:
    """Counts what a source sends into an SBC transport, packet by packet (one RTP packet per
    ``SOCK_SEQPACKET`` read). Malformed packets are counted, not trusted."""

    packets: int = 0
    frames: int = 0
    samples: int = 0  # per channel
    bad_packets: int = 0
    sequence: list[int] = field(default_factory=list)  # RTP sequence numbers, in arrival order
    first: SbcFrame | None = None  # the first frame's parameters
    audible_frames: int = 0  # frames with a non-zero scale factor
    silent_after_sound: int = 0  # silent frames since the last audible one (0 before any sound)

    def feed(self, packet: bytes) -> None:
        self.packets += 1
        # RTP version 2, no CSRCs/extension expected from an A2DP source (payload type 96, dynamic)
        if len(packet) < RTP_HEADER + 1 or packet[0] >> 6 != 2:
            self.bad_packets += 1
            return
        start = RTP_HEADER + 4 * (packet[0] & 0x0F)
        if len(packet) <= start:
            self.bad_packets += 1
            return
        self.sequence.append(int.from_bytes(packet[2:4], "big"))
        declared = packet[start] & 0x0F  # media payload header: number of SBC frames
        offset = start + 1
        found = 0
        while offset < len(packet):
            frame = sbc_header(packet, offset)
            if frame is None or offset + frame.length > len(packet):
                break
            if self.first is None:
                self.first = frame
            if sbc_loudest_scale_factor(packet, offset, frame) > 0:
                self.audible_frames += 1
                self.silent_after_sound = 0
            elif self.audible_frames:
                self.silent_after_sound += 1
            found += 1
            self.samples += frame.samples
            offset += frame.length
        if found != declared or offset != len(packet):
            self.bad_packets += 1
        self.frames += found

    @property
    def seconds(self) -> float:
        """Audio time carried so far."""
        return self.samples / self.first.rate if self.first else 0.0

    @property
    def sequence_ok(self) -> bool:
        """RTP sequence numbers rise by one from packet to packet (mod 2**16)."""
        return all((b - a) % 65536 == 1 for a, b in zip(self.sequence, self.sequence[1:]))
