"""One request-rate limit for all workers of a batch run; a run at the limit slows down.

The cloud is the stand-in Groq server (a real HTTP server on 127.0.0.1) that the real groq
SDK talks to; the times are the server's own receipt times of each request.
"""

from __future__ import annotations

import csv
import itertools
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import DATA
from tests.fake_groq import FakeGroq, fail, ok, scores_json
from vsa_desktop.cli import exitcodes
from vsa_desktop.core import ratelimit
from vsa_desktop.core.batch import BatchOutputs, RequestTemplate, read_items, run_batch
from vsa_desktop.core.pipeline import AnalysisRequest

KEY = "gsk_test_secret_key_123456"
HAPPY = scores_json({"happy": 0.8, "neutral": 0.2})


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_the_bucket_spaces_requests_and_honours_a_hold_off() -> None:
    clock = Clock()
    bucket = ratelimit.TokenBucket(60, clock=clock)  # one a second
    assert [bucket.reserve() for _ in range(3)] == [0.0, 1.0, 2.0]
    clock.now += 10  # idle: no credit piles up beyond the burst
    assert bucket.reserve() == 0.0 and bucket.reserve() == 1.0
    bucket.hold_off(5.0)
    assert bucket.reserve() == pytest.approx(5.0)
    assert bucket.reserve() == pytest.approx(6.0)
    burst = ratelimit.TokenBucket(120, burst=3, clock=clock)
    assert [burst.reserve() for _ in range(4)] == [0.0, 0.0, 0.0, 0.5]
    with pytest.raises(ValueError):
        ratelimit.TokenBucket(0)


def image_rows(folder: Path, n: int) -> Path:
    shutil.copy(DATA / "astronaut.png", folder / "a.png")
    source = folder / "in.csv"
    with source.open("w", encoding="utf-8", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["text", "image"])
        writer.writerows([f"post {i}: what a day", "a.png"] for i in range(n))
    return source


def gaps(server: FakeGroq) -> list[float]:
    times = [r.at for r in server.chat_requests()]
    return [b - a for a, b in itertools.pairwise(times)]


@pytest.fixture
def cloud(monkeypatch: pytest.MonkeyPatch):
    with FakeGroq() as server:
        monkeypatch.setenv("GROQ_BASE_URL", server.base_url)
        monkeypatch.setenv("GROQ_API_KEY", KEY)
        yield server


def groq_template() -> RequestTemplate:
    return RequestTemplate(AnalysisRequest(text_model="builtin:lite", vision="groq"))


def test_a_local_run_at_the_limit_slows_down_instead_of_failing_rows(
    cloud: FakeGroq, tmp_path: Path
) -> None:
    items, extra = read_items(image_rows(tmp_path, 4))
    slow = fail(429, "Rate limit reached", "rate_limit_exceeded", headers={"retry-after": "1"})
    cloud.queue(slow, slow, slow, *[ok(HAPPY)] * 4)
    with ratelimit.installed(ratelimit.TokenBucket(120)):  # 0.5 s apart
        summary = run_batch(items, BatchOutputs(tmp_path / "o.jsonl", None, extra), groq_template())
    assert summary.failures == [] and summary.done == 4
    assert len(cloud.chat_requests()) == 7
    spaced = gaps(cloud)
    assert all(g >= 0.45 for g in spaced), spaced
    assert all(g >= 0.95 for g in spaced[:3]), spaced  # the service's retry-after, honoured
    docs = [json.loads(x) for x in (tmp_path / "o.jsonl").read_text().splitlines()]
    assert {d["vision"]["backend"] for d in docs} == {"groq"}


def test_without_the_batch_limiter_the_same_answers_fail_the_row(
    cloud: FakeGroq, tmp_path: Path
) -> None:
    """The contrast: without a run's limiter the backend gives up after 3 answers of 429,
    and the row is read from its text alone."""
    items, extra = read_items(image_rows(tmp_path, 1))
    slow = fail(429, "Rate limit reached", "rate_limit_exceeded", headers={"retry-after": "1"})
    cloud.queue(slow, slow, slow, ok(HAPPY))
    summary = run_batch(items, BatchOutputs(tmp_path / "o.jsonl", None, extra), groq_template())
    doc = json.loads((tmp_path / "o.jsonl").read_text().splitlines()[0])
    assert doc["batch"]["status"] == "ok" and doc["vision"] is None  # text alone, vision failed
    assert doc["vision_error"]["kind"] == "rate_limit" and summary.done == 1


def test_ray_workers_share_one_limit(cloud: FakeGroq, tmp_path: Path) -> None:
    pytest.importorskip("ray", reason="the scale extra (ray) is not installed")
    source = image_rows(tmp_path, 8)
    slow = fail(429, "Rate limit reached", "rate_limit_exceeded", headers={"retry-after": "1"})
    cloud.queue(slow, *[ok(HAPPY)] * 8)
    out = tmp_path / "o.jsonl"
    args = [
        sys.executable, "-m", "vsa_desktop.cli", "batch", str(source), "--jsonl", str(out),
        "--engine", "ray", "--workers", "2", "--vision", "groq", "--vision-rpm", "120",
        "--text-model", "builtin:lite",
    ]  # fmt: skip
    done = subprocess.run(
        args,
        env={**os.environ, "VSA_HOME": str(tmp_path / "home")},
        capture_output=True,
        text=True,
        timeout=300,
        start_new_session=True,
    )
    assert done.returncode == exitcodes.OK, done.stderr
    assert "0 failed" in done.stderr
    assert len(cloud.chat_requests()) == 9
    spaced = gaps(cloud)
    assert all(g >= 0.45 for g in spaced), spaced  # two workers, one pace
    assert max(spaced) >= 0.95  # somebody waited out the retry-after
    docs = [json.loads(x) for x in out.read_text().splitlines()]
    assert len(docs) == 8 and all(d["vision"]["backend"] == "groq" for d in docs)
