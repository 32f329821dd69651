"""What the history list shows of an entry, and the page reads its model runs on a worker."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime

from PySide6.QtCore import Qt
from PySide6.QtGui import QImage

from vsa_desktop.core.cancel import CancelToken, check
from vsa_desktop.core.errors import VsaError
from vsa_desktop.core.history import EXCERPT_CHARS, HistoryEntry, HistoryStore, normalize_time
from vsa_desktop.core.result import AnalysisResult
from vsa_desktop.core.terminal import inert_bidi
from vsa_desktop.core.verdict import percent

log = logging.getLogger(__name__)

PAGE = 50
THUMB_PX = 40


@dataclass
class Page:
    """What a worker read: entries, their thumbnails (decoded) and texts, maybe the total."""

    entries: list[HistoryEntry]
    total: int | None = None
    thumbs: dict[str, QImage] = field(default_factory=dict)
    texts: dict[str, str] = field(default_factory=dict)


def read_page(
    store: HistoryStore,
    text: str | None,
    label: str | None,
    offset: int,
    with_total: bool,
    token: CancelToken,
) -> Page:
    """Worker: one page of matching entries (and the match count when ``with_total``)."""
    total = store.count_matching(text, label) if with_total else None
    check(token)
    entries = store.search(text, label, limit=PAGE, offset=offset)
    page = Page(entries, total)
    for entry in entries:
        check(token)
        if len(entry.excerpt) >= EXCERPT_CHARS:
            page.texts[entry.id] = _full_text(store, entry.id)
        if entry.has_thumbnail:
            image = read_thumbnail(store, entry.id)
            if image is not None:
                page.thumbs[entry.id] = image
    return page


def read_thumbnail(store: HistoryStore, result_id: str) -> QImage | None:
    """Worker: the entry's thumbnail, decoded and scaled for the list."""
    try:
        data = store.thumbnail(result_id)
    except VsaError as exc:
        log.warning("thumbnail of %s unreadable: %s", result_id, exc.message)
        return None
    if not data:
        return None
    image = QImage.fromData(data)
    if image.isNull():
        return None
    return image.scaled(
        THUMB_PX,
        THUMB_PX,
        Qt.AspectRatioMode.KeepAspectRatio,
        Qt.TransformationMode.SmoothTransformation,
    )


def _full_text(store: HistoryStore, result_id: str) -> str:
    try:
        return store.get(result_id).text_input or ""
    except VsaError:
        return ""


def entry_of(result: AnalysisResult) -> HistoryEntry:
    """The list row of a result just stored (what the store would read back)."""
    fusion = result.fusion
    agreement = fusion.agreement if fusion else None
    return HistoryEntry(
        id=result.id,
        created_at=normalize_time(result.created_at),
        mode=result.mode,
        text_label=result.text.label if result.text else None,
        vision_label=result.vision.label if result.vision else None,
        fused_label=fusion.label if fusion else None,
        fused_confidence=fusion.confidence if fusion else None,
        agreement_score=agreement.score if agreement else None,
        agreement_level=agreement.level if agreement else None,
        excerpt=(result.text_input or "")[:EXCERPT_CHARS],
        image_name=result.image.name if result.image else None,
        has_thumbnail=False,
    )


def when_text(entry: HistoryEntry) -> str:
    """The entry's time in the local time zone, to the minute."""
    try:
        moment = datetime.fromisoformat(entry.created_at).astimezone()
    except ValueError:
        return entry.created_at
    return moment.strftime("%Y-%m-%d\n%H:%M")


def reading_text(entry: HistoryEntry) -> str:
    """Two lines: the fused label and confidence, then the agreement."""
    if not entry.fused_label:
        return "—"
    conf = f" {percent(entry.fused_confidence)}" if entry.fused_confidence is not None else ""
    return f"{entry.fused_label}{conf}\n{agreement_text(entry)}"


def agreement_text(entry: HistoryEntry) -> str:
    if entry.agreement_score is None:
        return "one channel"
    return f"{entry.agreement_score:.2f} {entry.agreement_level or ''}".strip()


def input_text(entry: HistoryEntry) -> str:
    """The image name on the first line, the text (one line, elided by the view) below it."""
    text = inert_bidi(" ".join(entry.excerpt.split()))
    quoted = f"“{text}”" if text else ""
    if entry.image_name:
        name = inert_bidi(entry.image_name)
        return f"{name}\n{quoted}" if quoted else name
    return quoted or "—"
