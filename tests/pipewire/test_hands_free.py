"""The virtual headset's hands-free side of HFP against a scripted audio gateway on a socketpair: the
commands it sends, in the order of the HFP specification (1.8 §4.2.1 service-level connection, §4.11.3
codec connection), for each combination of features. No audio server needed.

Feature bits and codec IDs are spelled here from the specification, not imported from the code."""
from __future__ import annotations

import asyncio
import socket

import pytest

from routesim.bt.fake_bluez.hfp import HandsFree

# AG feature bits (+BRSF): three-way calling 0, codec negotiation 9, HF indicators 10
AG_3WAY, AG_CODECS, AG_HF_IND = 1 << 0, 1 << 9, 1 << 10
# HF feature bits (AT+BRSF): three-way calling 1, codec negotiation 7, HF indicators 8
HF_3WAY, HF_CODECS, HF_HF_IND = 1 << 1, 1 << 7, 1 << 8

ANSWERS = {  # command (up to "=" / "?") -> the AG's lines before OK
    "AT+BRSF": ["+BRSF: {ag}"],
    "AT+BAC": [],
    "AT+CIND=?": ['+CIND: ("service",(0,1)),("call",(0,1)),("callsetup",(0-3))'],
    "AT+CIND?": ["+CIND: 1,0,0"],
    "AT+CMER": [],
    "AT+CHLD=?": ["+CHLD: (0,1,2)"],
    "AT+BIND=?": ["+BIND: (1,2)"],
    "AT+BIND?": ["+BIND: 1,1", "+BIND: 2,1"],
    "AT+BIND": [],
    "AT+BCS": [],
}


def _key(command: str) -> str:
    if command.endswith(("=?", "?")):
        return command
    return command.split("=", 1)[0]


async def scripted_gateway(sock: socket.socket, ag: int, select: list[int], fail: str | None,
                           received: list[str]) -> None:
    """Answer each command per ANSWERS (ERROR for ``fail``). After event reporting is on, and after
    each AT+BAC that follows it, offer the next codec of ``select`` with +BCS."""
    reader, writer = await asyncio.open_connection(sock=sock)

    async def say(*lines: str) -> None:
        writer.write(b"".join(b"\r\n" + line.encode() + b"\r\n" for line in lines))
        await writer.drain()

    try:
        while True:
            command = (await reader.readuntil(b"\r")).decode().strip()
            received.append(command)
            key = _key(command)
            if key == fail:
                await say("ERROR")
                continue
            await say(*[line.format(ag=ag) for line in ANSWERS[key]], "OK")
            slc_done = any(c.startswith("AT+CMER") for c in received)
            if select and slc_done and key in ("AT+CMER", "AT+BAC"):
                await say(f"+BCS: {select.pop(0)}")
    except (asyncio.IncompleteReadError, ConnectionError):
        pass
    finally:
        writer.close()


CASES = [
    # (what, headset codecs, extra HF features, AG features, codecs the AG offers with +BCS, fail,
    #  the commands expected in order, the codec in use afterwards, an error expected)
    ("narrowband headset: no codec negotiation, CVSD", ["cvsd"], 0, AG_CODECS, [], None,
     ["AT+BRSF", "AT+CIND=?", "AT+CIND?", "AT+CMER"], "cvsd", False),
    ("gateway without codec negotiation: no AT+BAC, CVSD", ["msbc", "cvsd"], 0, 0, [], None,
     ["AT+BRSF", "AT+CIND=?", "AT+CIND?", "AT+CMER"], "cvsd", False),
    ("both negotiate: AT+BAC before the indicators, the gateway picks mSBC", ["msbc", "cvsd"], 0, AG_CODECS, [2], None,
     ["AT+BRSF", "AT+BAC", "AT+CIND=?", "AT+CIND?", "AT+CMER", "AT+BCS"], "msbc", False),
    ("the gateway offers a codec the headset lacks: it lists its codecs again", ["msbc", "cvsd"], 0, AG_CODECS, [3],
     None, ["AT+BRSF", "AT+BAC", "AT+CIND=?", "AT+CIND?", "AT+CMER", "AT+BAC"], None, False),
    ("three-way calling and HF indicators on both sides: CHLD and BIND after CMER", ["cvsd"], HF_3WAY | HF_HF_IND,
     AG_3WAY | AG_HF_IND, [], None,
     ["AT+BRSF", "AT+CIND=?", "AT+CIND?", "AT+CMER", "AT+CHLD=?", "AT+BIND", "AT+BIND=?", "AT+BIND?"], "cvsd", False),
    ("only the headset has HF indicators: no BIND", ["cvsd"], HF_HF_IND, 0, [], None,
     ["AT+BRSF", "AT+CIND=?", "AT+CIND?", "AT+CMER"], "cvsd", False),
    ("the gateway refuses event reporting: no service-level connection", ["cvsd"], 0, 0, [], "AT+CMER",
     ["AT+BRSF", "AT+CIND=?", "AT+CIND?", "AT+CMER"], None, True),
]


@pytest.mark.parametrize("what,codecs,extra,ag,select,fail,expected,codec,error", CASES, ids=[c[0] for c in CASES])
async def test_service_level_connection_order(what, codecs, extra, ag, select, fail, expected, codec, error):
    ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
    headset = HandsFree(codecs=codecs)
    headset.features |= extra
    received: list[str] = []
    gateway = asyncio.ensure_future(scripted_gateway(theirs, ag, list(select), fail, received))
    run = asyncio.ensure_future(headset.run(ours))

    async def exchanged() -> None:  # the headset has said all it will (or hung up on an error)
        while len(received) < len(expected) or (codec and not headset.codec_selected.is_set()):
            if run.done():
                return
            await asyncio.sleep(0.01)
        await asyncio.sleep(0.05)  # room for a command too many to show up

    await asyncio.wait_for(exchanged(), 5)
    headset.close()
    await asyncio.wait_for(asyncio.gather(gateway, run), 5)

    assert [_key(c) for c in received] == expected
    assert headset.sent == received  # nothing sent that the gateway did not see, nothing more
    assert headset.codec == codec
    assert (headset.error is not None) == error
    assert headset.connected.is_set() != error
    if "AT+BAC" in expected:  # the codec IDs of the headset's codecs (HFP: CVSD 1, mSBC 2)
        bac = next(c for c in received if c.startswith("AT+BAC="))
        assert sorted(int(i) for i in bac.split("=")[1].split(",")) == sorted({"cvsd": 1, "msbc": 2}[c] for c in codecs)


def test_a_codec_without_an_hfp_codec_id_is_refused():
    with pytest.raises(ValueError, match="without a codec ID"):
        HandsFree(codecs=["opus"])
