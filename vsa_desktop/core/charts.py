"""Chart figures for one result and for the history (plain matplotlib Figure, no pyplot, no Qt).

The same builders serve the GUI canvas (which passes its own figure to redraw into) and the
exporters (PNG/SVG/PDF through ``Figure.savefig``).

Reading the bars back: every bar group is one entry of ``ax.containers`` whose label is the
channel ("text", "vision" or "fused"), in canonical emotion order; each bar's gid is
``"<channel>-<emotion>"``. ``bar_heights(figure)`` returns them as a dict.
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from matplotlib.axes import Axes
from matplotlib.container import BarContainer
from matplotlib.figure import Figure, SubFigure
from matplotlib.ticker import MaxNLocator

from vsa_desktop.core import verdict
from vsa_desktop.core.result import AnalysisResult
from vsa_desktop.core.taxonomy import EMOTIONS

if TYPE_CHECKING:
    from vsa_desktop.core.history import HistoryEntry

FIGSIZE = (8.0, 5.0)  # inches: 800 x 500 px at dpi 100
DPI = 100

# Okabe-Ito palette (safe for the common colour-vision deficiencies), plus hatching so the
# channels stay apart in greyscale print.
STYLE: dict[str, dict[str, str]] = {
    "text": {"color": "#0072B2", "hatch": "//", "name": "Text"},
    "vision": {"color": "#E69F00", "hatch": "\\\\", "name": "Vision"},
    "fused": {"color": "#009E73", "hatch": "..", "name": "Fused"},
}
NO_SCORES = "No scores to show"
NO_HISTORY = "No analyses yet"
MIN_TIME_PAD = timedelta(seconds=30)
LEGEND_BAND_PT = 24  # the title sits above the legend band, never under it
# Matplotlib is not thread-safe: threads that draw (the GUI's chart worker, an export worker)
# hold this while they build or rasterise a figure.
RENDER_LOCK = threading.RLock()


def new_figure() -> Figure:
    """Return an empty 8x5-inch figure (800x500 px at dpi 100) with constrained layout."""
    return Figure(figsize=FIGSIZE, dpi=DPI, layout="constrained")


def _prepare(figure: Figure | None, margins: dict[str, float] | None = None) -> Figure:
    """Clear ``figure`` (or make one); constrained layout, or fixed ``margins`` when given.

    Fixed margins (``subplots_adjust`` fractions) skip the layout solver, which is most of
    the cost of a redraw.
    """
    if figure is None:
        figure = new_figure()
    else:
        figure.clear()
    if margins is None:
        figure.set_layout_engine("constrained")
    else:
        figure.set_layout_engine(None)
        figure.subplots_adjust(**margins)
    return figure


def channels(result: AnalysisResult) -> list[tuple[str, dict[str, float]]]:
    """The (channel, shown scores) pairs of ``result`` that are present, in drawing order.

    Shown scores are the calibrated probabilities when there are any, so the fused bar of the
    fused label is the confidence printed in the title, the window and the exports.
    """
    found: list[tuple[str, dict[str, float]]] = []
    if result.text:
        found.append(("text", dict(result.text.shown_scores)))
    if result.vision:
        found.append(("vision", dict(result.vision.shown_scores)))
    if result.fusion:
        found.append(("fused", dict(result.fusion.shown_scores)))
    return found


def result_figure(
    result: AnalysisResult,
    figure: Figure | None = None,
    margins: dict[str, float] | None = None,
) -> Figure:
    """Draw the seven scores of each present channel as grouped bars.

    Args:
        result: the analysis to draw.
        figure: a figure to clear and redraw into (the GUI canvas's); a new one when None.
        margins: fixed ``subplots_adjust`` fractions instead of the constrained layout.

    Returns:
        The figure, with one axes whose ``containers`` are labelled by channel.
    """
    figure = _prepare(figure, margins)
    draw_result(figure, result)
    return figure


def draw_result(figure: Figure | SubFigure, result: AnalysisResult) -> Axes:
    """Draw ``result``'s grouped bars into an empty figure or subfigure; return the axes."""
    ax = figure.add_subplot()
    present = channels(result)
    if not present:
        _message(ax, NO_SCORES)
        return ax
    width = 0.8 / len(present)
    for i, (channel, scores) in enumerate(present):
        _bars(ax, channel, scores, offset=(i - (len(present) - 1) / 2) * width, width=width)
    ax.set_xticks(range(len(EMOTIONS)), [e.capitalize() for e in EMOTIONS])
    ax.set_ylim(0.0, 1.0)
    ax.set_ylabel("Score (emotion expressed)")
    ax.yaxis.grid(True, color="#cccccc", linewidth=0.6)
    ax.set_axisbelow(True)
    handles: list[Any] = [c for c in ax.containers if isinstance(c, BarContainer)]
    # Above the axes, so it never hides a bar; the title sits at the left of the same band.
    ax.legend(
        handles,
        [_legend_name(result, str(c.get_label())) for c in handles],
        loc="lower right",
        bbox_to_anchor=(1.0, 1.0),
        ncols=len(handles),
        frameon=False,
        borderaxespad=0.2,
    )
    ax.set_title(result_title(result), fontsize=11, loc="left", pad=LEGEND_BAND_PT)
    return ax


def update_result_figure(result: AnalysisResult, figure: Figure) -> bool:
    """Redraw ``result`` into a figure ``result_figure`` drew before, by moving the bars.

    Much cheaper than a rebuild (no new artists), which keeps the GUI thread responsive.

    Returns:
        False (and changes nothing) when the figure does not show the same channels in the
        same way; the caller then calls ``result_figure``.
    """
    present = channels(result)
    if len(figure.axes) != 1 or not present:
        return False
    ax = figure.axes[0]
    bars = [c for c in ax.containers if isinstance(c, BarContainer)]
    legend = ax.get_legend()
    names = [_legend_name(result, channel) for channel, _ in present]
    shown = [t.get_text() for t in legend.get_texts()] if legend else []
    if [str(c.get_label()) for c in bars] != [c for c, _ in present] or shown != names:
        return False
    for container, (_, scores) in zip(bars, present, strict=True):
        for patch, emotion in zip(container.patches, EMOTIONS, strict=True):
            patch.set_height(scores[emotion])
    ax.set_title(result_title(result), fontsize=11, loc="left", pad=LEGEND_BAND_PT)
    return True


def _bars(ax: Axes, channel: str, scores: dict[str, float], offset: float, width: float) -> None:
    style = STYLE[channel]
    xs = [i + offset for i in range(len(EMOTIONS))]
    container = ax.bar(
        xs,
        [scores[e] for e in EMOTIONS],
        width=width,
        label=channel,
        color=style["color"],
        hatch=style["hatch"],
        edgecolor="#222222",
        linewidth=0.6,
    )
    for patch, emotion in zip(container.patches, EMOTIONS, strict=True):
        patch.set_gid(f"{channel}-{emotion}")


def _legend_name(result: AnalysisResult, channel: str) -> str:
    name = STYLE[channel]["name"]
    if channel == "fused" and result.fusion and result.fusion.single_channel:
        return f"{name} ({result.fusion.single_channel} only)"
    return name


def result_title(result: AnalysisResult) -> str:
    """Two lines: the top label and confidence per channel, then the agreement verdict."""
    parts = []
    if result.text:
        parts.append(f"Text: {result.text.label} {verdict.percent(result.text.confidence)}")
    if result.vision:
        parts.append(f"Vision: {result.vision.label} {verdict.percent(result.vision.confidence)}")
    if result.fusion:
        parts.append(f"Fused: {verdict.reading(result.fusion).lower()}")
    first = "   ".join(parts)
    fusion = result.fusion
    if fusion and fusion.agreement and result.text and result.vision:
        title = verdict.VERDICT_TITLES[verdict.verdict_of(fusion.agreement)]
        second = f"Agreement {fusion.agreement.score:.2f}: {title.lower()}"
    elif fusion and fusion.single_channel:
        second = f"One channel only ({fusion.single_channel}): no agreement to measure"
    else:
        second = "No fused reading"
    if fusion and not fusion.calibrated:
        second += " (scores not calibrated)"
    return f"{first}\n{second}"


def bar_heights(figure: Figure) -> dict[str, list[float]]:
    """Return {channel: seven bar heights in canonical order} read back from a result figure."""
    heights: dict[str, list[float]] = {}
    for ax in figure.axes:
        for container in ax.containers:
            label = str(container.get_label())
            if isinstance(container, BarContainer) and label in STYLE:
                heights[label] = [float(p.get_height()) for p in container.patches]
    return heights


def _message(ax: Axes, text: str) -> None:
    ax.set_axis_off()
    ax.text(
        0.5,
        0.5,
        text,
        ha="center",
        va="center",
        fontsize=16,
        color="#444444",
        transform=ax.transAxes,
    )


# ------------------------------------------------------------------------- history


def _point(item: AnalysisResult | HistoryEntry) -> tuple[datetime | None, str | None, float | None]:
    if isinstance(item, AnalysisResult):
        fusion = item.fusion
        label = fusion.label if fusion else None
        score = fusion.agreement.score if fusion and fusion.agreement else None
    else:
        label, score = item.fused_label, item.agreement_score
    return _parse_time(item.created_at), label, score


def _parse_time(value: str) -> datetime | None:
    try:
        moment = datetime.fromisoformat(value)
    except (TypeError, ValueError):
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).replace(tzinfo=None)


def history_figure(
    items: Sequence[AnalysisResult | HistoryEntry], figure: Figure | None = None
) -> Figure:
    """Draw the history: fused label counts (bars) and agreement score over time.

    Args:
        items: results or history entries, in any order.
        figure: a figure to clear and redraw into; a new one when None.
    """
    figure = _prepare(figure)
    draw_history(figure, items)
    return figure


def draw_history(
    figure: Figure | SubFigure, items: Sequence[AnalysisResult | HistoryEntry]
) -> None:
    """Draw the history charts into an empty figure or subfigure."""
    if not items:
        _message(figure.add_subplot(), NO_HISTORY)
        return
    points = [_point(item) for item in items]
    counts_ax, trend_ax = figure.subplots(1, 2, width_ratios=[1, 1.3])
    _label_counts(counts_ax, [label for _, label, _ in points])
    _agreement_trend(trend_ax, [(t, s) for t, _, s in points if t is not None and s is not None])
    noun = "analysis" if len(items) == 1 else "analyses"
    figure.suptitle(f"History: {len(items)} {noun}", fontsize=12)


def _label_counts(ax: Axes, labels: list[str | None]) -> None:
    counts = Counter(label for label in labels if label)
    container = ax.bar(
        range(len(EMOTIONS)),
        [counts.get(e, 0) for e in EMOTIONS],
        label="fused",
        color=STYLE["fused"]["color"],
        hatch=STYLE["fused"]["hatch"],
        edgecolor="#222222",
        linewidth=0.6,
    )
    for patch, emotion in zip(container.patches, EMOTIONS, strict=True):
        patch.set_gid(f"count-{emotion}")
    ax.set_xticks(range(len(EMOTIONS)), [e.capitalize() for e in EMOTIONS], rotation=45, ha="right")
    ax.yaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_ylabel("Analyses")
    ax.set_title("Fused label", fontsize=11)


def _agreement_trend(ax: Axes, points: list[tuple[datetime, float]]) -> None:
    ax.set_title("Agreement between text and image", fontsize=11)
    ax.set_ylim(-0.03, 1.03)  # a score of exactly 0 or 1 stays visible
    ax.set_ylabel("Agreement score")
    if not points:
        ax.text(
            0.5,
            0.5,
            "No two-channel analyses yet",
            ha="center",
            va="center",
            color="#444444",
            transform=ax.transAxes,
        )
        ax.set_xticks([])
        return
    from matplotlib.dates import AutoDateLocator, ConciseDateFormatter, date2num

    points.sort()
    times = [t for t, _ in points]
    scores = [s for _, s in points]
    ax.plot(
        date2num(times),
        scores,
        color=STYLE["text"]["color"],
        linewidth=1.0,
        marker="o",
        markersize=4,
        label="agreement",
        gid="agreement",
    )
    from vsa_desktop.core.calibration import load_calibration
    from vsa_desktop.core.fusion import MIXED_MIN, STRONG_MIN

    levels = load_calibration().levels
    strong, mixed = levels.get("strong_min", STRONG_MIN), levels.get("mixed_min", MIXED_MIN)
    for level, y, va in (
        (f"same label: consistent ≥ {strong:.2f}", strong, "bottom"),
        (f"different labels: divergent < {mixed:.2f}", mixed, "top"),
    ):
        ax.axhline(y, color="#888888", linewidth=0.8, linestyle="--")
        ax.text(
            0.99,
            y,
            level,
            transform=ax.get_yaxis_transform(),
            ha="right",
            va=va,
            fontsize=8,
            color="#555555",
        )
    ax.yaxis.grid(True, color="#cccccc", linewidth=0.6)

    # The axis spans the data (plus a margin), never Matplotlib's default years around a
    # single moment: points seconds apart get an axis of seconds.
    first, last = times[0], times[-1]
    pad = max((last - first) * 0.05, MIN_TIME_PAD)
    ax.set_xlim(date2num(first - pad), date2num(last + pad))
    locator = AutoDateLocator(minticks=3, maxticks=7)
    ax.xaxis.set_major_locator(locator)
    ax.xaxis.set_major_formatter(ConciseDateFormatter(locator))
