"""What a live command's coroutine and the runner that stops it on SIGINT/SIGTERM share
(``routes.cli.unattended.run``): when clean-up has begun, and how to ask for a stop."""
from __future__ import annotations

import contextvars
from typing import Callable


class RunState:
    def __init__(self) -> None:
        self.cleaning = False  # the command's clean-up has begun: a stop request must not interrupt it
        self.request_stop: Callable[[], None] | None = None


RUN: contextvars.ContextVar[RunState | None] = contextvars.ContextVar("routesim_run", default=None)


def cleaning_up() -> None:
    """Called first thing in a live command's ``finally``: the stop request has been heard."""
    state = RUN.get()
    if state is not None:
        state.cleaning = True


def stop_run() -> None:
    """End the run as SIGTERM would (for example: the reader of our output went away)."""
    state = RUN.get()
    if state is not None and state.request_stop is not None:
        state.request_stop()
