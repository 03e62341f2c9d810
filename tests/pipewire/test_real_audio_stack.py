"""The real Linux audio stack (Debian's PipeWire, WirePlumber, pipewire-pulse) on virtual AirPods Pro 2
served by the fake bluetoothd: cards, A2DP streaming counted frame by frame, the HFP service-level
connection, profile switches, rename, disconnect and bluetoothd restarts. Every expectation comes from
the catalog (the model's codecs), the specifications (A2DP/SBC frame sizes, HFP message order) or what
the audio server registered, never from what the fake was told to produce.

SCO audio is not run: it needs kernel SCO sockets, which this machine lacks. The test that shows it
asserts the failure and names it in the run's summary."""
from __future__ import annotations

import asyncio
import os

from routesim.bt.bluez.constants import A2DP_SOURCE, TRANSPORT
from routesim.bt.fake_bluez.a2dp import matches
from routesim.bt.fake_bluez.audio_stack import AudioStack
from routesim.bt.fake_bluez.hfp import HF_CODEC_NEGOTIATION
from routesim.bt.fake_bluez.media import A2DP_MTU

from tests.pipewire.rig import NOT_RUN_HERE, AudioRig, poll, processes_in

MODEL = "airpods-pro-2"
PODS = "AA:BB:CC:DD:EE:01"
NAME = "Kim\u2019s AirPods Pro"
# HFP codec IDs, from the HFP specification (CVSD 1, mSBC 2, LC3-SWB 3) and Apple's LC3 24 kHz (127)
SPEC_HFP_IDS = {"cvsd": 1, "msbc": 2, "lc3-swb": 3, "lc3-a127": 127}
# SBC frames carry blocks x subbands samples per channel; PipeWire's SBC encoder uses 16 x 8 (A2DP spec
# recommended settings), so 48 kHz audio is 375 frames a second. Tolerance: the first and last frame may
# straddle the tone's edges, and the resampler's filter spreads the edges by a few samples: +-4 frames.
FRAME_TOLERANCE = 4


def pods(rig: AudioRig):
    return rig.accessory(MODEL, PODS, name=NAME)


async def test_wireplumber_creates_a_card_with_a2dp_and_hfp_profiles(audio_rig: AudioRig):
    dev = await audio_rig.connect(pods(audio_rig))
    card = await audio_rig.card(PODS, lambda c: c.active_profile not in (None, "off"))

    assert card.properties["device.description"] == NAME  # the card's description is BlueZ's Alias
    assert card.properties["api.bluez5.path"] == dev.path
    profiles = set(card.profiles)
    assert {"a2dp-sink", "headset-head-unit"} <= profiles, profiles
    assert f"a2dp-sink-{dev.a2dp_link.codec}" in profiles
    assert f"headset-head-unit-{dev.hfp_link.headset.codec}" in profiles
    assert card.active_profile.startswith("a2dp-sink")


async def test_a2dp_codec_is_the_models_best_that_the_audio_server_has(audio_rig: AudioRig):
    model = audio_rig.catalog.get(MODEL)
    dev = await audio_rig.connect(pods(audio_rig))
    sources = [e for e in audio_rig.fake.endpoints.values() if e.uuid == A2DP_SOURCE]
    offered = [c for c in model.a2dp_codecs if any(matches(c, e.codec, e.capabilities) for e in sources)]

    assert dev.a2dp_link.codec == offered[0]
    # Debian's PipeWire 0.3.65 has no AAC encoder: the AirPods' first choice is skipped, SBC is used
    assert model.a2dp_codecs[0] == "aac" and "aac" not in offered and dev.a2dp_link.codec == "sbc"
    transport = audio_rig.fake._tree[dev.transport_path][TRANSPORT]
    assert transport["UUID"].value == A2DP_SOURCE  # the local role, as bluetoothd reports it
    assert transport["Endpoint"].value == f"{dev.path}/sep{model.a2dp_codecs.index('sbc') + 1}"


async def _tone_frames(rig: AudioRig, dev, seconds: float) -> tuple[int, float]:
    """Play a tone; the SBC frames with sound in them that reached the headset, and how many the tone's
    length implies at the stream's rate and frame size."""
    before = dev.a2dp_link.stream if dev.a2dp_link.owner is not None else None
    baseline = before.audible_frames if before is not None else 0
    await rig.play(PODS, seconds)
    await poll("the transport acquired", lambda: dev.a2dp_link.owner is not None)
    stream = dev.a2dp_link.stream
    if stream is not before:
        baseline = 0
    # the sink keeps sending silence until it suspends: the tone has ended once silence follows it
    await poll("silence after the tone", lambda: stream.audible_frames > baseline and stream.silent_after_sound >= 20)
    assert stream.bad_packets == 0 and stream.sequence_ok, stream
    first = stream.first
    return stream.audible_frames - baseline, seconds * first.rate / (first.blocks * first.subbands)


async def test_a_tone_delivers_the_sbc_frames_its_length_implies(audio_rig: AudioRig):
    dev = await audio_rig.connect(pods(audio_rig))
    await audio_rig.set_profile(PODS, "a2dp-sink")
    for seconds in (0.25, 1.0):
        frames, expected = await _tone_frames(audio_rig, dev, seconds)
        assert abs(frames - expected) <= FRAME_TOLERANCE, f"{seconds} s of tone: {frames} SBC frames, expected {expected}"
    stream = dev.a2dp_link.stream
    assert audio_rig.fake._tree[dev.transport_path][TRANSPORT]["State"].value == "active"
    assert (stream.first.rate, stream.first.mode) == (48000, "joint")


async def test_sink_volume_reaches_the_transport(audio_rig: AudioRig):
    """PipeWire writes the sink's volume to ``MediaTransport1.Volume`` (A2DP absolute volume, 0..127)."""
    dev = await audio_rig.connect(pods(audio_rig))
    await audio_rig.set_profile(PODS, "a2dp-sink")
    await audio_rig.play(PODS, 0.05)
    await audio_rig.stack.apactl("set-sink-volume", audio_rig.sink(PODS), "50%")
    volume = lambda: audio_rig.fake._tree[dev.transport_path][TRANSPORT]["Volume"].value  # noqa: E731
    await poll("the transport's Volume near half of 127", lambda: 60 <= volume() <= 67)
    assert any(c[2] == "Set" and c[3][1] == "Volume" for c in audio_rig.fake.calls if c[0] == dev.transport_path)


async def test_service_level_connection_runs_in_hfp_order_with_the_models_codecs(audio_rig: AudioRig):
    model = audio_rig.catalog.get(MODEL)
    dev = await audio_rig.connect(pods(audio_rig))
    headset = dev.hfp_link.headset
    await poll("codec selection", headset.codec_selected.is_set)
    ag = headset.ag_features
    model_ids = sorted(SPEC_HFP_IDS[c.codec] for c in model.hfp_codecs)

    # HFP 1.8 §4.2.1: BRSF, BAC (both sides negotiate codecs), CIND=?, CIND?, CMER; then +BCS / AT+BCS
    negotiating = bool(ag & (1 << 9)) and bool(headset.features & HF_CODEC_NEGOTIATION)
    expected = ["AT+BRSF"] + (["AT+BAC"] if negotiating else []) + ["AT+CIND=?", "AT+CIND?", "AT+CMER"]
    commands = [line.split("=", 1)[0] if not line.endswith("=?") else line for line in headset.sent]
    assert commands[: len(expected)] == expected, headset.exchange
    assert negotiating, "PipeWire offered no codec negotiation"
    bac = next(line for line in headset.sent if line.startswith("AT+BAC="))
    assert sorted(int(i) for i in bac.split("=")[1].split(",")) == model_ids
    # the gateway picked a codec both sides have, and the card offers the headset profile with it
    assert SPEC_HFP_IDS[headset.codec] in model_ids and f"AT+BCS={SPEC_HFP_IDS[headset.codec]}" in headset.sent
    card = await audio_rig.card(PODS)
    assert f"headset-head-unit-{headset.codec}" in card.profiles


async def test_headset_profile_becomes_active_and_a2dp_comes_back(audio_rig: AudioRig):
    dev = await audio_rig.connect(pods(audio_rig))
    await audio_rig.set_profile(PODS, "a2dp-sink")
    await audio_rig.play(PODS, 0.1)
    await poll("the transport acquired", lambda: dev.transport_state == "active")

    card = await audio_rig.set_profile(PODS, "headset-head-unit")
    assert card.active_profile == f"headset-head-unit-{dev.hfp_link.headset.codec}"
    await poll("PipeWire to release the A2DP transport", lambda: dev.transport_state == "idle")
    assert dev.a2dp_link.owner is None

    await audio_rig.set_profile(PODS, "a2dp-sink")
    frames, expected = await _tone_frames(audio_rig, dev, 0.25)
    assert abs(frames - expected) <= FRAME_TOLERANCE


async def test_sco_audio_fails_here_for_want_of_kernel_sco_sockets(audio_rig: AudioRig):
    """HFP audio runs on SCO sockets that only the kernel provides; this machine has none, so playing
    into the headset profile's sink must fail there, and say so (never a silent skip)."""
    await audio_rig.connect(pods(audio_rig))
    await audio_rig.set_profile(PODS, "headset-head-unit")
    wav = audio_rig.tmp / "call.wav"
    from tests.pipewire.rig import write_tone
    write_tone(wav, 0.2)
    player = await asyncio.create_subprocess_exec(
        "paplay", f"--device={audio_rig.sink(PODS)}", str(wav), env=audio_rig.stack.env,
        stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL,
    )
    try:
        line = await poll(
            "PipeWire's SCO socket error",
            lambda: next((l for l in audio_rig.stack.log("wireplumber").splitlines() if "sco_create_socket" in l), None),
        )
    finally:
        if player.returncode is None:
            player.kill()
        await player.wait()
    assert "Address family not supported" in line, line
    NOT_RUN_HERE.append(
        "SCO audio (HFP's voice channel) cannot run here: no kernel Bluetooth SCO sockets; PipeWire said: "
        + line.split("sco_create_socket: ", 1)[-1].strip()
        + ". HFP was tested up to the service-level connection and the active headset profile."
    )


async def test_rename_reaches_the_card_when_bluez_announces_the_device_again(audio_rig: AudioRig):
    """PipeWire 0.3.65 reads Alias and Name when BlueZ announces a device and keeps them: a rename while
    connected, or a reconnection, leaves the card's name; a bluetoothd restart (which announces every
    device again) brings the new one."""
    fake = audio_rig.fake
    renamed = "Kim’s renamed pods"
    await audio_rig.connect(pods(audio_rig))
    before = await audio_rig.card(PODS)
    fake.rename_remote(PODS, renamed)
    fake.disconnect(PODS)
    await audio_rig.no_card(PODS)
    await audio_rig.connect(pods(audio_rig))
    card = await audio_rig.card(PODS, lambda c: c.index != before.index, "the card made at reconnection")
    assert card.properties["device.description"] == NAME, "PipeWire now follows renames of known devices"

    await fake.restart(keep_connections=True)
    card = await audio_rig.card(PODS, lambda c: c.properties.get("device.description") == renamed,
                                "the new name on the card after the restart")
    assert card.properties["device.alias"] == renamed  # device.alias is BlueZ's Name, description its Alias


async def test_disconnect_removes_the_card_and_the_stream(audio_rig: AudioRig):
    fake = audio_rig.fake
    dev = await audio_rig.connect(pods(audio_rig))
    transport = dev.transport_path
    await audio_rig.card(PODS)
    fake.disconnect(PODS)
    await audio_rig.no_card(PODS)
    assert transport not in fake._tree and dev.a2dp_link is None and dev.hfp_link is None
    # and back: a new transport object, a new card
    dev = await audio_rig.connect(pods(audio_rig))
    assert dev.transport_path != transport
    await audio_rig.card(PODS)


async def test_bluetoothd_restart_the_card_follows(audio_rig: AudioRig):
    fake = audio_rig.fake
    await audio_rig.connect(pods(audio_rig))
    before = await audio_rig.card(PODS)
    await fake.restart()
    # the links dropped with bluetoothd; the audio server registers again with the new one
    await audio_rig.no_card(PODS)
    await fake.wait_audio(lambda: fake.audio_server, 15)
    dev = await audio_rig.connect(pods(audio_rig))
    card = await audio_rig.card(PODS, lambda c: c.index != before.index, "a new card after the restart")
    assert {"a2dp-sink", "headset-head-unit"} <= set(card.profiles)
    await audio_rig.set_profile(PODS, "a2dp-sink")
    frames, expected = await _tone_frames(audio_rig, dev, 0.25)
    assert abs(frames - expected) <= FRAME_TOLERANCE


async def test_stopping_the_stack_leaves_nothing_running(audio_bus, audio_fake):
    stack = AudioStack(audio_bus.address)
    await asyncio.to_thread(stack.start)
    await poll("the audio server to register", lambda: audio_fake.audio_server)
    runtime = stack.env["XDG_RUNTIME_DIR"]
    assert sorted(stack.running()) == ["pipewire", "pipewire-pulse", "wireplumber"]
    await asyncio.to_thread(stack.stop)
    assert stack.running() == []
    # the fake bluetoothd saw the audio server leave the bus and dropped its registrations
    await poll("the registrations to go", lambda: not audio_fake.audio_server)
    # no process anywhere still lives in that stack's world (children included)
    left = processes_in(runtime)
    assert left == [], f"processes left with XDG_RUNTIME_DIR={runtime}: {left}"
    assert not os.path.exists(runtime)



async def test_transport_acquire_rules_for_other_clients(audio_rig: AudioRig):
    """``TryAcquire`` only while ``pending``; ``Acquire`` gives a socket and the MTUs; only the owner may
    ``Release`` (BlueZ-MediaTransport1). The card is off, so PipeWire leaves the transport alone."""
    import socket

    from dbus_fast import BusType, Message, MessageType
    from dbus_fast.aio import MessageBus

    dev = await audio_rig.connect(pods(audio_rig))
    await audio_rig.set_profile(PODS, "off")
    await poll("the transport idle", lambda: dev.transport_state == "idle" and dev.a2dp_link.owner is None)
    buses = [await MessageBus(bus_address=audio_rig.stack.system_bus, bus_type=BusType.SYSTEM,
                              negotiate_unix_fd=True).connect() for _ in range(2)]
    try:
        def call(bus, member):
            return bus.call(Message(destination="org.bluez", path=dev.transport_path, interface=TRANSPORT,
                                    member=member))

        reply = await call(buses[0], "TryAcquire")
        assert (reply.message_type, reply.error_name) == (MessageType.ERROR, "org.bluez.Error.NotAvailable")
        reply = await call(buses[0], "Acquire")
        assert reply.message_type is MessageType.METHOD_RETURN and reply.signature == "hqq"
        sock = socket.socket(fileno=reply.unix_fds[reply.body[0]])
        assert sock.type == socket.SOCK_SEQPACKET and reply.body[1:] == [A2DP_MTU, A2DP_MTU]
        await poll("the transport active", lambda: dev.transport_state == "active")
        reply = await call(buses[1], "Release")
        assert reply.error_name == "org.bluez.Error.NotAuthorized"
        reply = await call(buses[0], "Release")
        assert reply.message_type is MessageType.METHOD_RETURN
        await poll("the transport idle again", lambda: dev.transport_state == "idle")
        sock.close()
    finally:
        for bus in buses:
            bus.disconnect()
