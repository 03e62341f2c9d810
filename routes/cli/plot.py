"""``routesim run --plot``: write the route timeline of each scenario run."""
from __future__ import annotations

from pathlib import Path


def write_timelines(results: list, out: str) -> list[Path]:
    from routesim.routes.scenario.timeline_plot import draw, html_page

    path = Path(out)
    suffix = path.suffix.lower()
    if suffix not in (".png", ".svg", ".html"):
        raise ValueError(f"--plot {out}: the file must end in .png, .svg or .html")
    if suffix == ".html":
        path.write_text(html_page(results), encoding="utf-8")
        return [path]
    written = []
    for n, result in enumerate(results, 1):
        target = path if len(results) == 1 else path.with_name(f"{path.stem}-{n}{path.suffix}")
        target.write_bytes(draw(result, suffix[1:]))
        written.append(target)
    return written
