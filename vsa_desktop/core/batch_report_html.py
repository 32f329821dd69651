"""The batch report as one self-contained HTML file: inline CSS and SVG, no script, no network.

Everything that comes from the data (texts, file names, group and column values, model
names) is HTML-escaped; charts are SVG with their text drawn as paths; thumbnails are
``data:`` JPEGs; a Content-Security-Policy forbids scripts and any outside fetch, so even a
file edited by hand cannot make the page run code or call home.

The tables carry ``id`` and ``data-*`` attributes (``fused-counts``, ``verdict-shares``,
``group-counts``, ``trend-counts``, ``mixed-items``...) so tests and scripts can read the
numbers back.
"""

from __future__ import annotations

import base64
import html
import re
from collections import Counter
from datetime import UTC, datetime

from vsa_desktop import __version__
from vsa_desktop.core import batch_report_charts
from vsa_desktop.core.batch_report import (
    CHANNEL_NAMES,
    DISAGREE_TITLE,
    RESPONSIBLE_USE,
    SINGLE,
    VERDICTS,
    MixedItem,
    ReportData,
    disagree_intro,
)
from vsa_desktop.core.plural import count, word
from vsa_desktop.core.taxonomy import EMOTIONS
from vsa_desktop.core.verdict import VERDICT_TITLES, percent

CSP = "default-src 'none'; img-src data:; style-src 'unsafe-inline'"
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")
CSS = """
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:#1a1a1a;
max-width:980px;margin:2em auto;padding:0 1.2em}
h1{font-size:1.6em;margin-bottom:.2em}h2{font-size:1.2em;margin-top:2em;border-bottom:1px solid
#ddd;padding-bottom:.2em}.sub{color:#555}.cards{display:flex;flex-wrap:wrap;gap:.8em;margin:1em 0}
.card{border:1px solid #ddd;border-radius:6px;padding:.6em 1em;min-width:8em}.card b{display:block;
font-size:1.5em}table{border-collapse:collapse;margin:.6em 0}td,th{padding:.25em .7em;
border-bottom:1px solid #eee;text-align:left}td.n{text-align:right;font-variant-numeric:
tabular-nums}svg{max-width:100%;height:auto}ol.mixed{padding-left:1.4em}ol.mixed li{margin:.8em 0;
display:flex;gap:1em;align-items:flex-start}ol.mixed img{width:96px;border-radius:4px;
flex:none}.text{white-space:pre-wrap;word-break:break-word}.tag{display:inline-block;
border-radius:3px;padding:0 .4em;background:#eee;margin-right:.3em;font-size:.9em}
.note{background:#f6f6f0;border-left:4px solid #999;padding:.6em 1em}
"""


def e(value: object) -> str:
    """``value`` as HTML text: escaped, control characters shown as nothing harmful."""
    return html.escape(_CONTROL.sub("\ufffd", str(value)), quote=True)


def report_html(data: ReportData, thumbs: dict[str, bytes] | None = None) -> str:
    """The whole report page."""
    thumbs = thumbs or {}
    parts = [
        _head(data),
        _summary(data),
        _section(data, "fused", "Fused labels", _fused_table(data)),
        _section(data, "channels", "Per channel", _channel_table(data)),
        _section(data, "agreement", "Agreement", _verdict_table(data)),
        _mixed(data, thumbs),
    ]
    if data.group_column:
        parts.append(_section(data, "groups", f"By {e(data.group_column)}", _group_table(data)))
    if data.time_column:
        parts.append(
            _section(data, "trend", f"Over time ({e(data.time_column)})", _trend_table(data))
        )
    parts += [_models(data), _note(), "</body></html>\n"]
    return "\n".join(parts)


def _head(data: ReportData) -> str:
    made = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        f'<meta http-equiv="Content-Security-Policy" content="{CSP}">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>Batch report: {e(data.source)}</title><style>{CSS}</style></head><body>"
        f'<h1>Batch report</h1><p class="sub">{e(data.source)} · made {made} by VSA '
        f"Desktop {e(__version__)}</p>"
    )


def _card(value: str, label: str, key: str) -> str:
    return f'<div class="card" data-stat="{key}"><b>{value}</b>{label}</div>'


def _summary(data: ReportData) -> str:
    top = data.fused.most_common(1)
    cards = [
        _card(f"{data.rows:,}", word(data.rows, "row", "rows"), "rows"),
        _card(f"{data.results:,}", word(data.results, "reading", "readings"), "results"),
        _card(f"{data.failed:,}", word(data.failed, "failed row", "failed rows"), "failed"),
        _card(f"{data.disagreements:,}", "text and image disagree", "mixed"),
        _card(e(top[0][0]) if top else "–", "most common fused label", "top"),
    ]
    span = ""
    if data.first_created:
        span = f"<p>Analysed from {e(data.first_created)} to {e(data.last_created)}.</p>"
    extras = []
    if data.partial:
        extras.append(f"{data.partial:,} read from the text alone (image missing)")
    if data.skipped_lines:
        extras.append(
            f"{count(data.skipped_lines, 'line that is not a batch row was', 'lines that are not batch rows were')} skipped"
        )
    if data.failed:
        kinds = ", ".join(f"{e(k)} {n:,}" for k, n in data.failure_kinds.most_common())
        extras.append(f"failed rows by kind: {kinds}")
    said = "; ".join(extras)
    more = f"<p>{said[:1].upper()}{said[1:]}.</p>" if extras else ""
    return f'<section id="summary"><div class="cards">{"".join(cards)}</div>{span}{more}</section>'


def _section(data: ReportData, key: str, title: str, table: str) -> str:
    chart = dict(batch_report_charts.sections(data)).get(key)
    figure = batch_report_charts.svg(chart(data)) if chart else ""
    return f'<section id="{key}"><h2>{title}</h2>{figure}{table}</section>'


def _share(n: int, total: int) -> str:
    return percent(n / total) if total else "–"


def _fused_table(data: ReportData) -> str:
    rows = "".join(
        f'<tr data-label="{x}"><th>{x}</th><td class="n">{data.fused.get(x, 0):,}</td>'
        f'<td class="n">{_share(data.fused.get(x, 0), data.results)}</td></tr>'
        for x in EMOTIONS
    )
    return f'<table id="fused-counts"><tr><th>fused label</th><th>results</th><th>share</th></tr>{rows}</table>'


def _channel_table(data: ReportData) -> str:
    head = "".join(f"<th>{x}</th>" for x in EMOTIONS)
    rows = []
    for channel in ("text", "vision"):
        n = data.channel_counts[channel]
        labels = data.channel_labels[channel]
        means = data.channel_means(channel)
        counts = "".join(f'<td class="n">{labels.get(x, 0):,}</td>' for x in EMOTIONS)
        mean = "".join(f'<td class="n">{means[x]:.3f}</td>' for x in EMOTIONS)
        name = CHANNEL_NAMES[channel]
        rows.append(
            f'<tr data-channel="{channel}" data-kind="labels"><th>{name} labels ({n:,})</th>'
            f"{counts}</tr>"
            f'<tr data-channel="{channel}" data-kind="mean"><th>{name} mean probability</th>'
            f"{mean}</tr>"
        )
    return f'<table id="channel-table"><tr><th></th>{head}</tr>{"".join(rows)}</table>'


def _verdict_table(data: ReportData) -> str:
    total = sum(data.verdicts.values())
    rows = "".join(
        f'<tr data-verdict="{v}"><th>{VERDICT_TITLES.get(v, "One channel only")}</th>'
        f'<td class="n">{data.verdicts.get(v, 0):,}</td>'
        f'<td class="n">{_share(data.verdicts.get(v, 0), total)}</td></tr>'
        for v in VERDICTS
    )
    meaning = (
        "<p>Consistent: both channels name the same emotion. Same emotion, different "
        "strength: the same label, weakly. Mixed signals and divergent: the text and the "
        f"image name different emotions. {e(SINGLE.capitalize())}: only one of them was read."
        "</p>"
    )
    return f'<table id="verdict-shares"><tr><th>verdict</th><th>results</th><th>share</th></tr>{rows}</table>{meaning}'


def _mixed(data: ReportData, thumbs: dict[str, bytes]) -> str:
    title = f"<h2>{DISAGREE_TITLE}</h2>"
    intro = f"<p>{disagree_intro(data)}</p>"
    if not data.mixed:
        return f'<section id="mixed">{title}{intro}</section>'
    items = "".join(_mixed_item(item, thumbs.get(item.key)) for item in data.mixed)
    return f'<section id="mixed">{title}{intro}<ol class="mixed" id="mixed-items">{items}</ol></section>'


def _mixed_item(item: MixedItem, thumb: bytes | None) -> str:
    image = ""
    if thumb:
        data_url = "data:image/jpeg;base64," + base64.b64encode(thumb).decode("ascii")
        image = f'<img src="{data_url}" alt="{e(item.image_name)}">'
    title = VERDICT_TITLES.get(item.verdict, item.verdict)
    return (
        f'<li data-key="{e(item.key)}" data-agreement="{item.agreement:.4f}">{image}<div>'
        f'<span class="tag">{e(title)}</span><span class="tag">text {e(item.text_label)}</span>'
        f'<span class="tag">image {e(item.vision_label)}</span>'
        f'<span class="tag">fused {e(item.fused_label)} {percent(item.confidence)}</span>'
        f'<span class="tag">agreement {item.agreement:.2f}</span>'
        f'<div class="text">{e(item.text)}</div>'
        f'<div class="sub">{e(item.image_name)} · {e(item.row or item.key)}</div></div></li>'
    )


def _label_cells(counts: Counter[str]) -> str:
    return "".join(f'<td class="n">{counts.get(x, 0):,}</td>' for x in EMOTIONS)


def _group_table(data: ReportData) -> str:
    head = "".join(f"<th>{x}</th>" for x in EMOTIONS)
    rows = "".join(
        f'<tr data-group="{e(name)}"><th>{e(name)}</th>'
        f'<td class="n">{sum(c.values()):,}</td>{_label_cells(c)}</tr>'
        for name, c in data.top_groups()
    )
    note = f"<p>{count(len(data.by_group), 'distinct value')}.</p>"
    return f'<table id="group-counts"><tr><th>{e(data.group_column)}</th><th>results</th>{head}</tr>{rows}</table>{note}'


def _trend_table(data: ReportData) -> str:
    period, points = data.trend()
    bad = (
        f" {count(data.bad_times, 'row has', 'rows have')} no readable date there."
        if data.bad_times
        else ""
    )
    if not points:
        return f"<p>No row has a readable date in {e(data.time_column)}.{bad}</p>"
    fmt = {
        "hour": "%Y-%m-%d %H:00",
        "day": "%Y-%m-%d",
        "week": "week of %Y-%m-%d",
        "month": "%Y-%m",
    }.get(period, "%Y")
    head = "".join(f"<th>{x}</th>" for x in EMOTIONS)
    shown = points[-60:]
    rows = "".join(
        f'<tr data-period="{m.isoformat()}"><th>{m.strftime(fmt)}</th>'
        f'<td class="n">{sum(c.values()):,}</td>{_label_cells(c)}</tr>'
        for m, c in shown
    )
    cut = f" The table shows the last {len(shown)} of {len(points)}." if len(points) > 60 else ""
    return (
        f'<p>Per {period} (UTC).{cut}{bad}</p><table id="trend-counts" data-period="{period}">'
        f"<tr><th>{period}</th><th>results</th>{head}</tr>{rows}</table>"
    )


def _models(data: ReportData) -> str:
    rows = "".join(
        f'<tr data-what="{e(what)}"><th>{e(what)}</th><td>{e(name)}</td><td class="n">{n:,}</td></tr>'
        for what, counts in data.models.items()
        for name, n in counts.most_common()
    )
    return (
        '<section id="models"><h2>Models and calibration</h2>'
        f'<table id="models-table"><tr><th></th><th>used</th><th>results</th></tr>{rows}</table>'
        "<p>Calibrated percentages are probabilities fitted on validation data; the model's "
        "own scores are not calibrated.</p></section>"
    )


def _note() -> str:
    return f'<section id="responsible-use"><h2>Responsible use</h2><p class="note">{e(RESPONSIBLE_USE)}</p></section>'


def write_html(data: ReportData, thumbs: dict[str, bytes] | None = None) -> bytes:
    """The report page as UTF-8 bytes."""
    return report_html(data, thumbs).encode("utf-8")
