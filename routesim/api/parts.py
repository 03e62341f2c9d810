"""The models built on top of the session (engine, recorder, capture, audio measurement, CallKit, cellular)
and the small object they attach to.

Each of those modules exposes ``attach(run)``: it builds its per-phone state, hooks into ``run.phone``
(observers, listeners, activation guards) and serves its ``expect`` key through ``run.extras``. The
API phone attaches all of them to a :class:`Parts`; the scenario runner reads the same list.
"""
from __future__ import annotations

from typing import Any, Callable

from routesim.clock import Clock
from routesim.routes.audio import audio_check, capture, engine, recorder
from routesim.routes.live.manager import RouteManager
from routesim.routes.phone import callkit, cellular, contexts
from routesim.routes.phone.errors import StepError
from routesim.routes.phone.session import Phone as SessionModel

# Order matters: callkit attaches before cellular, which hooks into the call centre.
EXTENSION_MODULES = (engine, recorder, capture, audio_check, callkit, cellular, contexts)


class Parts:
    """The session model, its clock and route manager, and the models attached to them
    (``calls``, ``cellular``, ``engine``, ``recorder``, ``capture``): the ``run`` of ``attach(run)``."""

    # set by the modules' attach(); read them through attached(), which says when one is missing
    calls: Any
    cellular: Any
    engine: Any
    recorder: Any
    capture: Any

    def __init__(self, phone: SessionModel, clock: Clock, manager: RouteManager):
        self.phone = phone
        self.clock = clock
        self.manager = manager
        self.extras: dict[str, Callable[..., Any]] = {}  # expect keys served by the attached models
        for module in EXTENSION_MODULES:
            module.attach(self)

    def attached(self, name: str) -> Any:
        """The model an extension attached (``parts.engine``, ``parts.calls``, ...)."""
        model = getattr(self, name, None)
        if model is None:
            raise StepError(f"the {name} model is not attached to this run")
        return model
