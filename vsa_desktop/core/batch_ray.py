"""The Ray engine of ``vsa batch``: Ray Data runs the analysis on a pool of actors.

How a run goes:

1. The driver reads the input with ``batch_input`` (the same keys, refusals and notes as
   the local engine) and asks the outputs which rows are still to do (``pending``), so a
   killed run resumes the same way.
2. The rows to do are cut into groups of ``TEXT_GROUP`` (the local engine's text groups,
   so grouped text inference sees the same groups and gives the same numbers) and handed
   to Ray Data, one dataset row per group.
3. ``map_batches`` runs ``GroupWorker`` on an actor pool: each actor loads the text
   analyzer and the local face model once, then turns groups into output records with
   ``batch.analyze_group``, the local engine's own code.
4. The driver streams the records back and is the one writer of the JSONL, CSV and
   Parquet outputs (one fsync per block), so resuming and the torn-line repair are the
   local engine's.

History is not written from Ray workers (they may run on other machines); the results
are in the output files. Cloud vision requests of all actors go through one
``RateLimiterActor``.

Image paths are made absolute on the driver: on a cluster, the input's folder must be at
the same path on every node (a shared file system), as must an ONNX text model's cache.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import time
import warnings
from collections.abc import Iterator
from dataclasses import asdict
from pathlib import Path
from typing import Any

from vsa_desktop.core import ratelimit
from vsa_desktop.core.batch import (
    TEXT_GROUP,
    BatchProgress,
    BatchSummary,
    RequestTemplate,
    analyze_group,
)
from vsa_desktop.core.batch_input import BatchItem
from vsa_desktop.core.batch_output import BatchOutputs, Record, make_record
from vsa_desktop.core.cancel import CancelToken
from vsa_desktop.core.errors import InputError, VsaError

log = logging.getLogger(__name__)

GROUPS_PER_CALL = 2  # groups handed to an actor per map_batches call
INSTALL_HINT = "The Ray engine needs the scale extra: pip install 'vsa-desktop[scale]'."


def import_ray() -> Any:
    """Import ray (and Ray Data) or say how to install it.

    Raises:
        InputError: ray is not installed.
    """
    try:
        import ray
        import ray.data
    except ImportError:
        raise InputError(INSTALL_HINT) from None
    return ray


def item_to_dict(item: BatchItem) -> dict[str, Any]:
    """A JSON-able item, its image path made absolute for the workers."""
    data = asdict(item)
    data["image"] = str(item.image.absolute()) if item.image is not None else None
    return data


def item_from_dict(data: dict[str, Any]) -> BatchItem:
    """The item ``item_to_dict`` wrote."""
    image = data.get("image")
    return BatchItem(**{**data, "image": Path(image) if image else None})


class RayLimiter:
    """The ``ratelimit.RateLimiter`` of a Ray worker: asks the run's limiter actor."""

    def __init__(self, handle: Any) -> None:
        self.handle = handle

    def acquire(self, cancel: CancelToken | None = None) -> float:
        import ray

        wait = float(ray.get(self.handle.reserve.remote()))
        ratelimit.sleep_checked(wait, cancel)
        return wait

    def hold_off(self, seconds: float) -> None:
        import ray

        ray.get(self.handle.hold_off.remote(seconds))


class RateLimiterActor:
    """The token bucket of a run, in one actor that every worker asks (``num_cpus=0``)."""

    def __init__(self, per_minute: float) -> None:
        self.bucket = ratelimit.TokenBucket(per_minute)

    def reserve(self) -> float:
        return self.bucket.reserve()

    def hold_off(self, seconds: float) -> None:
        self.bucket.hold_off(seconds)


class GroupWorker:
    """A Ray Data actor: loads the models once, then turns groups of items into records.

    A run uses a subclass made by ``worker_class`` that carries the run's options as
    class attributes, shipped by Ray with the class itself. Ray Data restarts an actor
    that dies and retries its block, so a worker lost mid-run costs time, not rows.
    """

    template: RequestTemplate
    input_columns: list[str]
    limiter: Any = None
    threads: int = 1

    def __init__(self) -> None:
        os.environ["VSA_ONNX_THREADS"] = str(self.threads)  # the cores this actor was given
        logging.getLogger("vsa_desktop").setLevel(logging.WARNING)
        if self.limiter is not None:
            ratelimit.install(RayLimiter(self.limiter))
        warm_up(self.template)

    def __call__(self, batch: dict[str, Any]) -> dict[str, list[str]]:
        out = []
        for items_json in batch["items"]:
            group = [item_from_dict(d) for d in json.loads(items_json)]
            records = [
                make_record(outcome, self.input_columns).to_list()
                for outcome, _image in analyze_group(group, self.template)
            ]
            out.append(json.dumps(records, ensure_ascii=False))
        return {"records": out}


def worker_class(
    template: RequestTemplate, input_columns: list[str], limiter: Any = None
) -> type[GroupWorker]:
    """A ``GroupWorker`` subclass that holds one run's options."""
    options = {"template": template, "input_columns": list(input_columns), "limiter": limiter}
    return type("GroupWorker", (GroupWorker,), options)


def warm_up(template: RequestTemplate) -> None:
    """Load the text analyzer, and the local face model when the run uses it, once."""
    import io

    from PIL import Image

    from vsa_desktop.core.imaging import load_image
    from vsa_desktop.core.text.loader import load_text_analyzer
    from vsa_desktop.core.vision.select import choose_backend

    request = template.template
    load_text_analyzer(request.text_model, request.text_runtime).analyze("Warming up.")
    backend, _reason = choose_backend(request.vision, request.settings, request.offline)
    if backend is not None and backend.name == "local":
        buffer = io.BytesIO()
        Image.new("RGB", (64, 64), (128, 128, 128)).save(buffer, format="PNG")
        with contextlib.suppress(VsaError):  # no face in a blank image: loaded all the same
            backend.analyze(load_image(buffer.getvalue(), "warm-up"), [])


def _groups(todo: list[BatchItem]) -> Iterator[dict[str, Any]]:
    for number, start in enumerate(range(0, len(todo), TEXT_GROUP)):
        chunk = todo[start : start + TEXT_GROUP]
        yield {"group": number, "items": json.dumps([item_to_dict(i) for i in chunk])}


def connect(address: str | None) -> bool:
    """Join the cluster at ``address``, or start a local Ray with this machine's cores.

    Returns:
        True when this call started Ray (the caller shuts it down at the end).

    Raises:
        VsaError: the cluster cannot be reached.
    """
    ray = import_ray()
    if ray.is_initialized():
        return False
    options: dict[str, Any] = {
        "include_dashboard": False,
        "log_to_driver": False,
        "logging_level": logging.ERROR,
    }
    try:
        with warnings.catch_warnings():  # Ray Client warns, then raises: the error is said once
            warnings.simplefilter("ignore", UserWarning)
            if address:
                ray.init(address=address, **options)
            else:
                ray.init(num_cpus=os.cpu_count() or 1, **options)
    except (ConnectionError, RuntimeError, ValueError) as exc:
        where = f"the Ray cluster at {address}" if address else "a local Ray"
        raise VsaError(
            f"Cannot start or reach {where} ({str(exc).splitlines()[0][:200]}).",
            detail=str(exc),
            kind="ray",
        ) from None
    return True


def _quiet_ray_data() -> None:
    import ray.data

    logging.getLogger("ray.data").setLevel(logging.ERROR)
    context = ray.data.DataContext.get_current()
    context.enable_progress_bars = False
    for name in ("enable_operator_progress_bars", "print_on_execution_start"):
        if hasattr(context, name):
            setattr(context, name, False)


def run_batch_ray(
    items: list[BatchItem],
    outputs: BatchOutputs,
    template: RequestTemplate,
    *,
    address: str | None = None,
    workers: int | None = None,
    requests_per_minute: float = 30.0,
    progress: BatchProgress | None = None,
    cancel: CancelToken | None = None,
) -> BatchSummary:
    """Analyze every item not already done on Ray; every item gets an output row.

    Args:
        address: a Ray cluster (``auto``, ``ray://host:10001``); None starts a local Ray
            with this machine's cores (and stops it at the end).
        workers: actors in the pool (default: one per CPU of the cluster).
        requests_per_minute: the cloud vision limit shared by all actors of the run.

    Raises:
        InputError: ray is not installed.
        VsaError: the cluster cannot be reached, the text model cannot be loaded, or the
            run stopped because a worker failed (what was written stays; a re-run goes on).
    """
    ray = import_ray()
    started = time.perf_counter()
    summary = BatchSummary(total=len(items))
    todo, summary.retried = outputs.pending(items)
    summary.skipped = len(items) - len(todo)
    if not todo:
        outputs.close()
        return summary
    if not address:  # a model problem is said once here, not by every actor
        from vsa_desktop.core.text.loader import load_text_analyzer

        load_text_analyzer(template.template.text_model, template.template.text_runtime)
    started_here = connect(address)
    try:
        _quiet_ray_data()
        _run(ray, todo, outputs, template, workers, requests_per_minute, summary, progress, cancel)
    finally:
        outputs.close()
        if started_here:
            ray.shutdown()
    summary.seconds = time.perf_counter() - started
    return summary


def _run(
    ray: Any,
    todo: list[BatchItem],
    outputs: BatchOutputs,
    template: RequestTemplate,
    workers: int | None,
    requests_per_minute: float,
    summary: BatchSummary,
    progress: BatchProgress | None,
    cancel: CancelToken | None,
) -> None:
    rows = list(_groups(todo))
    size = workers or max(1, int(ray.cluster_resources().get("CPU", 1)))
    size = min(size, len(rows))  # no idle actors loading models for nothing
    limiter = ray.remote(num_cpus=0)(RateLimiterActor).remote(requests_per_minute)
    dataset = ray.data.from_items(rows, override_num_blocks=min(len(rows), size * 16))
    results = dataset.map_batches(
        worker_class(template, outputs.input_columns, limiter),
        batch_size=GROUPS_PER_CALL,
        compute=ray.data.ActorPoolStrategy(size=size),
        num_cpus=1,
    )
    processed = summary.skipped
    try:
        for batch in results.iter_batches(batch_size=None, batch_format="numpy"):
            for records_json in batch["records"]:
                records = [Record.from_list(r) for r in json.loads(str(records_json))]
                outputs.write_records(records)
                for r in records:
                    summary.count_row(r.key, r.status, r.label, r.message)
                processed += len(records)
                if progress:
                    progress(processed, summary.total, summary)
            if cancel is not None and cancel.cancelled:
                summary.cancelled = True
                break
    except ray.exceptions.RayError as exc:
        cause = getattr(exc, "cause", None)
        if isinstance(cause, VsaError):
            raise cause from None
        raise VsaError(
            "The Ray run stopped because a worker failed; what was written is kept, and "
            "running the same command again goes on from there.",
            detail=str(exc)[:2000],
            kind="ray",
        ) from None
