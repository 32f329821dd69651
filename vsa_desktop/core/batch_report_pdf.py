"""The batch report as a PDF: the HTML report's sections on A4 pages, drawn with matplotlib.

Pages: summary and fused labels; per channel and agreement; the readings whose text and
image disagree (with thumbnails); the group breakdown and the trend (when asked for); models, calibration and
the responsible-use note. Text from the data is drawn as plain text (never mathtext).
"""

from __future__ import annotations

import functools
import io
import textwrap
from datetime import UTC, datetime
from typing import IO, Any

from matplotlib.figure import Figure

from vsa_desktop import __version__
from vsa_desktop.core import batch_report_charts
from vsa_desktop.core.batch_report import (
    DISAGREE_TITLE,
    RESPONSIBLE_USE,
    MixedItem,
    ReportData,
    disagree_count,
    disagree_intro,
)
from vsa_desktop.core.plural import count
from vsa_desktop.core.taxonomy import EMOTIONS
from vsa_desktop.core.verdict import VERDICT_TITLES, percent

A4 = (8.27, 11.69)
MARGIN = 0.07
LINE = 0.018  # figure fraction per line of 9 pt text on A4
BOTTOM = 0.04  # the lowest an item may reach (figure fraction)


def _page() -> Figure:
    return Figure(figsize=A4, dpi=100)


def _text(fig: Figure, y: float, text: str, size: float = 9, **kwargs: Any) -> float:
    """Draw wrapped lines from ``y`` down; return the ``y`` below them."""
    clean = batch_report_charts.plain(text, 100_000).replace(r"\$", "$")
    width = int(105 * 9 / size)
    for line in textwrap.wrap(clean, width) or [""]:
        fig.text(MARGIN, y, line, fontsize=size, va="top", parse_math=False, **kwargs)
        y -= LINE * size / 9
    return y - LINE * 0.4


def _chart(page: Figure, chart: Figure, top: float, height: float) -> None:
    """Put ``chart`` (rendered at 150 dpi) on ``page`` from ``top`` down."""
    from PIL import Image

    buffer = io.BytesIO()
    batch_report_charts.quiet_glyphs(lambda: chart.savefig(buffer, format="png", dpi=150))
    buffer.seek(0)
    image = Image.open(buffer)
    width = 1 - 2 * MARGIN
    aspect = image.height / image.width * width * A4[0] / A4[1]
    ax = page.add_axes((MARGIN, top - min(height, aspect), width, min(height, aspect)))
    ax.imshow(image, interpolation="lanczos")
    ax.set_axis_off()


def _summary_page(data: ReportData) -> Figure:
    page = _page()
    y = _text(page, 0.95, "Batch report", 18, weight="bold")
    made = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    y = _text(page, y, f"{data.source} · made {made} by VSA Desktop {__version__}", 9, color="#555")
    y = _text(
        page,
        y - 0.01,
        f"{count(data.rows, 'row')}: {count(data.results, 'reading')} ({data.partial:,} from the "
        "text alone), "
        f"{data.failed:,} failed; {disagree_count(data.disagreements)}.",
        11,
    )
    if data.first_created:
        y = _text(page, y, f"Analysed from {data.first_created} to {data.last_created}.")
    counts = ", ".join(f"{e} {data.fused.get(e, 0):,}" for e in EMOTIONS)
    y = _text(page, y, f"Fused labels: {counts}.")
    _chart(page, batch_report_charts.fused_figure(data), y - 0.01, 0.4)
    return page


def _channels_page(data: ReportData) -> Figure:
    page = _page()
    y = _text(page, 0.95, "Per channel and agreement", 14, weight="bold")
    _chart(page, batch_report_charts.channels_figure(data), y, 0.36)
    total = sum(data.verdicts.values()) or 1
    shares = ", ".join(
        f"{VERDICT_TITLES.get(v, 'one channel only').lower()} {percent(n / total)} ({n:,})"
        for v, n in data.verdicts.most_common()
    )
    y = _text(page, y - 0.4, f"Agreement: {shares}.")
    _chart(page, batch_report_charts.agreement_figure(data), y - 0.01, 0.25)
    return page


def _mixed_pages(data: ReportData, thumbs: dict[str, bytes]) -> list[Figure]:
    """As many items a page as fit (their texts differ in length), the first with the intro."""
    items = data.mixed or []
    page = _page()
    y = _text(page, 0.95, DISAGREE_TITLE, 14, weight="bold")
    y = _text(page, y, disagree_intro(data))
    pages = [page]
    for item in items:
        if y - 0.01 - _item_height(item) < BOTTOM:
            page = _page()
            pages.append(page)
            y = _text(page, 0.95, f"{DISAGREE_TITLE} (continued)", 14, weight="bold")
        y = _mixed_item(page, item, thumbs.get(item.key), y - 0.01)
    return pages


def _text_lines(item: MixedItem) -> list[str]:
    words = batch_report_charts.plain(item.text, 600).replace(r"\$", "$")
    return (textwrap.wrap(words, 88) or [""])[:5]


def _item_height(item: MixedItem) -> float:
    """What ``_mixed_item`` takes of the page's height (figure fraction)."""
    return max(LINE * (2 + 0.95 * len(_text_lines(item))), 0.1)


def _mixed_item(page: Figure, item: MixedItem, thumb: bytes | None, y: float) -> float:
    from PIL import Image

    top = y
    if thumb:
        ax = page.add_axes((MARGIN, y - 0.085, 0.12, 0.085))
        ax.imshow(Image.open(io.BytesIO(thumb)))
        ax.set_axis_off()
    left = MARGIN + 0.14
    head = (
        f"{VERDICT_TITLES.get(item.verdict, item.verdict)}: text {item.text_label}, image "
        f"{item.vision_label}, fused {item.fused_label} {percent(item.confidence)}, "
        f"agreement {item.agreement:.2f}"
    )
    page.text(left, y, head, fontsize=9, weight="bold", va="top", parse_math=False)
    y -= LINE
    for line in _text_lines(item):
        page.text(left, y, line, fontsize=8.5, va="top", parse_math=False)
        y -= LINE * 0.95
    page.text(left, y, f"{item.image_name} · {item.row or item.key}", fontsize=7.5, color="#666",
              va="top", parse_math=False)  # fmt: skip
    y -= LINE
    return min(y, top - 0.1)


def _breakdown_page(data: ReportData) -> Figure | None:
    charts = dict(batch_report_charts.sections(data))
    if "groups" not in charts and "trend" not in charts:
        return None
    page = _page()
    y = _text(page, 0.95, "Breakdown", 14, weight="bold")
    if "groups" in charts:
        y = _text(
            page, y, f"By {data.group_column}: {count(len(data.by_group), 'distinct value')}."
        )
        _chart(page, batch_report_charts.groups_figure(data), y, 0.42)
        y -= 0.44
    if "trend" in charts:
        period, points = data.trend()
        y = _text(page, y, f"Over time ({data.time_column}): {count(len(points), period)} (UTC).")
        _chart(page, batch_report_charts.trend_figure(data), y, 0.36)
    return page


def _models_page(data: ReportData) -> Figure:
    page = _page()
    y = _text(page, 0.95, "Models and calibration", 14, weight="bold")
    for what, counts in data.models.items():
        for name, n in counts.most_common():
            y = _text(page, y, f"{what}: {name} ({count(n, 'result')})")
    y = _text(page, y - 0.02, "Responsible use", 14, weight="bold")
    _text(page, y, RESPONSIBLE_USE, 10)
    return page


def write_pdf(data: ReportData, thumbs: dict[str, bytes], stream: IO[bytes]) -> None:
    """Write the report's pages as one PDF to ``stream``."""
    from matplotlib.backends.backend_pdf import PdfPages

    pages = [_summary_page(data), _channels_page(data), *_mixed_pages(data, thumbs)]
    breakdown = _breakdown_page(data)
    if breakdown is not None:
        pages.append(breakdown)
    pages.append(_models_page(data))
    metadata = {"Title": f"Batch report: {data.source}", "Creator": f"VSA Desktop {__version__}"}
    with PdfPages(stream, metadata=metadata) as pdf:
        for page in pages:
            batch_report_charts.quiet_glyphs(functools.partial(pdf.savefig, page))
