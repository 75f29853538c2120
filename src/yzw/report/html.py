"""The HTML view of a certification report (template: reports/templates/certification.html.j2)."""

from __future__ import annotations

import json
import math
from itertools import groupby
from typing import Any

import jinja2

from yzw.content import content_path
from yzw.spec.limits import hours, limits

PLOT_WIDTH, BAR_HEIGHT = 900, 14


def render(document: dict[str, Any]) -> str:
    environment = jinja2.Environment(
        loader=jinja2.FileSystemLoader(content_path("reports", "templates")), autoescape=True
    )
    chapters = [
        (f"{area} · 第{reqs[0]['chapter']}章 · chapter {reqs[0]['chapter']}", reqs)
        for area, group in groupby(document["requirements"], key=lambda r: r["id"].split("-")[0])
        for reqs in [list(group)]
    ]
    return environment.get_template("certification.html.j2").render(
        doc=document,
        chapters=chapters,
        delay_svg=delay_plot(document.get("delays", [])),
        record=json.dumps(document["system"], ensure_ascii=False, indent=2),
    )


def delay_plot(delays: list[dict[str, Any]]) -> str:
    """A bar per event: its delay on a log scale, with the 60 s real-time aim and the 12 h limit marked."""
    if not delays:
        return ""
    deadline, real_time = limits().event_deadline_seconds, limits().real_time_seconds
    top = math.log10(max(deadline * 2, *(max(d["delay_seconds"], 0.001) for d in delays)))
    bottom = -2.0

    def x(seconds: float) -> float:
        return 200 + (math.log10(max(seconds, 0.01)) - bottom) / (top - bottom) * (PLOT_WIDTH - 220)

    rows = []
    for index, delay in enumerate(delays):
        y = 20 + index * BAR_HEIGHT
        colour = (
            "#cf222e"
            if delay["delay_seconds"] > deadline
            else "#9a6700"
            if delay["delay_seconds"] > real_time
            else "#1a7f37"
        )
        width = x(delay["delay_seconds"]) - 200
        rows.append(
            f'<text x="0" y="{y + 10}" font-size="10">{delay["step"]} {delay["application_no"][-8:]}</text>'
            f'<rect x="200" y="{y}" width="{width:.1f}" height="{BAR_HEIGHT - 3}" fill="{colour}">'
            f"<title>{delay['delay_seconds']} s</title></rect>"
        )
    height = 40 + len(delays) * BAR_HEIGHT
    marks = "".join(
        f'<line x1="{x(s):.1f}" x2="{x(s):.1f}" y1="10" y2="{height - 15}" stroke="#555" stroke-dasharray="4"/>'
        f'<text x="{x(s) + 3:.1f}" y="{height - 3}" font-size="10">{label}</text>'
        for s, label in ((real_time, f"{real_time:g} s 实时"), (deadline, f"{hours(deadline)} 时限"))
    )
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{PLOT_WIDTH}" height="{height}">{"".join(rows)}{marks}</svg>'
    )
