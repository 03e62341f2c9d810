"""Matrix reports: findings grouped the way a person reads them, as text, JSON and an offline HTML page.

A finding is a set of cases that deviate from the scenario as written in the same way ("AirPods Pro 2
and Pro 2 USB-C on iOS 17.0–17.6: line 12 route out[builtInSpeaker] instead of out[bluetoothA2DP]"), with
the rules and quirks that decided. The text and JSON are deterministic (sorted, no timings unless asked).
"""
from __future__ import annotations

import html
import json
import warnings
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from routesim.routes.scenario.matrix import DIFFERS, INVALID, NOT_APPLICABLE, OK, CaseResult


@dataclass
class Finding:
    scenario: int
    kind: str                                  # "differs" or "expectations"
    summary: str                               # what deviates, in one line
    cases: list[CaseResult] = field(default_factory=list)
    rules: list[str] = field(default_factory=list)
    quirks: list[str] = field(default_factory=list)

    def where(self, names: dict[str, str], order: list[str]) -> str:
        return where(self.cases, names, order)


def where(cases: list[CaseResult], names: dict[str, str], order: list[str]) -> str:
    """"AirPods Pro 2, Pro 2 USB-C on ios-17.0–ios-17.6" (platform runs contiguous in the swept list)."""
    by_models: dict[tuple, list[str]] = defaultdict(list)
    for r in cases:
        key = tuple(m for _, m in r.case.models) + tuple(f"{k}={v}" for k, v in r.case.switches)
        by_models[key].append(r.case.platform)
    # cases with the same platform runs are named together
    by_runs: dict[str, list[str]] = defaultdict(list)
    for key, plats in by_models.items():
        runs = _runs(sorted(set(plats), key=order.index), order)
        label = " and ".join(names.get(k, k) for k in key) or "(no accessory)"
        by_runs[runs].append(label)
    return "; ".join(f"{', '.join(sorted(labels))} on {runs}" for runs, labels in sorted(by_runs.items()))


def _runs(plats: list[str], order: list[str]) -> str:
    out, start, prev = [], None, None
    for p in plats:
        i = order.index(p)
        if start is None:
            start = prev = i
        elif i == prev + 1:
            prev = i
        else:
            out.append((start, prev))
            start = prev = i
    if start is not None:
        out.append((start, prev))
    return ", ".join(order[a] if a == b else f"{order[a]}–{order[b]}" for a, b in out)


def findings(result) -> list[Finding]:
    groups: dict[tuple, Finding] = {}
    for r in result.results:
        if r.status == DIFFERS:
            sig = tuple((d.line, d.field, json.dumps(d.written, sort_keys=True), json.dumps(d.case, sort_keys=True))
                        for d in r.differences)
            key = (r.case.scenario, DIFFERS, sig)
            if key not in groups:
                first = r.differences[0]
                more = f" (and {len(r.differences) - 1} more differences)" if len(r.differences) > 1 else ""
                summary = f"line {first.line} {first.op}: {first.field} {_show(first.case)} instead of " \
                          f"{_show(first.written)}{more}"
                groups[key] = Finding(r.case.scenario, DIFFERS, summary)
            f = groups[key]
            f.cases.append(r)
            for d in r.differences:
                f.rules = sorted(set(f.rules) | set(d.rules))
                f.quirks = sorted(set(f.quirks) | set(d.quirks))
        if r.failed_expectations:
            key = (r.case.scenario, "expectations", r.failure_lines)
            if key not in groups:
                lines = ", ".join(str(n) for n in r.failure_lines)
                groups[key] = Finding(r.case.scenario, "expectations",
                                      f"the scenario's own expectations fail at line {lines}")
            groups[key].cases.append(r)
    return sorted(groups.values(), key=lambda f: (f.scenario, f.kind, f.summary))


def _show(value: Any) -> str:
    if isinstance(value, list):
        return "[" + ", ".join(map(str, value)) + "]" if value else "[]"
    return str(value)


def counts(result, scenario: int) -> dict[str, int]:
    c = {OK: 0, DIFFERS: 0, NOT_APPLICABLE: 0, INVALID: 0, "expectationsFail": 0}
    for r in result.results:
        if r.case.scenario == scenario:
            c[r.status] += 1
            c["expectationsFail"] += bool(r.failed_expectations)
    return c


def _names(catalog_models) -> dict[str, str]:
    return {m.id: m.product or m.name for m in catalog_models}


def platform_order(result) -> list[str]:
    from routesim.profiles.platform import Platform

    return sorted({r.case.platform for r in result.results} | {str(s.platform) for s in result.scenarios},
                  key=lambda p: (Platform.parse(p).os, Platform.parse(p).version))


def as_text(result, catalog) -> str:
    names, order = _names(catalog.models()), platform_order(result)
    all_findings = findings(result)
    out = [f"matrix: {len(result.scenarios)} scenarios, {len(result.cases)} cases"]
    for i, s in enumerate(result.scenarios):
        c = counts(result, i)
        out.append("")
        out.append(f"{s.file}:{s.line}  {s.name}")
        out.append(f"  {c[OK]} same, {c[DIFFERS]} differ, {c[NOT_APPLICABLE]} not applicable, "
                   f"{c[INVALID]} invalid; the scenario's own expectations fail in {c['expectationsFail']}")
        for f in (f for f in all_findings if f.scenario == i):
            out.append(f"  - {f.where(names, order)}: {f.summary}")
            if f.quirks:
                out.append(f"      quirks: {', '.join(f.quirks)}")
            if f.rules:
                out.append(f"      rules: {', '.join(f.rules)}")
        na = sorted({r.reason for r in result.results if r.case.scenario == i and r.status == NOT_APPLICABLE})
        for reason in na:
            out.append(f"  - not applicable: {reason}")
    return "\n".join(out) + "\n"


def as_json(result, catalog) -> str:
    names, order = _names(catalog.models()), platform_order(result)
    all_findings = findings(result)
    doc = {"scenarios": [], "cases": len(result.cases)}
    for i, s in enumerate(result.scenarios):
        doc["scenarios"].append({
            "file": s.file, "line": s.line, "name": s.name, "counts": counts(result, i),
            "findings": [{"kind": f.kind, "summary": f.summary, "where": f.where(names, order),
                          "rules": f.rules, "quirks": f.quirks,
                          "cases": [r.case.label() for r in f.cases]}
                         for f in all_findings if f.scenario == i],
            "cells": {r.case.label(): {"status": r.status, "failedExpectations": r.failed_expectations,
                                       **({"reason": r.reason} if r.reason else {})}
                      for r in result.results if r.case.scenario == i},
        })
    return json.dumps(doc, indent=1, sort_keys=True) + "\n"


# ---------------------------------------------------------------------------------------- pictures
STATUS_VALUE = {OK: 0, "expectations": 1, DIFFERS: 2, NOT_APPLICABLE: -1, INVALID: 3}
STATUS_COLOURS = ["#d9d9d9", "#4caf50", "#ffb300", "#e53935", "#6a1b9a"]  # n/a, same, expect fails, differs, invalid


def _cell_value(r: CaseResult) -> int:
    if r.status == DIFFERS:
        return 2
    if r.status in (NOT_APPLICABLE, INVALID):
        return STATUS_VALUE[r.status]
    return 1 if r.failed_expectations else 0


def heatmap_grid(result, scenario: int, names: dict[str, str], order: list[str]):
    rows: list[str] = []
    cols = [p for p in order if any(r.case.platform == p and r.case.scenario == scenario for r in result.results)]
    cells: dict[tuple[str, str], int] = {}
    for r in result.results:
        if r.case.scenario != scenario:
            continue
        row = " + ".join(names.get(m, m) for _, m in r.case.models) or "(no accessory)"
        row += "".join(f" {k}={v}" for k, v in r.case.switches)
        if row not in rows:
            rows.append(row)
        cells[(row, r.case.platform)] = max(cells.get((row, r.case.platform), -1), _cell_value(r))
    return rows, cols, cells


def heatmap_png(result, catalog, scenario: int, path_or_buffer) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np
    from matplotlib.colors import BoundaryNorm, ListedColormap

    names, order = _names(catalog.models()), platform_order(result)
    rows, cols, cells = heatmap_grid(result, scenario, names, order)
    grid = np.full((len(rows), len(cols)), -1)
    for (row, col), v in cells.items():
        grid[rows.index(row), cols.index(col)] = v
    fig, ax = plt.subplots(figsize=(max(4.0, 0.55 * len(cols) + 3), max(1.6, 0.32 * len(rows) + 1.2)), dpi=100)
    cmap = ListedColormap(STATUS_COLOURS)
    ax.imshow(grid, cmap=cmap, norm=BoundaryNorm([-1.5, -0.5, 0.5, 1.5, 2.5, 3.5], cmap.N), aspect="auto")
    ax.set_xticks(range(len(cols)), [c.replace("ios-", "") for c in cols], rotation=60, fontsize=7)
    ax.set_yticks(range(len(rows)), rows, fontsize=7)
    ax.set_title(result.scenarios[scenario].name[:90], fontsize=8)
    with warnings.catch_warnings():  # long model names can leave no room to tighten: the picture is still right
        warnings.simplefilter("ignore", UserWarning)
        fig.tight_layout()
    fig.savefig(path_or_buffer, format="png", metadata={"Software": None})
    plt.close(fig)


def summary_png(result, path) -> None:
    """Scenarios x platforms, each cell the share of cases that differ: the CI artefact."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    order = platform_order(result)
    grid = np.zeros((len(result.scenarios), len(order)))
    total = np.zeros_like(grid)
    for r in result.results:
        j = order.index(r.case.platform)
        total[r.case.scenario, j] += 1
        grid[r.case.scenario, j] += r.status == DIFFERS or bool(r.failed_expectations)
    share = np.divide(grid, total, out=np.full_like(grid, np.nan), where=total > 0)
    rows = len(result.scenarios)
    fig, ax = plt.subplots(figsize=(max(6.0, 0.5 * len(order) + 5), min(120.0, max(2.0, 0.14 * rows + 1.5))),
                           dpi=100)
    im = ax.imshow(share, cmap="Reds", vmin=0, vmax=1, aspect="auto")
    ax.set_xticks(range(len(order)), [c.replace("ios-", "") for c in order], rotation=60, fontsize=7)
    ax.set_yticks(range(rows), [s.name[:60] for s in result.scenarios], fontsize=6 if rows < 100 else 4)
    fig.colorbar(im, ax=ax, label="share of cases differing", fraction=0.03)
    fig.subplots_adjust(left=0.35, right=0.95, bottom=0.5 / max(2.0, 0.14 * rows + 1.5) + 0.02, top=0.99)
    fig.savefig(path, format="png", metadata={"Software": None})
    plt.close(fig)


def as_html(result, catalog, timelines: dict[int, str] | None = None) -> str:
    """One offline page: per scenario a heatmap (models x platforms), its findings, and for each finding
    the timeline of one of its cases (drawn only for differing cells)."""
    import base64
    import io

    names, order = _names(catalog.models()), platform_order(result)
    all_findings = findings(result)
    timelines = timelines or {}
    legend = "".join(f'<span class="k" style="background:{c}"></span>{label} '
                     for c, label in zip(STATUS_COLOURS, ("not applicable", "same as written",
                                                          "own expectations fail", "differs", "invalid")))
    parts = [f"<!doctype html><meta charset=utf-8><title>routesim matrix</title><style>{_CSS}</style>",
             f"<h1>routesim matrix</h1><p>{len(result.scenarios)} scenarios, {len(result.cases)} cases. {legend}</p>"]
    for i, s in enumerate(result.scenarios):
        buf = io.BytesIO()
        heatmap_png(result, catalog, i, buf)
        c = counts(result, i)
        parts.append(f'<section id="s{i}"><h2>{html.escape(s.name)}</h2><p class=f>{html.escape(s.file)}:{s.line} · '
                     f'{c[OK]} same, {c[DIFFERS]} differ, {c[NOT_APPLICABLE]} not applicable, '
                     f"expectations fail in {c['expectationsFail']}</p>"
                     f'<img alt="heatmap" src="data:image/png;base64,{base64.b64encode(buf.getvalue()).decode()}">')
        items = [f for f in all_findings if f.scenario == i]
        if items:
            parts.append("<ul>")
            for n, f in enumerate(items):
                anchor = f"s{i}f{n}"
                extra = ""
                if f.quirks:
                    extra += f"<br><small>quirks: {html.escape(', '.join(f.quirks))}</small>"
                if f.rules:
                    extra += f"<br><small>rules: {html.escape(', '.join(f.rules))}</small>"
                picture = timelines.get(id(f.cases[0]))
                if not picture:
                    c = f.cases[0].case
                    models = ",".join(m for _, m in c.models)
                    command = (f"routesim matrix {s.file} --models {models or 'all'} --platforms {c.platform} "
                               f"--html case.html")
                    extra += f"<br><small>timeline: <code>{html.escape(command)}</code></small>"
                if picture:
                    extra += (f'<details id="{anchor}"><summary>timeline of {html.escape(f.cases[0].case.label())}'
                              f'</summary><img alt="timeline" src="data:image/png;base64,{picture}"></details>')
                parts.append(f"<li><b>{html.escape(f.where(names, order))}</b>: {html.escape(f.summary)}{extra}</li>")
            parts.append("</ul>")
        parts.append("</section>")
    return "\n".join(parts) + "\n"


_CSS = ("body{font:14px system-ui,sans-serif;margin:2em;max-width:1200px}h2{font-size:16px;margin-top:2em}"
        ".f{color:#555}.k{display:inline-block;width:1em;height:1em;margin:0 .3em 0 1em;vertical-align:middle}"
        "img{max-width:100%}li{margin:.4em 0}")
