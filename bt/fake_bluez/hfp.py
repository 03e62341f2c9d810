"""The hands-free (HF) side of an HFP service-level connection, spoken by a virtual headset over the
stream socket that the fake bluetoothd hands to the audio gateway (``Profile1.NewConnection``).

The order of the exchange is the Hands-Free Profile specification's (§4.2.1, "Service Level Connection
Establishment") [DEV HFP-spec]: supported features (``AT+BRSF``), the codecs the headset has
(``AT+BAC``, only when both sides support codec negotiation), the indicators (``AT+CIND=?``, then their
values ``AT+CIND?``), event reporting (``AT+CMER``); then, only when both sides support them, call
hold (``AT+CHLD=?``) and HF indicators (``AT+BIND``). The link is up after the last of these. After
that the gateway may pick a codec (``+BCS: n``, §4.11.3): the HF confirms with ``AT+BCS=n`` if it has
that codec, or lists its codecs again (``AT+BAC``) if not. Feature bits are the spec's (the ``AT+BRSF`` /
``+BRSF`` tables). Codec IDs: CVSD 1, mSBC 2, LC3-SWB 3 [DEV HFP-spec]; Apple's LC3 24 kHz 127
[DEV PipeWire-64f2f38ec].

Which codecs and features a headset has comes from the model catalog, never from code.
"""
from __future__ import annotations

import asyncio
import re
import socket
from dataclasses import dataclass, field
from typing import Callable, Sequence

HFP_CODEC_IDS = {"cvsd": 1, "msbc": 2, "lc3-swb": 3, "lc3-a127": 127}
HFP_CODEC_NAMES = {v: k for k, v in HFP_CODEC_IDS.items()}

# AT+BRSF (features of the HF) and +BRSF (features of the AG): bit numbers from the HFP-spec tables
HF_ECNR, HF_3WAY, HF_CLIP, HF_VOICE_RECOGNITION, HF_REMOTE_VOLUME = 1 << 0, 1 << 1, 1 << 2, 1 << 3, 1 << 4
HF_ENHANCED_CALL_STATUS, HF_ENHANCED_CALL_CONTROL, HF_CODEC_NEGOTIATION = 1 << 5, 1 << 6, 1 << 7
HF_INDICATORS, HF_ESCO_S4 = 1 << 8, 1 << 9
AG_3WAY, AG_CODEC_NEGOTIATION, AG_HF_INDICATORS = 1 << 0, 1 << 9, 1 << 10

# The HF indicators a headset may report (HFP-spec, Bluetooth SIG assigned numbers): enhanced safety 1, battery level 2.
HF_INDICATOR_IDS = (1, 2)


def hf_features(codecs: Sequence[str]) -> int:
    """What the virtual headset announces: caller ID, remote volume, enhanced call status, and codec
    negotiation whenever it has a codec besides CVSD (the one every hands-free unit has) [INF]."""
    features = HF_CLIP | HF_REMOTE_VOLUME | HF_ENHANCED_CALL_STATUS
    if any(c != "cvsd" for c in codecs):
        features |= HF_CODEC_NEGOTIATION
    return features


@dataclass(frozen=True)
class SlcStep:
    """One command of the service-level connection: what the HF sends, when (a condition on the HF's
    and the AG's features), and the result line the AG must send before ``OK`` (None: just ``OK``)."""

    name: str
    command: Callable[["HandsFree"], str]
    when: Callable[[int, int], bool]
    result: str | None


def _both(hf_bit: int, ag_bit: int) -> Callable[[int, int], bool]:
    return lambda hf, ag: bool(hf & hf_bit) and bool(ag & ag_bit)


SLC_STEPS: tuple[SlcStep, ...] = (
    SlcStep("supported features", lambda h: f"AT+BRSF={h.features}", lambda hf, ag: True, "+BRSF"),
    SlcStep("available codecs", lambda h: h.bac_command(), _both(HF_CODEC_NEGOTIATION, AG_CODEC_NEGOTIATION), None),
    SlcStep("indicators supported", lambda h: "AT+CIND=?", lambda hf, ag: True, "+CIND"),
    SlcStep("indicator status", lambda h: "AT+CIND?", lambda hf, ag: True, "+CIND"),
    SlcStep("event reporting", lambda h: "AT+CMER=3,0,0,1", lambda hf, ag: True, None),
    SlcStep("call hold services", lambda h: "AT+CHLD=?", _both(HF_3WAY, AG_3WAY), "+CHLD"),
    SlcStep("HF indicators", lambda h: "AT+BIND=" + ",".join(map(str, HF_INDICATOR_IDS)),
            _both(HF_INDICATORS, AG_HF_INDICATORS), None),
    SlcStep("AG's HF indicators", lambda h: "AT+BIND=?", _both(HF_INDICATORS, AG_HF_INDICATORS), "+BIND"),
    SlcStep("HF indicator status", lambda h: "AT+BIND?", _both(HF_INDICATORS, AG_HF_INDICATORS), None),
)

_FINAL = re.compile(r"^(OK|ERROR|\+CME ERROR:.*)$")


class HfpError(RuntimeError):
    pass


@dataclass
class HandsFree:
    """``await run(sock)`` speaks the HF side until the gateway closes the link. ``exchange`` is every
    line in order, as ``("HF", "AT+BRSF=…")`` / ``("AG", "+BRSF: …")``."""

    codecs: Sequence[str]  # the model's HFP codecs, best first
    features: int = -1  # -1: from the codecs (hf_features)
    timeout: float = 10.0
    exchange: list[tuple[str, str]] = field(default_factory=list)
    ag_features: int = 0
    codec: str | None = None  # selected with +BCS, or cvsd when no negotiation took place
    volumes: dict[str, int] = field(default_factory=dict)  # "speaker"/"microphone" -> 0..15
    error: str | None = None

    def __post_init__(self) -> None:
        unknown = [c for c in self.codecs if c not in HFP_CODEC_IDS]
        if unknown:
            raise ValueError(f"HFP codecs without a codec ID: {unknown} (known: {sorted(HFP_CODEC_IDS)})")
        if self.features < 0:
            self.features = hf_features(self.codecs)
        self.connected = asyncio.Event()  # set once the service-level connection is up
        self.codec_selected = asyncio.Event()
        self.closed = asyncio.Event()
        self._lines: asyncio.Queue[str | None] = asyncio.Queue()
        self._writer: asyncio.StreamWriter | None = None
        self._deferred: list[int] = []  # codec selections that arrived while a command was pending

    @property
    def codec_ids(self) -> list[int]:
        return [HFP_CODEC_IDS[c] for c in self.codecs]

    def bac_command(self) -> str:
        return "AT+BAC=" + ",".join(str(i) for i in sorted(self.codec_ids))

    @property
    def sent(self) -> list[str]:
        return [line for who, line in self.exchange if who == "HF"]

    # -- the link ------------------------------------------------------------------------------------
    async def run(self, sock: socket.socket) -> None:
        sock.setblocking(False)
        reader, self._writer = await asyncio.open_connection(sock=sock)
        pump = asyncio.ensure_future(self._read(reader))
        try:
            await self._establish()
            await self._serve()
        except HfpError as exc:
            self.error = str(exc)
        except (ConnectionError, asyncio.IncompleteReadError):
            pass
        finally:
            pump.cancel()
            self._writer.close()
            self.closed.set()

    def close(self) -> None:
        if self._writer is not None:
            self._writer.close()

    async def _read(self, reader: asyncio.StreamReader) -> None:
        buf = b""
        try:
            while True:
                chunk = await reader.read(1024)
                if not chunk:
                    break
                buf += chunk
                # results are framed <cr><lf>text<cr><lf> (HFP §4.34 / V.250)
                *lines, buf = buf.split(b"\r\n")
                for raw in lines:
                    text = raw.decode("ascii", "replace").strip()
                    if text:
                        self.exchange.append(("AG", text))
                        await self._lines.put(text)
        finally:
            await self._lines.put(None)

    async def _next_line(self) -> str:
        line = await asyncio.wait_for(self._lines.get(), self.timeout)
        if line is None:
            raise ConnectionError("the audio gateway closed the link")
        return line

    async def _command(self, command: str) -> list[str]:
        """Send one command; the lines the AG answered with before its final result code."""
        assert self._writer is not None
        self.exchange.append(("HF", command))
        self._writer.write(command.encode("ascii") + b"\r")
        await self._writer.drain()
        lines: list[str] = []
        while True:
            line = await self._next_line()
            if _FINAL.match(line):
                if line != "OK":
                    raise HfpError(f"{command}: the audio gateway answered {line}")
                return lines
            if not self._unsolicited(line):
                lines.append(line)

    async def _establish(self) -> None:
        for step in SLC_STEPS:
            if not step.when(self.features, self.ag_features):
                continue
            command = step.command(self)
            lines = await self._command(command)
            if step.result is not None and not any(line.startswith(step.result) for line in lines):
                raise HfpError(f"{command}: no {step.result} before OK (got {lines})")
            if step.name == "supported features":
                self.ag_features = int(lines[0].split(":", 1)[1])
        if not (self.features & HF_CODEC_NEGOTIATION and self.ag_features & AG_CODEC_NEGOTIATION):
            self.codec = "cvsd"  # no negotiation: CVSD, HFP §4.11.1
            self.codec_selected.set()
        self.connected.set()

    async def _serve(self) -> None:
        while True:
            while self._deferred:
                await self._select_codec(self._deferred.pop(0))
            line = await self._lines.get()
            if line is None:
                return
            self._unsolicited(line)

    def _unsolicited(self, line: str) -> bool:
        """Note what an unsolicited result says; True when the line was one."""
        if line.startswith("+VGS"):
            self.volumes["speaker"] = int(re.split("[:=]", line, maxsplit=1)[1])
            return True
        if line.startswith("+VGM"):
            self.volumes["microphone"] = int(re.split("[:=]", line, maxsplit=1)[1])
            return True
        if line.startswith("+BCS:"):
            self._deferred.append(int(line.split(":", 1)[1]))
            return True
        return line.startswith(("+CIEV", "RING", "+BSIR"))

    async def _select_codec(self, codec_id: int) -> None:
        if codec_id in self.codec_ids:
            await self._command(f"AT+BCS={codec_id}")
            self.codec = HFP_CODEC_NAMES[codec_id]
            self.codec_selected.set()
        else:
            await self._command(self.bac_command())  # "not mine": list ours again (HFP §4.11.3)
