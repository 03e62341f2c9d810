"""The route timeline as a picture: one lane per thing the app could see, over the scenario's steps.

Lanes: output and input ports, each Bluetooth accessory's link (profile/codec), the hardware sample rate,
the session's activation, notifications (with reasons), interruptions, calls and other apps. The x axis is
the sequence of steps (labelled with their line and scenario time), because many steps happen at the
same virtual instant and a time axis would stack them on one point.
"""
from __future__ import annotations

import base64
import html
import io
from typing import Any

LANES = ("output", "input", "link", "sample rate", "active", "notifications", "interruptions", "calls", "others")
_PALETTE = ("#90caf9", "#a5d6a7", "#ffcc80", "#ce93d8", "#80cbc4", "#f48fb1", "#e6ee9c", "#bcaaa4", "#b0bec5")


def lane_values(result) -> tuple[list[str], dict[str, list[str]]]:
    """Per performed step, the text of every lane (expect steps are skipped: they change nothing)."""
    ticks: list[str] = []
    lanes: dict[str, list[str]] = {lane: [] for lane in LANES}
    for step in result.steps:
        if step.step.op == "expect":
            continue
        state = step.state
        ticks.append(f"L{step.step.line} {step.time:g}s")
        lanes["output"].append(",".join(f"{p.type} {p.name}" if p.owner else p.type for p in step.route.outputs) or "-")
        lanes["input"].append(",".join(f"{p.type} {p.name}" if p.owner else p.type for p in step.route.inputs) or "-")
        lanes["link"].append(" ".join(f"{k}:{v}" for k, v in sorted(state.get("links", {}).items())) or "-")
        lanes["sample rate"].append(f"{state.get('sampleRate', 0)} Hz")
        lanes["active"].append("active" if state.get("active") else "inactive")
        notes = [_note(n) for n in step.notifications]
        lanes["notifications"].append(" ".join(n for n in notes if not n.startswith("interruption")))
        lanes["interruptions"].append(" ".join(n for n in notes if n.startswith("interruption")))
        lanes["calls"].append(" ".join(f"{k}:{v}" for k, v in sorted(state.get("calls", {}).items())) or "-")
        lanes["others"].append(" ".join(f"{k}:{v}" for k, v in sorted(state.get("others", {}).items())) or "-")
    return ticks, lanes


def _note(n) -> str:
    """A notification with its reason only (the previous route is the lane just before it)."""
    detail = n.fields.get("reason") or n.fields.get("type")
    return f"{n.name}({detail})" if detail else n.name


def draw(result, fmt: str = "png") -> bytes:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    ticks, lanes = lane_values(result)
    n = max(1, len(ticks))
    fig, ax = plt.subplots(figsize=(min(40.0, max(8.0, 1.1 * n + 2)), 0.55 * len(LANES) + 1.4), dpi=100)
    events = {"notifications", "interruptions"}
    for row, lane in enumerate(LANES):
        y = len(LANES) - 1 - row
        values = lanes[lane]
        if lane in events:
            shown = 0
            for i, text in enumerate(values):
                if text:
                    ax.plot([i + 0.5], [y], marker="v", color="#c62828", markersize=7)
                    # alternate heights so neighbouring labels do not overlap
                    ax.text(i + 0.5, y - 0.22 - 0.2 * (shown % 2), text.replace(" ", "\n")[:90], fontsize=5.5,
                            ha="center", va="top")
                    shown += 1
            continue
        colours = {v: _PALETTE[k % len(_PALETTE)] for k, v in enumerate(sorted(set(values)))}
        colours["-"] = "#eeeeee"
        start = 0
        for i in range(1, len(values) + 1):
            if i == len(values) or values[i] != values[start]:
                ax.barh(y, i - start, left=start, height=0.7, color=colours[values[start]], edgecolor="white")
                ax.text(start + (i - start) / 2, y, values[start][:60], fontsize=6, ha="center", va="center")
                start = i
    ax.set_yticks(range(len(LANES)), list(reversed(LANES)), fontsize=7)
    ax.set_xticks([i + 0.5 for i in range(len(ticks))], ticks, rotation=45, ha="right", fontsize=6)
    ax.set_xlim(0, n)
    ax.set_ylim(-0.9, len(LANES) - 0.4)
    ax.set_title(f"{result.scenario.name[:110]}", fontsize=8)
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    fig.tight_layout()
    buf = io.BytesIO()
    meta: dict[str, Any] = {"Software": None} if fmt == "png" else {"Date": None, "Creator": None}
    if fmt == "svg":
        matplotlib.rcParams["svg.hashsalt"] = "routesim"
    fig.savefig(buf, format=fmt, metadata=meta)
    plt.close(fig)
    return buf.getvalue()


def html_page(results: list[Any]) -> str:
    """One offline page holding the timeline of every scenario given (no script, images inline)."""
    parts = ["<!doctype html><meta charset=utf-8><title>routesim timelines</title>",
             "<style>body{font:14px system-ui,sans-serif;margin:2em}img{max-width:100%}</style>"]
    for r in results:
        png = base64.b64encode(draw(r)).decode()
        status = "PASS" if r.passed else ("INVALID" if r.invalid else "FAIL")
        parts.append(f"<h2>{html.escape(r.scenario.name)}</h2><p>{html.escape(r.scenario.file)}:{r.scenario.line} "
                     f"· {status}</p><img alt=timeline src=\"data:image/png;base64,{png}\">")
    return "\n".join(parts) + "\n"
