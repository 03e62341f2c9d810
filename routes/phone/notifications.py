"""What the app is told: NotificationCenter posts and CallKit delegate callbacks, in order."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from routesim.routes.phone.frozen import quick_init
from routesim.routes.phone.ports import Route


@quick_init
@dataclass(frozen=True, slots=True)
class Notification:
    name: str  # canonical short name (routes.vocabulary.NOTIFICATIONS)
    fields: dict[str, Any] = field(default_factory=dict)
    time: float = 0.0
    rule: str | None = None  # the rule that posted it

    def as_dict(self) -> dict:
        out: dict[str, Any] = {}
        for k, v in self.fields.items():
            out[k] = v.as_dict() if isinstance(v, Route) else v
        return {self.name: out} if out else {self.name: {}}

    def short(self) -> str:
        parts = []
        for k, v in self.fields.items():
            parts.append(f"{k}={v.short() if isinstance(v, Route) else v}")
        return f"{self.name}({', '.join(parts)})" if parts else self.name
