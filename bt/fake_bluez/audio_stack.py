"""The real Linux audio stack (PipeWire, WirePlumber, pipewire-pulse) on private buses and directories.

It talks Bluetooth to whatever owns ``org.bluez`` on the private system bus it is given (the fake
bluetoothd), and keeps everything else to itself: its own session bus, ``XDG_RUNTIME_DIR``, config,
state and home directories, so it never touches the host's audio server or the host's saved state.

Start order and settings as observed with Debian 12's pipewire 0.3.65 and wireplumber 0.4.13 [INF]:
pipewire, then wireplumber (the bluez5 plugin runs inside it), then pipewire-pulse (so that ``pactl``
has a server). WirePlumber 0.4's Bluetooth monitor waits for a logind seat; without one it must be told
not to (``with-logind = false``) [DEV WirePlumber-0.4]. A fresh state directory per stack: saved state can
make a card start in profile ``off``.
"""
from __future__ import annotations

import asyncio
import os
import re
import shutil
import signal
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from routesim.bt.fake_bluez.privatebus import PrivateBus, require_private_bus

# Each program, the Debian package that has it.
PROGRAMS = {
    "pipewire": "pipewire",
    "wireplumber": "wireplumber",
    "pipewire-pulse": "pipewire-pulse",
    "pactl": "pulseaudio-utils",
    "pw-play": "pipewire",
}
BLUEZ_PLUGIN = "libspa-0.2-bluetooth"
_PLUGIN_GLOBS = ("/usr/lib/*/spa-0.2/bluez5/libspa-bluez5.so", "/usr/lib/spa-0.2/bluez5/libspa-bluez5.so",
                 "/usr/lib64/spa-0.2/bluez5/libspa-bluez5.so")

# WirePlumber 0.4 reads lua snippets from $XDG_CONFIG_HOME/wireplumber/<section>.lua.d after its own.
_WIREPLUMBER_CONFIG = {
    # no logind seat in a container or CI: without this the Bluetooth monitor never starts
    "bluetooth.lua.d/51-routesim.lua": 'bluez_monitor.properties["with-logind"] = false\n',
    # the host's sound cards and cameras are none of the test's business
    "main.lua.d/51-routesim.lua": "alsa_monitor.enabled = false\nv4l2_monitor.enabled = false\n"
                                  "libcamera_monitor.enabled = false\n",
}


class AudioStackError(RuntimeError):
    pass


def missing_programs() -> list[str]:
    """The Debian packages whose programs (or bluez5 plugin) are not installed here; [] when all are."""
    missing = sorted({pkg for prog, pkg in PROGRAMS.items() if shutil.which(prog) is None})
    if not any(Path("/").glob(g.lstrip("/")) for g in _PLUGIN_GLOBS):
        missing.append(BLUEZ_PLUGIN)
    return missing


def wait_for(what: str, check: Callable[[], object], timeout: float, interval: float = 0.02) -> object:
    """Poll ``check`` until it returns something true; :class:`AudioStackError` naming ``what`` after
    ``timeout`` seconds. Polling, never a fixed sleep: busy machines take longer, idle ones less."""
    deadline = time.monotonic() + timeout
    while True:
        result = check()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AudioStackError(f"timed out after {timeout:.0f} s waiting for {what}")
        time.sleep(interval)


class AudioStack:
    """``start()`` → the environment its clients (``pactl``, ``pw-play``) need; ``stop()`` ends every
    process it started (by PID) and removes its directory. ``system_bus`` must be a private bus."""

    def __init__(self, system_bus: str, *, timeout: float = 20.0):
        self.system_bus = require_private_bus(system_bus, "PipeWire's Bluetooth plugin")
        self.timeout = timeout
        self.directory: Path | None = None
        self.session_bus: PrivateBus | None = None
        self.processes: dict[str, subprocess.Popen[bytes]] = {}
        self.env: dict[str, str] = {}

    # -- lifecycle -------------------------------------------------------------------------------------
    def start(self) -> dict[str, str]:
        missing = missing_programs()
        if missing:
            raise AudioStackError(
                "the audio stack is not installed: apt-get install " + " ".join(missing)
                + " (scripts/bootstrap.sh does this)"
            )
        self.directory = Path(tempfile.mkdtemp(prefix="routesim-audio-"))
        try:
            self._start()
        except BaseException:
            self.stop()
            raise
        return self.env

    def _start(self) -> None:
        assert self.directory is not None
        d = self.directory
        dirs = {name: d / name for name in ("runtime", "home", "config", "state", "logs")}
        for path in dirs.values():
            path.mkdir(mode=0o700)
        for rel, text in _WIREPLUMBER_CONFIG.items():
            target = dirs["config"] / "wireplumber" / rel
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(text, encoding="utf-8")
        self.session_bus = PrivateBus(d / "session-bus")
        (d / "session-bus").mkdir(mode=0o700)
        session = self.session_bus.start()
        runtime = str(dirs["runtime"])
        keep = {k: v for k, v in os.environ.items() if k in ("PATH", "LANG", "LC_ALL", "TZ")}
        self.env = {
            **keep,
            "HOME": str(dirs["home"]),
            "XDG_RUNTIME_DIR": runtime,
            "PIPEWIRE_RUNTIME_DIR": runtime,
            "PULSE_RUNTIME_PATH": str(dirs["runtime"] / "pulse"),
            "PULSE_SERVER": f"unix:{dirs['runtime'] / 'pulse' / 'native'}",
            "XDG_CONFIG_HOME": str(dirs["config"]),
            "XDG_STATE_HOME": str(dirs["state"]),
            "XDG_DATA_HOME": str(dirs["home"] / ".local" / "share"),
            "DBUS_SESSION_BUS_ADDRESS": session,
            "DBUS_SYSTEM_BUS_ADDRESS": self.system_bus,
        }
        self._spawn("pipewire")
        wait_for("pipewire's socket", lambda: (dirs["runtime"] / "pipewire-0").exists() or self._died("pipewire"),
                 self.timeout)
        self._spawn("wireplumber")
        self._spawn("pipewire-pulse")
        wait_for("pipewire-pulse to answer pactl", lambda: self._died("pipewire-pulse") or self._pactl_ok(), self.timeout)

    def _spawn(self, program: str) -> None:
        assert self.directory is not None
        log = open(self.directory / "logs" / f"{program}.log", "wb")
        try:
            self.processes[program] = subprocess.Popen(
                [program], env=self.env, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                cwd=self.env["HOME"], start_new_session=True,
            )
        finally:
            log.close()

    def _died(self, program: str) -> bool:
        proc = self.processes.get(program)
        if proc is not None and proc.poll() is not None:
            raise AudioStackError(f"{program} exited with status {proc.returncode}: {self.log_tail(program)}")
        return False

    def _pactl_ok(self) -> bool:
        try:
            return subprocess.run(["pactl", "info"], env=self.env, capture_output=True, timeout=5).returncode == 0
        except subprocess.TimeoutExpired:
            return False

    def running(self) -> list[str]:
        """The programs of this stack still running."""
        return [name for name, proc in self.processes.items() if proc.poll() is None]

    def stop(self) -> None:
        """Stop in reverse start order (clients before the server), TERM then KILL, each by its PID."""
        for name in reversed(list(self.processes)):
            proc = self.processes[name]
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
                try:
                    proc.wait(timeout=5)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait()
        if self.session_bus is not None:
            self.session_bus.close()
            self.session_bus = None
        if self.directory is not None:
            shutil.rmtree(self.directory, ignore_errors=True)
            self.directory = None

    def __enter__(self) -> "AudioStack":
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- clients ---------------------------------------------------------------------------------------
    def run(self, *argv: str, timeout: float = 10.0, check: bool = True) -> subprocess.CompletedProcess[str]:
        """A client program (``pactl``, ``pw-play`` …) in this stack's environment."""
        proc = subprocess.run(list(argv), env=self.env, capture_output=True, text=True, timeout=timeout)
        if check and proc.returncode != 0:
            raise AudioStackError(f"{' '.join(argv)} failed ({proc.returncode}): {proc.stderr.strip() or proc.stdout.strip()}")
        return proc

    def pactl(self, *args: str, timeout: float = 10.0) -> str:
        return self.run("pactl", *args, timeout=timeout).stdout

    def cards(self) -> dict[str, "Card"]:
        """``pactl list cards``, by card name."""
        return parse_pactl_cards(self.pactl("list", "cards"))

    # The same from a coroutine: a fake bluetoothd on the caller's event loop must go on answering
    # while a client waits (PipeWire's Acquire is a blocking call made while pactl waits for it).
    async def arun(self, *argv: str, timeout: float = 10.0, check: bool = True) -> tuple[int, str, str]:
        proc = await asyncio.create_subprocess_exec(
            *argv, env=self.env, stdin=asyncio.subprocess.DEVNULL, stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        try:
            out, err = await asyncio.wait_for(proc.communicate(), timeout)
        except asyncio.TimeoutError:
            proc.kill()
            await proc.wait()
            raise AudioStackError(f"{' '.join(argv)} did not finish within {timeout:.0f} s") from None
        rc = proc.returncode if proc.returncode is not None else -1
        text, etext = out.decode(errors="replace"), err.decode(errors="replace")
        if check and rc != 0:
            raise AudioStackError(f"{' '.join(argv)} failed ({rc}): {etext.strip() or text.strip()}")
        return rc, text, etext

    async def apactl(self, *args: str, timeout: float = 10.0) -> str:
        return (await self.arun("pactl", *args, timeout=timeout))[1]

    async def acards(self) -> dict[str, "Card"]:
        return parse_pactl_cards(await self.apactl("list", "cards"))

    def log(self, program: str) -> str:
        """Everything ``program`` (``pipewire``, ``wireplumber``, ``pipewire-pulse``) logged so far."""
        if self.directory is None:
            return ""
        try:
            return (self.directory / "logs" / f"{program}.log").read_text(errors="replace")
        except OSError:
            return ""

    def log_tail(self, program: str, lines: int = 20) -> str:
        if self.directory is None:
            return ""
        path = self.directory / "logs" / f"{program}.log"
        try:
            return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""


@dataclass
class Card:
    """One card of ``pactl list cards``: its properties, its profiles (name -> available) and the
    active one."""

    name: str
    index: int
    properties: dict[str, str] = field(default_factory=dict)
    profiles: dict[str, bool] = field(default_factory=dict)
    active_profile: str | None = None


_CARD = re.compile(r"^Card #(\d+)$")
_PROP = re.compile(r'^\t\t([\w.\-]+) = "(.*)"$')
_PROFILE = re.compile(r"^\t\t([\w.\-]+): .*available: (yes|no)\)$")


def parse_pactl_cards(text: str) -> dict[str, Card]:
    cards: dict[str, Card] = {}
    card: Card | None = None
    section = ""
    for line in text.splitlines():
        m = _CARD.match(line)
        if m:
            card = Card(name="", index=int(m.group(1)))
            continue
        if card is None:
            continue
        if line.startswith("\tName: "):
            card.name = line.split(": ", 1)[1]
            cards[card.name] = card
        elif line.startswith("\tActive Profile: "):
            card.active_profile = line.split(": ", 1)[1]
        elif line.startswith("\t") and not line.startswith("\t\t"):
            section = line.strip().rstrip(":")
        elif section == "Properties" and (m := _PROP.match(line)):
            card.properties[m.group(1)] = m.group(2)
        elif section == "Profiles" and (m := _PROFILE.match(line)):
            card.profiles[m.group(1)] = m.group(2) == "yes"
    return cards
