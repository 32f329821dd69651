"""The batch report's charts: plain matplotlib Figures (no pyplot, no Qt), one per section.

The same builders serve the HTML report (inline SVG), the PDF report and the GUI canvas.
Labels that come from the data (group values) are drawn as text, never as mathtext, and
cut to ``LABEL_CHARS`` characters.
"""

from __future__ import annotations

import io
import re
import warnings
from collections.abc import Callable
from typing import TYPE_CHECKING

from matplotlib.dates import date2num
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator, PercentFormatter

from vsa_desktop.core.batch_report import CHANNEL_NAMES, VERDICTS, ReportData, next_period
from vsa_desktop.core.explain.highlight import EMOTION_STYLE
from vsa_desktop.core.taxonomy import EMOTIONS
from vsa_desktop.core.verdict import VERDICT_TITLES

if TYPE_CHECKING:
    from matplotlib.axes import Axes

# One Okabe-Ito colour per emotion, the same as the highlighted words (it disagreed on
# happy, surprise and neutral).
EMOTION_COLORS = {e: style["color"] for e, style in EMOTION_STYLE.items()}
VERDICT_COLORS = {
    "consistent": "#009E73",
    "different-strength": "#56B4E9",
    "mixed": "#E69F00",
    "divergent": "#D55E00",
    "one channel": "#BBBBBB",
}
LABEL_CHARS = 32
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


def plain(text: str, limit: int = LABEL_CHARS) -> str:
    """``text`` safe to draw: no control characters, ``$`` not read as mathtext, cut short."""
    text = _CONTROL.sub(" ", text)
    if len(text) > limit:
        text = text[: limit - 1] + "…"
    return text.replace("$", r"\$")


def _figure(height: float = 3.2) -> Figure:
    return Figure(figsize=(7.5, height), dpi=100, layout="constrained")


def _style(ax: Axes) -> None:
    ax.spines[["top", "right"]].set_visible(False)
    ax.set_axisbelow(True)


def fused_figure(data: ReportData) -> Figure:
    """How many results got each fused label."""
    fig = _figure()
    ax = fig.add_subplot()
    counts = [data.fused.get(e, 0) for e in EMOTIONS]
    bars = ax.barh(list(EMOTIONS), counts, color=[EMOTION_COLORS[e] for e in EMOTIONS])
    ax.bar_label(bars, labels=[f"{c:,}" for c in counts], padding=3, fontsize=8)
    ax.invert_yaxis()
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_xlabel("results")
    ax.set_title("Fused label", loc="left", fontsize=11)
    ax.xaxis.grid(True, color="#dddddd", linewidth=0.6)
    _style(ax)
    return fig


def channels_figure(data: ReportData) -> Figure:
    """The share of each label per channel (text, image, fused)."""
    fig = _figure()
    ax = fig.add_subplot()
    channels = [
        ("text", data.channel_labels["text"], data.channel_counts["text"]),
        ("vision", data.channel_labels["vision"], data.channel_counts["vision"]),
        ("fusion", data.fused, data.results),
    ]
    width = 0.8 / len(channels)
    hatches = {"text": "//", "vision": "\\\\", "fusion": ""}
    greys = {"text": "#4D4D4D", "vision": "#A6A6A6", "fusion": "#1A1A1A"}
    for i, (name, labels, n) in enumerate(channels):
        shares = [labels.get(e, 0) / n if n else 0.0 for e in EMOTIONS]
        xs = [x + (i - 1) * width for x in range(len(EMOTIONS))]
        ax.bar(
            xs,
            shares,
            width,
            label=f"{CHANNEL_NAMES[name]} ({n:,})",
            color=greys[name],
            hatch=hatches[name],
            edgecolor="white",
        )
    ax.set_xticks(range(len(EMOTIONS)), list(EMOTIONS))
    ax.yaxis.set_major_formatter(PercentFormatter(1.0, decimals=0))
    ax.yaxis.grid(True, color="#dddddd", linewidth=0.6)
    ax.set_title("Label share per channel", loc="left", fontsize=11)
    ax.legend(frameon=False, fontsize=8)
    _style(ax)
    return fig


def agreement_figure(data: ReportData) -> Figure:
    """The share of each agreement verdict."""
    fig = _figure(2.2)
    ax = fig.add_subplot()
    total = sum(data.verdicts.values()) or 1
    left = 0.0
    for key in VERDICTS:
        share = data.verdicts.get(key, 0) / total
        if not share:
            continue
        ax.barh([0], [share], left=left, color=VERDICT_COLORS[key], edgecolor="white")
        if share >= 0.06:
            ax.text(left + share / 2, 0, f"{share:.0%}", ha="center", va="center", fontsize=8)
        left += share
    handles = [
        ax.bar([0], [0], color=VERDICT_COLORS[k], label=VERDICT_TITLES.get(k, "One channel only"))
        for k in VERDICTS
    ]
    ax.legend(handles=handles, ncols=3, fontsize=8, frameon=False, loc="upper center",
              bbox_to_anchor=(0.5, -0.25))  # fmt: skip
    ax.set_xlim(0, 1)
    ax.set_yticks([])
    ax.xaxis.set_major_formatter(PercentFormatter(1.0, decimals=0))
    ax.set_title("Agreement between text and image", loc="left", fontsize=11)
    _style(ax)
    return fig


def groups_figure(data: ReportData, limit: int = 15) -> Figure:
    """Fused labels per group, as shares, the largest groups first."""
    groups = data.top_groups(limit)
    fig = _figure(max(2.2, 0.32 * len(groups) + 1.2))
    ax = fig.add_subplot()
    names = [f"{plain(name)} ({sum(c.values()):,})" for name, c in groups]
    lefts = [0.0] * len(groups)
    for e in EMOTIONS:
        shares = [c.get(e, 0) / (sum(c.values()) or 1) for _n, c in groups]
        ax.barh(names, shares, left=lefts, color=EMOTION_COLORS[e], label=e, edgecolor="white")
        lefts = [a + b for a, b in zip(lefts, shares, strict=True)]
    ax.invert_yaxis()
    ax.set_xlim(0, 1)
    ax.xaxis.set_major_formatter(PercentFormatter(1.0, decimals=0))
    ax.legend(ncols=4, fontsize=7, frameon=False, loc="lower left", bbox_to_anchor=(0, 1.0))
    ax.set_title(f"Fused label by {plain(data.group_column or '')}", loc="left", fontsize=11,
                 pad=34)  # fmt: skip
    _style(ax)
    return fig


def trend_figure(data: ReportData) -> Figure:
    """Fused labels per period of the time column, stacked as steps.

    Each period is a flat step as wide as the period, and a period without rows is a gap
    at zero: a line or a stacked area between the points would draw counts (and slopes)
    for the time between two periods that has none.
    """
    period, points = data.trend()
    fig = _figure(3.4)
    ax = fig.add_subplot()
    if points:
        starts = [moment for moment, _c in points]
        edges = date2num([*starts, next_period(starts[-1], period)])
        bottom = [0] * len(points)
        for e in EMOTIONS:
            values = [c.get(e, 0) for _m, c in points]
            top = [a + b for a, b in zip(bottom, values, strict=True)]
            # step="post" holds each value over [start, next start); the last is repeated
            # so the final period has its width too.
            ax.fill_between(edges, [*bottom, bottom[-1]], [*top, top[-1]], step="post",
                            color=EMOTION_COLORS[e], label=e, linewidth=0)  # fmt: skip
            bottom = top
        ax.set_xlim(edges[0], edges[-1])
        ax.set_ylim(bottom=0)
        ax.legend(ncols=7, fontsize=7, frameon=False, loc="lower left", bbox_to_anchor=(0, 1.0))
        ax.xaxis_date()
        fig.autofmt_xdate()
    ax.yaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_ylabel(f"results per {period}" if period else "results")
    ax.set_title(f"Fused label per {period} ({plain(data.time_column or '')})", loc="left",
                 fontsize=11, pad=22)  # fmt: skip
    ax.yaxis.grid(True, color="#dddddd", linewidth=0.6)
    _style(ax)
    return fig


def sections(data: ReportData) -> list[tuple[str, Callable[[ReportData], Figure]]]:
    """The charts this report has, by section id."""
    charts: list[tuple[str, Callable[[ReportData], Figure]]] = [
        ("fused", fused_figure),
        ("channels", channels_figure),
        ("agreement", agreement_figure),
    ]
    if data.group_column and data.by_group:
        charts.append(("groups", groups_figure))
    if data.time_column and data.times:
        charts.append(("trend", trend_figure))
    return charts


def svg(figure: Figure) -> str:
    """The figure as an inline ``<svg>`` element (text drawn as paths: no fonts, no scripts)."""
    import matplotlib

    buffer = io.StringIO()
    with matplotlib.rc_context({"svg.fonttype": "path", "svg.hashsalt": "vsa-report"}):
        quiet_glyphs(lambda: figure.savefig(buffer, format="svg", metadata={"Date": None}))
    text = buffer.getvalue()
    text = re.sub(r"<metadata>.*?</metadata>\s*", "", text, flags=re.S)
    return text[text.index("<svg") :]


def quiet_glyphs(draw: Callable[[], object]) -> None:
    """Run ``draw`` without matplotlib's warnings about glyphs the font does not have."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="Glyph .* missing from")
        warnings.filterwarnings("ignore", message="Matplotlib currently does not support")
        draw()
