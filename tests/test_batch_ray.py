"""The Ray engine: the same rows and numbers as the local engine, resume after a kill, limits.

A local Ray with 2 CPUs is started once for the whole session (``ray_session``); the kill
test runs the real ``vsa batch --engine ray`` in its own process group, which starts and
(after the kill) leaves its own Ray, cleaned up by the test.
"""

from __future__ import annotations

import csv
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import DATA, ROOT, SHARED
from vsa_desktop.cli import exitcodes
from vsa_desktop.core.batch import BatchOutputs, RequestTemplate, read_items, run_batch
from vsa_desktop.core.pipeline import AnalysisRequest

ray = pytest.importorskip("ray", reason="the scale extra (ray) is not installed")
pytestmark = pytest.mark.slow

TRAIN_TSV = SHARED / "data" / "goemotions-ekman" / "train.tsv"
FER_TRAIN = SHARED / "data" / "fer2013" / "train"
TEXTS, IMAGES = 2000, 200


@pytest.fixture(scope="session")
def ray_session() -> Iterator[None]:
    """One local Ray for the session, sized for 2 cores, shut down at the end."""
    started = not ray.is_initialized()
    if started:
        ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False, logging_level="ERROR")
    yield
    if started:
        ray.shutdown()


def train_texts(n: int) -> list[str]:
    """``n`` GoEmotions train texts, or, on a machine without the shared data, the project's
    own probe texts numbered into ``n`` different ones (the engines must agree either way)."""
    if TRAIN_TSV.exists():
        with TRAIN_TSV.open(encoding="utf-8") as f:
            return [line.split("\t")[0] for _, line in zip(range(n), f, strict=False)]
    probes = ROOT / "resources" / "probes" / "text_probes.txt"
    lines = [ln for ln in probes.read_text("utf-8").splitlines() if ln and not ln.startswith("#")]
    return [f"{lines[i % len(lines)]} ({i})" for i in range(n)]


def face_images(folder: Path, n: int) -> list[str]:
    """``n`` face images inside ``folder``: FER2013 train faces when present, else crops."""
    folder.mkdir()
    if FER_TRAIN.is_dir():
        sources = sorted(
            p for sub in sorted(FER_TRAIN.iterdir()) for p in sorted(sub.iterdir())[:40]
        )
        names = []
        for i, source in enumerate(sources[:n]):
            shutil.copy(source, folder / f"f{i:03d}{source.suffix}")
            names.append(f"faces/f{i:03d}{source.suffix}")
        return names
    from PIL import Image

    photo = Image.open(DATA / "astronaut.png").convert("RGB")
    names = []
    for i in range(n):  # the face, framed a little differently each time
        d = i % 40
        photo.crop((120 - d, 20 - d // 2, 340 + d, 260 + d)).save(folder / f"c{i:03d}.png")
        names.append(f"faces/c{i:03d}.png")
    return names


@pytest.fixture(scope="module")
def mixed_csv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """2,000 texts, 200 faces with a text, a row with a missing image, one with nothing."""
    folder = tmp_path_factory.mktemp("mixed")
    texts = train_texts(TEXTS + IMAGES)
    images = face_images(folder / "faces", IMAGES)
    rows = [{"id": f"t{i}", "text": t, "image": ""} for i, t in enumerate(texts[:TEXTS])]
    rows += [
        {"id": f"i{i}", "text": texts[TEXTS + i], "image": name} for i, name in enumerate(images)
    ]
    rows += [
        {"id": "gone", "text": "so happy today", "image": "faces/gone.png"},
        {"id": "empty", "text": "", "image": ""},
    ]
    path = folder / "in.csv"
    with path.open("w", encoding="utf-8", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=["id", "text", "image"])
        writer.writeheader()
        writer.writerows(rows)
    return path


def template() -> RequestTemplate:
    return RequestTemplate(AnalysisRequest(text_model="builtin:lite", vision="local", offline=True))


def docs_by_key(path: Path) -> dict[str, dict]:
    docs = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
    by_key = {d["batch"]["key"]: d for d in docs}
    assert len(by_key) == len(docs), "a row is there twice"
    return by_key


def scores_of(doc: dict) -> list[float]:
    values = []
    for channel in ("text", "vision", "fusion"):
        part = doc.get(channel) or {}
        for field in ("scores", "probabilities"):
            values += list((part.get(field) or {}).values())
        values.append(part.get("confidence", 0.0))
    agreement = (doc.get("fusion") or {}).get("agreement") or {}
    values.append(agreement.get("score", 0.0))
    return values


def test_ray_gives_the_local_engines_rows_labels_and_scores(
    mixed_csv: Path, tmp_path: Path, ray_session: None
) -> None:
    from vsa_desktop.core.batch_ray import run_batch_ray

    items, extra = read_items(mixed_csv)
    local_out, ray_out = tmp_path / "local.jsonl", tmp_path / "ray.jsonl"
    local = run_batch(items, BatchOutputs(local_out, tmp_path / "local.csv", extra), template())
    on_ray = run_batch_ray(
        items, BatchOutputs(ray_out, tmp_path / "ray.csv", extra), template(), workers=2
    )
    assert (on_ray.done, on_ray.partial, len(on_ray.failures)) == (TEXTS + IMAGES + 1, 1, 1)
    assert (local.done, local.partial, local.failures) == (on_ray.done, 1, on_ray.failures)
    assert on_ray.labels == local.labels
    a, b = docs_by_key(local_out), docs_by_key(ray_out)
    assert a.keys() == b.keys() == {item.key for item in items}
    multimodal = 0
    for key, doc in a.items():
        other = b[key]
        assert other["batch"] == doc["batch"]
        assert other.get("mode") == doc.get("mode")
        multimodal += doc.get("mode") == "multimodal"
        for channel in ("text", "vision", "fusion"):
            assert (other.get(channel) or {}).get("label") == (doc.get(channel) or {}).get("label")
        assert scores_of(other) == pytest.approx(scores_of(doc), abs=1e-6)
        assert other.get("warnings") == doc.get("warnings")
    assert multimodal >= IMAGES * 0.8  # most faces were found, so the vision channel ran
    with (tmp_path / "local.csv").open(encoding="utf-8-sig", newline="") as f:
        local_rows = {r["batch_item"]: r for r in csv.DictReader(f)}
    with (tmp_path / "ray.csv").open(encoding="utf-8-sig", newline="") as f:
        ray_rows = {r["batch_item"]: r for r in csv.DictReader(f)}
    assert local_rows.keys() == ray_rows.keys()
    for key, row in local_rows.items():
        assert ray_rows[key]["fused_label"] == row["fused_label"]
        assert ray_rows[key]["status"] == row["status"]


def test_ray_resumes_what_the_outputs_do_not_hold_and_writes_parquet(
    mixed_csv: Path, tmp_path: Path, ray_session: None
) -> None:
    pq = pytest.importorskip("pyarrow.parquet")
    from vsa_desktop.core.batch_ray import run_batch_ray

    items, extra = read_items(mixed_csv)
    items = items[:150] + items[-2:]
    jsonl, parquet = tmp_path / "o.jsonl", tmp_path / "o.parquet"
    first = run_batch(items[:100], BatchOutputs(jsonl, None, extra, parquet), template())
    assert first.done == 100
    rest = run_batch_ray(items, BatchOutputs(jsonl, None, extra, parquet), template(), workers=2)
    assert rest.skipped == 100 and rest.done == 51 and len(rest.failures) == 1
    docs = docs_by_key(jsonl)
    assert docs.keys() == {item.key for item in items}
    table = pq.read_table(parquet)
    assert sorted(table["batch_item"].to_pylist()) == sorted(docs)
    row = next(r for r in table.to_pylist() if r["batch_item"] == items[0].key)
    assert row["fused_label"] == docs[items[0].key]["fusion"]["label"]
    assert row["input.id"] == "t0" and json.loads(row["document"])["batch"]["key"] == items[0].key
    again = run_batch_ray(items, BatchOutputs(jsonl, None, extra, parquet), template(), workers=2)
    assert again.retried == 1 and again.done == 0  # only the failed row is tried again
    assert pq.read_table(parquet).num_rows == len(items)


def _lines(path: Path) -> int:
    return path.read_bytes().count(b"\n") if path.exists() else 0


def test_a_killed_ray_run_resumes_without_duplicates(tmp_path: Path) -> None:
    texts = train_texts(3000)
    source = tmp_path / "in.csv"
    with source.open("w", encoding="utf-8", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["id", "text"])
        writer.writerows([f"r{i}", t] for i, t in enumerate(texts))
    jsonl = tmp_path / "out.jsonl"
    args = [
        sys.executable, "-m", "vsa_desktop.cli", "batch", str(source), "--jsonl", str(jsonl),
        "--engine", "ray", "--workers", "2", "--text-model", "builtin:lite",
    ]  # fmt: skip
    env = {**os.environ, "VSA_HOME": str(tmp_path / "home")}
    child = subprocess.Popen(
        args, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True
    )
    try:
        deadline = time.monotonic() + 180
        while _lines(jsonl) < 200 and child.poll() is None and time.monotonic() < deadline:
            time.sleep(0.05)
        assert child.poll() is None, "the run ended before it could be killed"
        os.kill(child.pid, signal.SIGKILL)
        child.wait(timeout=30)
    finally:
        _kill_group(child.pid)  # Ray's own processes of that run
    written = _lines(jsonl)
    assert 200 <= written < 3000
    again = subprocess.run(args, env=env, capture_output=True, text=True, timeout=300)
    assert again.returncode == exitcodes.OK, again.stderr
    assert (
        f"{written} already done" in again.stderr or f"{written - 1} already done" in again.stderr
    )
    assert "Traceback" not in again.stderr
    keys = [json.loads(x)["batch"]["key"] for x in jsonl.read_text(encoding="utf-8").splitlines()]
    assert len(keys) == 3000 and len(set(keys)) == 3000


def _kill_group(pgid: int) -> None:
    for _ in range(50):
        try:
            os.killpg(pgid, signal.SIGKILL)
        except ProcessLookupError:
            return
        time.sleep(0.1)


def test_an_unreachable_cluster_is_one_sentence(tmp_path: Path) -> None:
    source = tmp_path / "in.csv"
    source.write_text("text\nhappy\n", encoding="utf-8")
    args = [
        sys.executable, "-m", "vsa_desktop.cli", "batch", str(source), "--jsonl",
        str(tmp_path / "o.jsonl"), "--engine", "ray", "--ray-address", "ray://127.0.0.1:9",
        "--text-model", "builtin:lite",
    ]  # fmt: skip
    done = subprocess.run(
        args,
        env={**os.environ, "VSA_HOME": str(tmp_path / "home")},
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert done.returncode == exitcodes.FAILED, done.stderr
    lines = [x for x in done.stderr.splitlines() if not x.startswith("note:")]
    assert lines == [
        "vsa: Cannot start or reach the Ray cluster at ray://127.0.0.1:9 (ray client "
        "connection timeout)."
    ], done.stderr
