"""Batch runs: many texts and/or images from a table or a folder, resumable, to JSONL/CSV/Parquet.

The input is read by ``batch_input``, the outputs are kept by ``batch_output``; this module
analyses the items. ``analyze_group`` is the one place an item becomes an outcome: the local
engine (``run_batch``) and the Ray engine's workers (``batch_ray``) both call it.
"""

from __future__ import annotations

import dataclasses
import logging
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from vsa_desktop.core.batch_input import (
    MAX_CSV_BYTES,
    OUTSIDE_HINT,
    BatchItem,
    batch_scope,
    read_items,
)
from vsa_desktop.core.batch_output import (
    KEY_COLUMN,
    STATUS_FAILED,
    STATUS_OK,
    STATUS_PARTIAL,
    BatchOutputs,
    Outcome,
)
from vsa_desktop.core.cancel import CancelToken, check
from vsa_desktop.core.errors import Cancelled, InputError, VsaError
from vsa_desktop.core.imaging import LoadedImage, load_image
from vsa_desktop.core.pipeline import AnalysisRequest, analyze
from vsa_desktop.core.result import AnalysisResult, TextResult
from vsa_desktop.core.text.loader import load_text_analyzer

if TYPE_CHECKING:
    from vsa_desktop.core.history import HistoryStore

__all__ = [
    "KEY_COLUMN",
    "MAX_CSV_BYTES",
    "OUTSIDE_HINT",
    "BatchItem",
    "BatchOutputs",
    "BatchSummary",
    "RequestTemplate",
    "analyze_group",
    "batch_scope",
    "read_items",
    "run_batch",
]

log = logging.getLogger(__name__)

TEXT_GROUP = 32  # texts analysed together (grouped by length) for throughput

RequestMaker = Callable[[BatchItem], AnalysisRequest]


@dataclass(frozen=True)
class RequestTemplate:
    """Makes each item's request from one template (model, vision, fusion options).

    A plain picklable object, so Ray workers get the same options as the local engine.
    """

    template: AnalysisRequest

    def __call__(self, item: BatchItem) -> AnalysisRequest:
        return dataclasses.replace(self.template, text=item.text, image=item.image)


@dataclass
class BatchSummary:
    """What a batch run did.

    Attributes:
        retried: items analysed again because an earlier run failed them (or read them
            without their image, which is there now).
        partial: items read from their text alone because their image is missing.
        not_kept: results analysed and written out but not kept in history.
        history_problem: why the first of those was not kept (one sentence).
    """

    total: int = 0
    done: int = 0
    skipped: int = 0
    retried: int = 0
    partial: int = 0
    failures: list[tuple[str, str]] = field(default_factory=list)
    labels: Counter[str] = field(default_factory=Counter)
    seconds: float = 0.0
    cancelled: bool = False
    not_kept: int = 0
    history_problem: str | None = None

    @property
    def per_second(self) -> float:
        """Items analysed per second in this run."""
        return self.done / self.seconds if self.seconds > 0 else 0.0

    def count(self, outcome: Outcome) -> None:
        """Add one outcome to the counts."""
        fusion = outcome.result.fusion if outcome.result is not None else None
        message = (outcome.error or {}).get("message", "")
        self.count_row(outcome.item.key, outcome.status, fusion.label if fusion else None, message)

    def count_row(self, key: str, status: str, label: str | None, message: str = "") -> None:
        """Add one written row to the counts."""
        if status == STATUS_FAILED:
            self.failures.append((key, message))
            return
        self.done += 1
        if status == STATUS_PARTIAL:
            self.partial += 1
        if label:
            self.labels[label] += 1


# progress(processed, total, summary-so-far)
BatchProgress = Callable[[int, int, BatchSummary], None]


def run_batch(
    items: list[BatchItem],
    outputs: BatchOutputs,
    make_request: RequestMaker,
    *,
    history: HistoryStore | None = None,
    keep_thumbnail: bool = True,
    progress: BatchProgress | None = None,
    cancel: CancelToken | None = None,
    history_scope: str = "",
) -> BatchSummary:
    """Analyze every item not already done (the local engine); every item gets an output row.

    Texts are analysed in groups of ``TEXT_GROUP`` (sorted by length, dynamic padding), then
    each item goes through ``pipeline.analyze`` with its text result. Each result is kept
    in history first, under the batch key ``history_scope + "|" + item.key`` (a re-run
    replaces, never duplicates, it); each group is then written to the outputs at once
    (one fsync a file, not one a row); a failed item is written with its reason. A history
    that cannot be written does not stop the run: ``summary.not_kept`` counts those rows.
    """
    started = time.perf_counter()
    summary = BatchSummary(total=len(items))
    todo, summary.retried = outputs.pending(items)
    summary.skipped = len(items) - len(todo)
    processed = summary.skipped
    try:
        for start in range(0, len(todo), TEXT_GROUP):
            done: list[Outcome] = []
            try:
                for outcome, image in analyze_group(
                    todo[start : start + TEXT_GROUP], make_request, cancel
                ):
                    if history is not None and outcome.result is not None:
                        outcome = _keep(
                            history, outcome, image, keep_thumbnail, history_scope, summary
                        )
                    done.append(outcome)
                    summary.count(outcome)
                    processed += 1
                    if progress:
                        progress(processed, len(items), summary)
            finally:  # a group is written at once (one fsync a file), also when cancelled
                outputs.write(done)
    except Cancelled:
        summary.cancelled = True
    finally:
        outputs.close()
    summary.seconds = time.perf_counter() - started
    return summary


def analyze_group(
    group: list[BatchItem], make_request: RequestMaker, cancel: CancelToken | None = None
) -> Iterator[tuple[Outcome, LoadedImage | None]]:
    """Analyze a group of items: their texts together, then each item through the pipeline.

    Yields each item's outcome (with its loaded image, for a thumbnail) in the group's
    order; an item that cannot be analysed yields a failed outcome, never an exception.

    Raises:
        Cancelled: ``cancel`` was set (checked before each item).
    """
    texts = _group_texts([i for i in group if i.problem is None], make_request)
    for item in group:
        check(cancel)
        yield analyze_item(item, make_request, texts.get(item.key), cancel)


def analyze_item(
    item: BatchItem,
    make_request: RequestMaker,
    text: TextResult | None = None,
    cancel: CancelToken | None = None,
) -> tuple[Outcome, LoadedImage | None]:
    """One item's outcome (and its image when one was loaded); failures are outcomes too.

    A row whose image file is missing but that has a text is read from the text alone,
    with a warning, as ``partial``.
    """
    try:
        return _analyze(item, make_request, text, cancel)
    except Cancelled:
        raise
    except VsaError as exc:
        return Outcome(item, None, exc.to_dict(), STATUS_FAILED), None


def _analyze(
    item: BatchItem, make_request: RequestMaker, text: TextResult | None, cancel: CancelToken | None
) -> tuple[Outcome, LoadedImage | None]:
    if item.problem is not None:
        raise InputError(item.problem)
    if item.text is None and item.image is None:
        raise InputError("The row has neither text nor image.")
    notes = [_encoding_note(item.text_encoding)] if item.text_encoding else []
    status, image_path = STATUS_OK, item.image
    if image_path is not None and item.text is not None and not _exists(image_path):
        notes.append(
            f"The image {item.image_ref or image_path.name} was not found; this reading is "
            "from the text alone."
        )
        status, image_path = STATUS_PARTIAL, None
    request = dataclasses.replace(make_request(item), image=None)
    image, image_ms = None, 0.0
    if image_path is not None:  # loaded here so its pixels can make the thumbnail
        t0 = time.perf_counter()
        image = load_image(image_path)
        image_ms = (time.perf_counter() - t0) * 1000.0
        request = dataclasses.replace(request, image=image)
    result = analyze(request, cancel, text_result=text)
    timings = dict(result.timings_ms)
    if image is not None:
        timings["image"] = image_ms
        timings["total"] = timings.get("total", 0.0) + image_ms
    result = dataclasses.replace(result, warnings=(*notes, *result.warnings), timings_ms=timings)
    return Outcome(item, result, None, status), image


def _exists(path: object) -> bool:
    try:
        return bool(path.exists())  # type: ignore[attr-defined]
    except OSError:
        return False


def _group_texts(group: list[BatchItem], make_request: RequestMaker) -> dict[str, TextResult]:
    with_text = [item for item in group if item.text]
    if not with_text:
        return {}
    request = make_request(with_text[0])
    try:
        analyzer = load_text_analyzer(request.text_model, request.text_runtime)
        results = analyzer.analyze_batch([item.text or "" for item in with_text])
    except VsaError as exc:  # one bad text or a model problem: fall back to one by one
        log.info("grouped text analysis failed (%s); analysing one by one", exc.message)
        return {}
    return {item.key: r for item, r in zip(with_text, results, strict=True)}


def _keep(
    history: HistoryStore,
    outcome: Outcome,
    image: LoadedImage | None,
    keep_thumbnail: bool,
    scope: str,
    summary: BatchSummary,
) -> Outcome:
    """Keep the result in history under its batch key; a failure is counted, not fatal."""
    result = outcome.result
    assert result is not None
    try:
        history.add(
            result,
            thumbnail_source=image.pixels if image else None,
            keep_thumbnail=keep_thumbnail,
            batch_key=f"{scope}|{outcome.item.key}",
        )
    except VsaError as exc:
        summary.not_kept += 1
        if summary.history_problem is None:
            summary.history_problem = exc.message
            log.info("history write failed: %s (%s)", exc.message, exc.detail)
        kept: AnalysisResult = dataclasses.replace(
            result, warnings=(*result.warnings, f"Not saved to history: {exc.message}")
        )
        return dataclasses.replace(outcome, result=kept)
    return outcome


def _encoding_note(encoding: str) -> str:
    return f"The text is not UTF-8; it was read as {encoding.upper()}."
