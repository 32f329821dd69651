"""The batch report's numbers, gathered from a results JSONL in one streaming pass.

``collect`` reads a ``vsa batch`` JSONL line by line and keeps only counts, sums and a
bounded list of items worth reading, so a file of millions of rows never needs its rows in
memory at once. The HTML and PDF writers (``report_html``, ``report_pdf``) and the GUI all
draw from the same ``ReportData``.

What is counted:

* rows: results (``ok`` and ``partial``), failed rows, lines that are not batch rows;
* fused labels; per channel (text, image) the labels and the mean shown probability of
  each emotion;
* agreement verdicts (consistent, different-strength, mixed, divergent; one channel);
* the readings where the channels disagree (verdict mixed or divergent: text and image
  name different labels), most divergent first
  (lowest agreement score), at most ``top`` of them;
* by a group column (an input column kept with each row, e.g. account or brand): fused
  labels per group, the ``MAX_GROUPS`` first distinct values exactly, later ones as
  "(other values)";
* over a date/time column: fused labels per hour, resampled for the report onto every
  hour, day, week, month or year of the span (whichever gives a readable number of points;
  a period without rows is there with zero counts);
* the models, runtimes, fusion rules and calibrations the results name.
"""

from __future__ import annotations

import heapq
import json
import math
import stat
from collections import Counter, defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from vsa_desktop.core.batch_input import row_name
from vsa_desktop.core.errors import InputError
from vsa_desktop.core.plural import count
from vsa_desktop.core.result import NOTICE
from vsa_desktop.core.taxonomy import EMOTIONS
from vsa_desktop.core.verdict import VERDICT_TITLES

MAX_GROUPS = 10_000
OTHER_GROUPS = "(other values)"
NO_VALUE = "(empty)"
SINGLE = "one channel"
VERDICTS = (*VERDICT_TITLES, SINGLE)
EXCERPT_CHARS = 400
RESPONSIBLE_USE = (
    f"{NOTICE} Emotion recognition is restricted in some settings (under the EU AI Act, "
    "for example, in workplaces and education): check before you use it on people. "
    "Counts describe what the posts express, not how their authors feel; a reading whose text "
    "and image disagree is worth a person's reading, not a conclusion."
)
# The list of readings whose channels disagree has a name of its own: "Mixed signals" is
# one of the two verdicts it holds (with "divergent"), and the Agreement section counts it.
DISAGREE_TITLE = "Channels disagree: worth reading"
CHANNEL_NAMES = {"text": "Text", "vision": "Image", "fusion": "Fused"}


@dataclass(frozen=True)
class MixedItem:
    """A result whose text and image name different emotions."""

    key: str
    result_id: str
    text: str
    image_name: str
    image_sha256: str
    image_ref: str
    text_label: str
    vision_label: str
    fused_label: str
    confidence: float
    agreement: float
    verdict: str
    row: str = ""  # how people know the row: ``row 5 (id a4)`` (see batch_input.row_name)


@dataclass
class ReportData:
    """Everything the report shows.

    Attributes:
        rows: lines read that are batch rows (results and failures).
        results: rows with a reading (status ok or partial).
        failed: rows that failed (their reasons are counted in ``failure_kinds``).
        skipped_lines: lines that are neither (blank, torn, another kind of JSON).
        channel_labels: per channel (text, vision), its labels.
        channel_sums: per channel, the sum of each emotion's shown probability.
        channel_counts: per channel, how many results had it.
        mixed: the readings whose text and image disagree, most divergent first (the list
            is named for what it holds, not for the verdict "mixed").
        mixed_total: how many such readings there are in all.
        by_group: fused labels per value of ``group_column``.
        times: fused labels per hour (UTC) of ``time_column``.
        bad_times: rows whose ``time_column`` value is not a date.
        bad_time_example: the first such value that is not empty (for the message).
        group_seen, time_seen: results that have ``group_column``/``time_column`` at all
            (as an input column or a result field), so a misspelt name can be told from
            a column whose cells are empty.
        columns: the input columns kept with the results (for ``--by``/``--time``), and
            how many results have each.
    """

    source: str = ""
    group_column: str | None = None
    time_column: str | None = None
    rows: int = 0
    results: int = 0
    partial: int = 0
    failed: int = 0
    skipped_lines: int = 0
    fused: Counter[str] = field(default_factory=Counter)
    channel_labels: dict[str, Counter[str]] = field(
        default_factory=lambda: {"text": Counter(), "vision": Counter()}
    )
    channel_sums: dict[str, dict[str, float]] = field(
        default_factory=lambda: {c: dict.fromkeys(EMOTIONS, 0.0) for c in ("text", "vision")}
    )
    channel_counts: Counter[str] = field(default_factory=Counter)
    verdicts: Counter[str] = field(default_factory=Counter)
    modes: Counter[str] = field(default_factory=Counter)
    mixed: list[MixedItem] = field(default_factory=list)
    mixed_total: int = 0
    by_group: dict[str, Counter[str]] = field(default_factory=dict)
    times: dict[datetime, Counter[str]] = field(default_factory=dict)
    bad_times: int = 0
    bad_time_example: str = ""
    group_seen: int = 0
    time_seen: int = 0
    failure_kinds: Counter[str] = field(default_factory=Counter)
    models: dict[str, Counter[str]] = field(default_factory=lambda: defaultdict(Counter))
    first_created: str = ""
    last_created: str = ""
    columns: Counter[str] = field(default_factory=Counter)

    def channel_means(self, channel: str) -> dict[str, float]:
        """The mean shown probability of each emotion over the results with ``channel``."""
        n = self.channel_counts[channel]
        sums = self.channel_sums[channel]
        return {e: (sums[e] / n if n else 0.0) for e in EMOTIONS}

    @property
    def disagreements(self) -> int:
        """Readings whose text and image name different emotions (verdict mixed or divergent)."""
        return self.verdicts.get("mixed", 0) + self.verdicts.get("divergent", 0)

    def top_groups(self, limit: int = 15) -> list[tuple[str, Counter[str]]]:
        """The ``limit`` largest groups, then one row for all the others (when there are)."""
        ranked = sorted(self.by_group.items(), key=lambda kv: (-sum(kv[1].values()), kv[0]))
        shown = ranked[:limit]
        rest: Counter[str] = Counter()
        for _name, counts in ranked[limit:]:
            rest.update(counts)
        if rest:
            shown.append((f"{len(ranked) - limit} more values", rest))
        return shown

    def trend(self) -> tuple[str, list[tuple[datetime, Counter[str]]]]:
        """Fused labels per period, the period chosen from the time span.

        Every period from the first to the last is there, an empty one with no counts,
        so a chart never joins two distant periods as if the time between had data.
        """
        if not self.times:
            return "", []
        first, last = min(self.times), max(self.times)
        period = _period(last - first)
        merged: dict[datetime, Counter[str]] = {}
        for moment, counts in self.times.items():
            merged.setdefault(_floor(moment, period), Counter()).update(counts)
        points = []
        moment, end = _floor(first, period), _floor(last, period)
        while moment <= end:
            points.append((moment, merged.get(moment, Counter())))
            moment = next_period(moment, period)
        return period, points


def _period(span: timedelta) -> str:
    """The period that gives a readable number of points over ``span``."""
    if span <= timedelta(days=3):
        return "hour"
    if span <= timedelta(days=120):
        return "day"
    if span <= timedelta(days=3 * 365):
        return "week"
    if span <= timedelta(days=30 * 365):
        return "month"
    return "year"  # stray dates (year 1, 9999) would otherwise ask for 100,000 months


def _floor(moment: datetime, period: str) -> datetime:
    if period == "hour":
        return moment
    day = moment.replace(hour=0)
    if period == "day":
        return day
    if period == "week":
        return day - timedelta(days=day.weekday())
    if period == "month":
        return day.replace(day=1)
    return day.replace(month=1, day=1)


def next_period(start: datetime, period: str) -> datetime:
    """The start of the period after the one that begins at ``start``.

    The last year or month a ``datetime`` can hold has no successor; the end of that
    period (its last microsecond) stands in, so a chart can still close the step.
    """
    try:
        if period == "hour":
            return start + timedelta(hours=1)
        if period == "day":
            return start + timedelta(days=1)
        if period == "week":
            return start + timedelta(weeks=1)
        if period == "month":
            if start.month == 12:
                return start.replace(year=start.year + 1, month=1)
            return start.replace(month=start.month + 1)
        return start.replace(year=start.year + 1)
    except (OverflowError, ValueError):
        return datetime.max.replace(tzinfo=start.tzinfo)


def disagree_count(n: int) -> str:
    """``N readings where text and image disagree`` (the header line's words)."""
    return f"{count(n, 'reading')} where text and image disagree"


def disagree_intro(data: ReportData) -> str:
    """The sentence above the list of readings whose text and image disagree."""
    if not data.mixed_total:
        return "No reading has a text and an image that name different emotions."
    head = count(data.mixed_total, "reading has", "readings have")
    said = (
        f"{head} a text and an image that name different emotions (verdict mixed signals "
        "or divergent)"
    )
    shown = len(data.mixed)
    if not shown:
        return f"{said}; none is listed here."
    if shown == data.mixed_total == 1:
        return f"{said}."
    return f"{said}; the {shown:,} most divergent (lowest agreement) first."


def read_lines(path: Path) -> Iterator[str]:
    """The lines of a results file, one at a time.

    Raises:
        InputError: the file is missing, not a regular file, or not UTF-8.
    """
    where = f"The results file {path}"
    try:
        info = path.stat()
    except FileNotFoundError:
        raise InputError(f"{where} does not exist.") from None
    except OSError as exc:
        raise InputError(f"{where} cannot be read ({exc.strerror}).") from None
    if stat.S_ISDIR(info.st_mode):
        raise InputError(f"{where} is a folder, not a file.")
    if not stat.S_ISREG(info.st_mode):
        raise InputError(f"{where} is not a regular file.")
    try:
        with path.open(encoding="utf-8") as f:
            yield from f
    except UnicodeDecodeError:
        raise InputError(
            f"{where} is not UTF-8 text; give the JSONL that vsa batch wrote."
        ) from None
    except OSError as exc:
        raise InputError(f"{where} cannot be read ({exc.strerror}).") from None


def collect(
    lines: Iterable[str],
    *,
    group_column: str | None = None,
    time_column: str | None = None,
    top: int = 20,
    source: str = "",
) -> ReportData:
    """Gather the report's numbers from JSONL lines in one pass (see the module docstring).

    Raises:
        InputError: not one line is a batch row (not a ``vsa batch`` JSONL).
    """
    data = ReportData(source=source, group_column=group_column, time_column=time_column)
    heap: list[tuple[float, int, MixedItem]] = []
    for number, line in enumerate(lines):
        doc = _parse(line)
        if doc is None:
            data.skipped_lines += bool(line.strip())
            continue
        data.rows += 1
        batch = doc.get("batch") or {}
        if doc.get("schema") != "vsa.result/1":
            data.failed += 1
            data.failure_kinds[str((batch.get("error") or {}).get("kind") or "error")] += 1
            continue
        _add_result(data, doc, batch)
        item = _mixed_item(doc, batch)
        if item is not None:
            data.mixed_total += 1
            entry = (-item.agreement, -number, item)  # a max-heap of the lowest agreements
            if len(heap) < top:
                heapq.heappush(heap, entry)
            elif top > 0 and entry > heap[0]:
                heapq.heapreplace(heap, entry)
    if not data.rows:
        raise InputError(
            f"{source or 'The file'} holds no vsa batch rows; give the JSONL that "
            "`vsa batch --jsonl` wrote."
        )
    data.mixed = [item for _a, _n, item in sorted(heap, reverse=True)]
    return data


def _parse(line: str) -> dict[str, Any] | None:
    if not line.strip():
        return None
    try:
        doc = json.loads(line)
    except ValueError:
        return None
    if not isinstance(doc, dict) or not isinstance(doc.get("batch"), dict):
        return None
    return doc


def _add_result(data: ReportData, doc: dict[str, Any], batch: dict[str, Any]) -> None:
    data.results += 1
    data.partial += batch.get("status") == "partial"
    fusion = doc.get("fusion") or {}
    label = str(fusion.get("label") or "")
    data.fused[label] += 1
    data.modes[str(doc.get("mode") or "")] += 1
    for channel in ("text", "vision"):
        part = doc.get(channel)
        if not isinstance(part, dict):
            continue
        data.channel_counts[channel] += 1
        data.channel_labels[channel][str(part.get("label") or "")] += 1
        shown = part.get("probabilities") or part.get("scores") or {}
        sums = data.channel_sums[channel]
        for e in EMOTIONS:
            value = shown.get(e, 0.0)
            if isinstance(value, int | float) and math.isfinite(value):
                sums[e] += float(value)
    data.verdicts[_verdict(fusion)] += 1
    _add_models(data, doc, fusion)
    created = str(doc.get("created_at") or "")
    if created:
        data.first_created = min(data.first_created or created, created)
        data.last_created = max(data.last_created, created)
    extra = batch.get("extra") or {}
    if isinstance(extra, dict):
        data.columns.update(extra.keys())
    else:
        extra = {}
    if data.group_column:
        value = _column(doc, extra, data.group_column)
        data.group_seen += value is not None
        _add_group(data, value or "", label)
    if data.time_column:
        value = _column(doc, extra, data.time_column)
        data.time_seen += value is not None
        moment = parse_time(value or "")
        if moment is None:
            data.bad_times += 1
            if value and value.strip() and not data.bad_time_example:
                data.bad_time_example = value.strip()[:80]
        else:
            data.times.setdefault(moment.replace(minute=0, second=0, microsecond=0), Counter())[
                label
            ] += 1


def _column(doc: dict[str, Any], extra: dict[str, Any], name: str) -> str | None:
    """A row's value in ``name``: an input column kept with the row, else a result field.

    None when the row has no such column or scalar field at all.
    """
    if name in extra:
        return str(extra[name] if extra[name] is not None else "")
    value = doc.get(name)
    return None if value is None or isinstance(value, dict | list) else str(value)


def _add_group(data: ReportData, value: str, label: str) -> None:
    name = value.strip() or NO_VALUE
    if name not in data.by_group and len(data.by_group) >= MAX_GROUPS:
        name = OTHER_GROUPS
    data.by_group.setdefault(name, Counter())[label] += 1


def _verdict(fusion: dict[str, Any]) -> str:
    agreement = fusion.get("agreement")
    if not isinstance(agreement, dict):
        return SINGLE
    verdict = agreement.get("verdict")
    if verdict in VERDICT_TITLES:
        return str(verdict)
    if agreement.get("same_label"):
        return "consistent"
    level = agreement.get("level")
    return str(level) if level in ("mixed", "divergent") else "mixed"


def _add_models(data: ReportData, doc: dict[str, Any], fusion: dict[str, Any]) -> None:
    text, vision = doc.get("text"), doc.get("vision")
    if isinstance(text, dict):
        data.models["text model"][f"{text.get('model')} ({text.get('runtime')})"] += 1
        data.models["text calibration"][_calibration(text)] += 1
    if isinstance(vision, dict):
        data.models["image model"][f"{vision.get('backend')}: {vision.get('model')}"] += 1
        data.models["image calibration"][_calibration(vision)] += 1
    data.models["fusion rule"][str(fusion.get("rule") or "weighted")] += 1
    data.models["fused calibration"][_calibration(fusion)] += 1


def _calibration(part: dict[str, Any]) -> str:
    if part.get("calibrated"):
        return str(part.get("calibration") or "calibrated")
    return "not calibrated (the model's own scores)"


def _mixed_item(doc: dict[str, Any], batch: dict[str, Any]) -> MixedItem | None:
    fusion = doc.get("fusion") or {}
    verdict = _verdict(fusion)
    text, vision = doc.get("text"), doc.get("vision")
    if (
        verdict not in ("mixed", "divergent")
        or not isinstance(text, dict)
        or not isinstance(vision, dict)
    ):
        return None
    inp = doc.get("input") or {}
    extra = batch.get("extra")
    image = inp.get("image") if isinstance(inp.get("image"), dict) else {}
    words = str(inp.get("text") or "")
    return MixedItem(
        key=str(batch.get("key") or ""),
        result_id=str(doc.get("id") or ""),
        text=words[:EXCERPT_CHARS] + ("…" if len(words) > EXCERPT_CHARS else ""),
        image_name=str((image or {}).get("name") or ""),
        image_sha256=str((image or {}).get("sha256") or ""),
        image_ref=str(batch.get("image") or ""),
        text_label=str(text.get("label") or ""),
        vision_label=str(vision.get("label") or ""),
        fused_label=str(fusion.get("label") or ""),
        confidence=float(fusion.get("confidence") or 0.0),
        agreement=float((fusion.get("agreement") or {}).get("score") or 0.0),
        verdict=verdict,
        row=row_name(str(batch.get("key") or ""), extra if isinstance(extra, dict) else None),
    )


def parse_time(value: str) -> datetime | None:
    """A date or time cell as an aware UTC datetime (ISO 8601, a date, or Unix seconds)."""
    value = value.strip()
    if not value:
        return None
    try:
        number = float(value)
    except ValueError:
        number = None
    if number is not None:
        if not math.isfinite(number) or not 0 <= number < 1e11:
            return None
        return datetime.fromtimestamp(number, UTC)
    text = value.replace("Z", "+00:00").replace("z", "+00:00")
    for candidate in (text, text.replace(" ", "T", 1), text[:10]):
        try:
            moment = datetime.fromisoformat(candidate)
        except ValueError:
            continue
        return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
    return None


def collect_file(
    path: Path, group_column: str | None = None, time_column: str | None = None, top: int = 20
) -> ReportData:
    """``collect`` over a results file."""
    return collect(
        read_lines(path),
        group_column=group_column,
        time_column=time_column,
        top=top,
        source=path.name,
    )
