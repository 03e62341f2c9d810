"""A small rig for table-driven tests: a phone, virtual accessories and the route manager, no YAML."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable

from routesim.bt.virtual import VirtualAccessories
from routesim.profiles.catalog import default_catalog
from routesim.profiles.platform import Platform
from routesim.clock import VirtualClock
from routesim.routes.phone.config import Configuration
from routesim.routes.phone.errors import SessionError
from routesim.routes.live.manager import RouteManager
from routesim.routes.phone.session import AppState, Phone


@dataclass
class Rig:
    phone: Phone
    manager: RouteManager
    virtual: VirtualAccessories
    clock: VirtualClock
    fired: set[str] = field(default_factory=set)
    taken: list = field(default_factory=list)  # the notifications the last notes() took, with their rules

    def do(self, action: Callable[["Rig"], Any]) -> SessionError | None:
        """Run one action; return the SessionError it raised, if any. Records the rules that fired."""
        try:
            action(self)
            return None
        except SessionError as e:
            return e
        finally:
            self.fired.update(self.phone.fired)

    def connect(self, key: str) -> None:
        self.manager.dispatch(self.virtual.connect(key))

    def disconnect(self, key: str) -> None:
        self.manager.dispatch(self.virtual.disconnect(key))

    def call(self, method: str, *args: Any) -> Any:
        return self.manager.call(getattr(self.phone, method), *args)

    def notes(self) -> list[tuple]:
        """Pending notifications as compact tuples: (name, reason-or-type)."""
        out = []
        self.taken = self.manager.take_notifications()
        for n in self.taken:
            key = n.fields.get("reason") if n.name == "routeChange" else n.fields.get("type")
            out.append((n.name, key) if key else (n.name,))
        return out

    def route(self) -> tuple[tuple[str, ...], tuple[str, ...]]:
        return self.phone.route.types()


def make_rig(*, platform: str = "ios-26.0", hardware: str = "iphone", category: str = "soloAmbient",
             mode: str = "default", options: tuple[str, ...] = (), devices: tuple[tuple[str, str], ...] = (),
             active: bool = False, others: dict[str, tuple[str, str, tuple[str, ...], bool]] | None = None,
             app: AppState | None = None, behavior: dict | None = None, firmware: str | None = None,
             spare: tuple[tuple[str, str], ...] = ()) -> Rig:
    """A phone in the given state. ``devices`` are connected (in order) before the test; ``spare`` ones
    are known but not connected, ready for a connect event."""
    clock = VirtualClock()
    catalog = default_catalog()
    phone = Phone(platform=Platform.parse(platform), hardware=hardware, app=app or AppState(),
                  behavior=behavior, now=clock.now)
    manager = RouteManager(phone, catalog)
    virtual = VirtualAccessories()
    manager.add_sink(virtual)
    rig = Rig(phone, manager, virtual, clock)
    if category != "soloAmbient" or options or mode != "default":
        phone.set_category(category, mode, options)
    for key, model_id in (*devices, *spare):
        manager.ensure_accessory(virtual.add(key, model_id, catalog.get(model_id).name, firmware=firmware))
    for key, _ in devices:
        manager.dispatch(virtual.connect(key), silent=True)
    for oid, (cat, omode, opts, playing) in (others or {}).items():
        phone.add_other(oid, Configuration(cat, omode, frozenset(opts)), playing)
    if active:
        phone.set_active(True)
    rig.fired.update(phone.fired)
    phone.pending.clear()
    phone.commands.clear()
    return rig
