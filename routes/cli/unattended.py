"""What the long-running commands (``watch``, ``scan``, ``fake-bluez``) need to run unattended.

- :class:`LinePrinter`: every line is written and flushed at once, also into a pipe or a file (Python
  block-buffers those), as text or as JSON lines (``--format jsonl``: one object per line with a UTC
  timestamp); a reader that goes away (``watch | head``) ends the run quietly instead of raising
  ``BrokenPipeError`` at every later line and again at exit.
- :func:`run`: SIGINT and SIGTERM end the run within a second, clean-up included, every time.
- :func:`configure_logging`: warnings are one line on stderr, never a traceback.
"""
from __future__ import annotations

import asyncio
import dataclasses
import errno
import json
import logging
import signal
import sys
from datetime import datetime, timezone
from typing import Any, Callable, Coroutine, TextIO

from routesim.clock import WallClock
from routesim.routes.cli.common import point_at_devnull
from routesim.routes.live.lifecycle import RUN, RunState, cleaning_up, stop_run  # noqa: F401 (re-exported)

# How long clean-up may take after SIGINT/SIGTERM before the run gives up waiting for it.
STOP_WITHIN = 0.8


# ---------------------------------------------------------------------------------------------- output
class LinePrinter:
    """Prints ``watch``/``scan`` lines. A line is ``"label   text"``; in JSON lines the label becomes
    ``kind`` and the rest ``text``; accessory events (:meth:`event`) also carry their fields."""

    def __init__(self, fmt: str = "text", stream: TextIO | None = None, clock: Any = None,
                 on_closed: Callable[[], None] | None = stop_run):
        if fmt not in ("text", "jsonl"):
            raise ValueError(f"unknown output format {fmt!r} (text or jsonl)")
        self.fmt = fmt
        self.stream = stream if stream is not None else sys.stdout
        self.clock = clock or WallClock()
        self.on_closed = on_closed
        self.closed = False

    def __call__(self, line: str) -> None:
        label, _, rest = line.partition(" ")
        self._write(line, {"kind": label.rstrip(":"), "text": rest.strip()})

    def event(self, event: Any, line: str) -> None:
        fields: dict[str, Any] = {}
        for f in dataclasses.fields(event):
            value = getattr(event, f.name)
            if dataclasses.is_dataclass(value):  # Connected.info
                fields.update({k: v for k, v in dataclasses.asdict(value).items()})
            else:
                fields[f.name] = value
        label, _, rest = line.partition(" ")
        self._write(line, {"kind": label, "event": type(event).__name__, **fields, "text": rest.strip()})

    def _write(self, line: str, data: dict[str, Any]) -> None:
        if self.closed:
            return
        if self.fmt == "jsonl":
            stamp = datetime.fromtimestamp(self.clock.wall(), timezone.utc).isoformat(timespec="milliseconds")
            line = json.dumps({"time": stamp.replace("+00:00", "Z"), **data}, ensure_ascii=False)
        try:
            self.stream.write(line + "\n")
            self.stream.flush()
        except BrokenPipeError:
            self._reader_gone()
        except OSError as exc:
            if exc.errno != errno.EPIPE:
                raise
            self._reader_gone()

    def _reader_gone(self) -> None:
        """The reading end of the pipe closed: stop printing, and let nothing flush into it at exit."""
        self.closed = True
        point_at_devnull(self.stream)
        if self.on_closed is not None:
            self.on_closed()


def line_buffered() -> None:
    """stdout flushes at each newline even into a pipe or a file (for ``print`` users too)."""
    try:
        sys.stdout.reconfigure(line_buffering=True)  # type: ignore[union-attr]
    except (AttributeError, ValueError):
        pass


# --------------------------------------------------------------------------------------------- logging
class _OneLine(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        record.exc_info, record.exc_text, record.stack_info = None, None, None
        return super().format(record).replace("\n", " ")


class _Stderr(logging.StreamHandler):  # type: ignore[type-arg]
    """Writes to whatever ``sys.stderr`` is at the time (it may be replaced after set-up)."""

    def emit(self, record: logging.LogRecord) -> None:
        self.stream = sys.stderr
        super().emit(record)


def _not_a_reaped_child(record: logging.LogRecord) -> bool:
    """asyncio's child watcher warns when a child it waits for exits after the loop closed. The children
    are pactl processes a stopping watch signalled and did not wait for (a watch must end within a
    second); the watcher's thread reaps them anyway, so the warning tells the user nothing."""
    return not str(record.msg).startswith("Loop %r that handles pid %r is closed")


def configure_logging(verbose: bool) -> None:
    """routesim's log lines on stderr, one line each: warnings always, INFO too with ``-v``."""
    handler = _Stderr()
    handler.addFilter(_not_a_reaped_child)
    handler.setFormatter(_OneLine("routesim: %(message)s" if not verbose else "%(name)s: %(message)s"))
    for name in ("routesim", "asyncio", "bleak"):
        logger = logging.getLogger(name)
        logger.handlers[:] = [handler]
        logger.setLevel(logging.INFO if verbose and name == "routesim" else logging.WARNING)


def _loop_exception(loop: asyncio.AbstractEventLoop, context: dict[str, Any]) -> None:
    """What asyncio would print as a traceback ("Task exception was never retrieved" …): one line."""
    exc = context.get("exception")
    what = context.get("message", "error")
    if "destroyed but it is pending" in what:
        return  # tasks left behind by a clean-up that ran out of time: nothing to tell the user
    if "never retrieved" in what and isinstance(exc, (ConnectionError, EOFError, BlockingIOError, OSError)):
        # dbus-fast drops the future of a send it makes for itself (inside MessageBus.call, its replies to
        # method calls); when the connection dies under it, that future holds the connection's error.
        # The loss itself is reported once ("bus" line), so this is only worth a line with -v.
        logging.getLogger("routesim.bt").info("a send failed as the connection went: %s: %s", type(exc).__name__, exc)
        return
    print(f"routesim: internal: {what}{f': {type(exc).__name__}: {exc}' if exc else ''}", file=sys.stderr)


# ---------------------------------------------------------------------------------------------- running
def run(coro: Coroutine[Any, Any, int], *, stop_within: float = STOP_WITHIN) -> int:
    """Run a command's coroutine until it returns or SIGINT/SIGTERM arrives; then cancel it and give
    its clean-up ``stop_within`` seconds. Exit status 0 when stopped by a signal.

    A cancellation can be lost (in Python 3.11 ``asyncio.wait_for`` drops one that arrives as its inner
    call completes), which left a watch running after Ctrl-C; so the cancel is repeated until the
    command says its clean-up has begun (:func:`cleaning_up`), and the run ends at the deadline
    whatever the command does."""
    state = RunState()
    stop_requested = False

    def interrupt(signum: int, frame: Any) -> None:  # before the loop runs, or where it cannot take handlers
        raise KeyboardInterrupt

    previous = {sig: signal.signal(sig, interrupt) for sig in (signal.SIGTERM,)}

    async def main() -> int:
        nonlocal stop_requested
        loop = asyncio.get_running_loop()
        loop.set_exception_handler(_loop_exception)
        RUN.set(state)
        task = asyncio.ensure_future(coro)
        stop = asyncio.Event()
        state.request_stop = stop.set
        for sig in (signal.SIGINT, signal.SIGTERM):
            try:
                loop.add_signal_handler(sig, stop.set)
            except (NotImplementedError, RuntimeError):  # no signal handlers on this loop: KeyboardInterrupt
                pass
        stopper = asyncio.ensure_future(stop.wait())
        try:
            await asyncio.wait([task, stopper], return_when=asyncio.FIRST_COMPLETED)
        finally:
            stopper.cancel()
        if task.done():
            return task.result()
        stop_requested = True
        deadline = loop.time() + stop_within
        task.cancel()
        while not task.done() and loop.time() < deadline:
            await asyncio.wait([task], timeout=min(0.05, max(0.0, deadline - loop.time())))
            if not task.done() and not state.cleaning:
                task.cancel()  # the last one was lost before clean-up began
        if not task.done():
            print("routesim: clean-up did not finish in time; stopping anyway", file=sys.stderr)
            return 1
        try:
            return task.result()
        except asyncio.CancelledError:
            return 0

    loop = asyncio.new_event_loop()
    try:
        return loop.run_until_complete(main())
    except KeyboardInterrupt:
        return 0 if stop_requested else 130
    finally:
        _shutdown(loop)
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def _shutdown(loop: asyncio.AbstractEventLoop) -> None:
    """Cancel what is left and close the loop, waiting at most a moment (asyncio.run would wait for ever
    on a task that ignores its cancellation)."""
    try:
        pending = [t for t in asyncio.all_tasks(loop) if not t.done()]
        for t in pending:
            t.cancel()
        if pending:
            loop.run_until_complete(asyncio.wait(pending, timeout=0.1))
        loop.run_until_complete(loop.shutdown_asyncgens())
    except (KeyboardInterrupt, RuntimeError):
        pass
    finally:
        loop.close()
