"""Where a behaviour rule or a model fact comes from."""
from __future__ import annotations

from dataclasses import dataclass
from enum import Enum


class Tag(str, Enum):
    DOC = "DOC"  # Apple documentation, SDK header, Technical Q&A, archived guide
    DTS = "DTS"  # an Apple engineer on the developer forums
    DEV = "DEV"  # developer reports: forum questions, issues, logs
    INF = "INF"  # our modelling choice, inferred from the above

    def __str__(self) -> str:
        return f"[{self.value}]"


@dataclass(frozen=True, slots=True)
class Source:
    tag: Tag
    ref: str  # keys from docs/sources.md, e.g. "H-Types (HFP-only devices are not used); QA1754"

    def __str__(self) -> str:
        return f"{self.tag} {self.ref}"

    @classmethod
    def parse(cls, text: str) -> "Source":
        """Parse "[DOC] H-Types; QA1754" or "DOC: ..."; raises ValueError."""
        t = text.strip()
        for tag in Tag:
            for prefix in (f"[{tag.value}]", f"{tag.value}:", f"{tag.value} "):
                if t.startswith(prefix):
                    ref = t[len(prefix):].strip()
                    if not ref:
                        raise ValueError(f"source {text!r} names a tag but no reference")
                    return cls(tag, ref)
        raise ValueError(
            f"source {text!r} must start with one of [DOC], [DTS], [DEV], [INF] followed by source keys from docs/sources.md"
        )
