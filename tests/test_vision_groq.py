"""Tests of the Groq vision backend through the real groq SDK against a local fake server."""

from __future__ import annotations

import base64
import io
import json
import logging
import math
import threading
import time
from collections.abc import Iterator
from typing import Any

import numpy as np
import pytest
from PIL import Image

from tests.fake_groq import FakeGroq, Recorded, Reply, fail, ok, scores_json
from vsa_desktop.core.cancel import CancelToken
from vsa_desktop.core.errors import Cancelled, VisionError
from vsa_desktop.core.imaging import LoadedImage
from vsa_desktop.core.result import ImageInfo
from vsa_desktop.core.taxonomy import EMOTIONS
from vsa_desktop.core.vision import vlm_image
from vsa_desktop.core.vision.groq_backend import GroqVisionBackend
from vsa_desktop.core.vision.vlm_image import MAX_BASE64_CHARS, prepare_image

KEY = "gsk_TESTKEY_0123456789abcdefSECRET"
QWEN = "qwen/qwen3.8-27b"
QWEN_OLD = "qwen/qwen3.6-27b"
SCOUT = "meta-llama/llama-4-scout-17b-16e-instruct"
MAVERICK = "meta-llama/llama-4-maverick-17b-128e-instruct"
PREFERENCE = [QWEN, QWEN_OLD, SCOUT, MAVERICK]
GOOD = {
    "happy": 0.7,
    "sad": 0.05,
    "angry": 0.0,
    "fear": 0.05,
    "surprise": 0.1,
    "disgust": 0.0,
    "neutral": 0.1,
}


@pytest.fixture
def server() -> Iterator[FakeGroq]:
    with FakeGroq() as fake:
        yield fake


def _noise(width: int, height: int) -> LoadedImage:
    rng = np.random.default_rng(7)
    pixels = Image.fromarray(rng.integers(0, 256, (height, width, 3), dtype=np.uint8), "RGB")
    return LoadedImage(pixels, ImageInfo("photo.png", "0" * 64, width, height))


@pytest.fixture(scope="module")
def big_photo() -> LoadedImage:
    """A 2400x1600 noisy image: big enough to need downscaling, incompressible enough to matter."""
    return _noise(2400, 1600)


@pytest.fixture(scope="module")
def photo() -> LoadedImage:
    """A small image for the tests about the conversation, not the image."""
    return _noise(320, 240)


def make_backend(server: FakeGroq, **kwargs: Any) -> GroqVisionBackend:
    options: dict[str, Any] = {
        "models": list(PREFERENCE),
        "api_key": KEY,
        "base_url": server.base_url,
        "timeout_s": 5,
        "max_retry_wait_s": 2,
    }
    options.update(kwargs)
    return GroqVisionBackend(**options)


def sent_image(request: Recorded) -> tuple[str, Image.Image]:
    """The base64 payload and the decoded image of a recorded chat request."""
    parts = request.body["messages"][0]["content"]
    url = next(p["image_url"]["url"] for p in parts if p["type"] == "image_url")
    prefix, payload = url.split(",", 1)
    assert prefix == "data:image/jpeg;base64"
    img = Image.open(io.BytesIO(base64.b64decode(payload, validate=True)))
    img.load()
    return payload, img


def analyze_error(backend: GroqVisionBackend, image: LoadedImage) -> tuple[VisionError, list[str]]:
    warnings: list[str] = []
    with pytest.raises(VisionError) as info:
        backend.analyze(image, warnings)
    return info.value, warnings


def assert_no_key(server: FakeGroq, *texts: str) -> None:
    """The key is in no request body and in none of ``texts``."""
    for request in server.requests:
        assert KEY not in request.raw.decode("utf-8", "replace")
    for text in texts:
        assert KEY not in text
        assert "TESTKEY" not in text


# --- the good path ----------------------------------------------------------------------


def test_good_answer_gives_scores_and_sends_a_compliant_request(server, big_photo) -> None:
    server.queue(ok(scores_json(GOOD, "A broad smile, raised cheeks, relaxed shoulders.")))
    warnings: list[str] = []
    result = make_backend(server).analyze(big_photo, warnings)

    assert result.backend == "groq"
    assert result.model == QWEN
    assert list(result.scores) == list(EMOTIONS)
    assert math.isclose(sum(result.scores.values()), 1.0, abs_tol=1e-9)
    assert result.label == "happy"
    assert result.confidence == pytest.approx(0.7)
    assert result.scores["surprise"] == pytest.approx(0.1)
    assert result.description == "A broad smile, raised cheeks, relaxed shoulders."
    assert result.faces == ()
    assert warnings == []

    (request,) = server.requests
    assert request.method == "POST"
    assert request.path == "/openai/v1/chat/completions"
    assert request.headers["authorization"] == f"Bearer {KEY}"
    body = request.body
    assert body["model"] == QWEN
    assert body["response_format"] == {"type": "json_object"}
    assert body["reasoning_format"] == "hidden"
    assert body["reasoning_effort"] == "none"
    prompt = body["messages"][0]["content"][0]["text"]
    assert "expresses" in prompt.lower() and "json" in prompt.lower()
    assert all(emotion in prompt for emotion in EMOTIONS)
    payload, sent = sent_image(request)
    assert sent.format == "JPEG"
    assert len(payload) < 4 * 1024 * 1024
    assert max(sent.size) <= 1568
    assert sent.size == (1568, 1045)  # aspect ratio kept
    assert sent.width * sent.height < 33_000_000
    assert_no_key(server, *warnings, result.description)


def test_max_side_setting_is_honoured(server, big_photo) -> None:
    server.queue(ok(scores_json(GOOD)))
    make_backend(server, max_side=512).analyze(big_photo, [])
    _, sent = sent_image(server.requests[0])
    assert max(sent.size) == 512


def test_non_reasoning_model_gets_no_reasoning_fields(server, photo) -> None:
    server.queue(ok(scores_json(GOOD)))
    make_backend(server, models=[MAVERICK]).analyze(photo, [])
    body = server.requests[0].body
    assert body["model"] == MAVERICK
    assert "reasoning_format" not in body and "reasoning_effort" not in body


@pytest.mark.parametrize(
    "answer",
    [
        "Here is my reading:\n" + scores_json(GOOD) + "\nHope this helps.",
        "```json\n" + scores_json(GOOD) + "\n```",
        "<think>The person smiles.</think>" + scores_json(GOOD),
        "Note {not json} first. Then " + scores_json(GOOD),
    ],
    ids=["prose", "fence", "think", "braces-before"],
)
def test_json_inside_prose_or_fences(server, photo, answer: str) -> None:
    server.queue(ok(answer))
    result = make_backend(server).analyze(photo, [])
    assert result.label == "happy"
    assert result.scores["happy"] == pytest.approx(0.7)


@pytest.mark.parametrize(
    "answer",
    [
        "I cannot tell what this person feels.",
        "",
        '{"description": "no scores"}',
        "[0.1, 0.2]",
        scores_json({"happy": 0, "sad": 0}),
    ],
    ids=["prose", "empty", "no-scores", "list", "all-zero"],
)
def test_garbage_is_unusable(server, photo, answer: str) -> None:
    server.queue(ok(answer))
    error, _ = analyze_error(make_backend(server), photo)
    assert error.kind == "unusable_answer"
    assert error.message == "The vision model's answer could not be used."


def test_off_taxonomy_labels_are_mapped_or_dropped_and_reported(server, photo) -> None:
    server.queue(
        ok(scores_json({"Joy": 0.4, "happiness": 0.2, "boredom": 0.2, "contempt": 0.1, "awe": 0.1}))
    )
    warnings: list[str] = []
    result = make_backend(server).analyze(photo, warnings)
    # joy + happiness -> happy, contempt -> disgust; boredom and awe are dropped, never guessed.
    assert result.scores["happy"] == pytest.approx(0.6 / 0.7)
    assert result.scores["disgust"] == pytest.approx(0.1 / 0.7)
    assert result.scores["neutral"] == 0.0
    (warning,) = warnings
    assert "boredom" in warning and "awe" in warning


def test_invalid_numbers_are_dropped_with_a_warning(server, photo) -> None:
    answer = (
        '{"description": "x", "scores": {"happy": 0.2, "sad": -0.3, "angry": NaN, '
        '"fear": "lots", "surprise": Infinity, "disgust": true, "neutral": "0.6"}}'
    )
    server.queue(ok(answer))
    warnings: list[str] = []
    result = make_backend(server).analyze(photo, warnings)
    assert result.scores["happy"] == pytest.approx(0.25)
    assert result.scores["neutral"] == pytest.approx(0.75)
    assert all(result.scores[k] == 0.0 for k in ("sad", "angry", "fear", "surprise", "disgust"))
    (warning,) = warnings
    for label in ("sad", "angry", "fear", "surprise", "disgust"):
        assert label in warning


def test_only_invalid_numbers_is_unusable(server, photo) -> None:
    server.queue(ok(scores_json({"happy": -1, "sad": "very", "neutral": None})))
    error, warnings = analyze_error(make_backend(server), photo)
    assert error.kind == "unusable_answer"
    assert any("happy" in w for w in warnings)


def test_percentages_and_missing_keys(server, photo) -> None:
    server.queue(ok(scores_json({"happy": 60, "surprise": 30, "neutral": "10%"})))
    result = make_backend(server).analyze(photo, [])
    assert result.scores == pytest.approx(
        {
            "happy": 0.6,
            "sad": 0.0,
            "angry": 0.0,
            "fear": 0.0,
            "surprise": 0.3,
            "disgust": 0.0,
            "neutral": 0.1,
        }
    )


def test_long_description_is_trimmed(server, photo) -> None:
    server.queue(ok(scores_json(GOOD, "word " * 400)))
    result = make_backend(server).analyze(photo, [])
    assert 400 <= len(result.description) <= 500


def test_json_mode_refusal_is_read_from_failed_generation(server, photo) -> None:
    server.queue(
        fail(
            400,
            "Failed to generate JSON.",
            "json_validate_failed",
            extra={"failed_generation": "Sure! " + scores_json(GOOD)},
        )
    )
    result = make_backend(server).analyze(photo, [])
    assert result.label == "happy"
    assert len(server.chat_requests()) == 1


# --- errors -----------------------------------------------------------------------------


def test_no_key_fails_before_any_request(server, photo) -> None:
    for key in (None, "", "   "):
        error, _ = analyze_error(make_backend(server, api_key=key), photo)
        assert error.kind == "no_key"
        assert error.message == "No Groq API key: set GROQ_API_KEY or add it in Settings."
    assert server.requests == []


def test_rejected_key(server, photo) -> None:
    # A misbehaving proxy that echoes the key must not get it into our messages.
    server.queue(fail(401, f"Invalid API Key {KEY}", "invalid_api_key"))
    error, warnings = analyze_error(make_backend(server), photo)
    assert error.kind == "auth"
    assert error.message == "The Groq API key was rejected: check it in Settings."
    assert "401" in error.detail
    assert_no_key(server, error.message, error.detail, str(error), *warnings)
    assert len(server.requests) == 1


@pytest.mark.parametrize(
    "gone",
    [
        fail(
            404,
            f"The model `{QWEN}` does not exist or you do not have access to it.",
            "model_not_found",
        ),
        fail(400, f"The model `{QWEN}` has been decommissioned.", "model_decommissioned"),
    ],
    ids=["404-model_not_found", "400-model_decommissioned"],
)
def test_retired_model_switches_to_first_listed_candidate(server, photo, gone: Reply) -> None:
    server.models = ["whisper-large-v3", MAVERICK, SCOUT, "llama-3.3-70b-versatile"]
    server.queue(gone, ok(scores_json(GOOD)), ok(scores_json(GOOD)))
    switched: list[str] = []
    backend = make_backend(server, on_model_switched=switched.append)
    warnings: list[str] = []
    result = backend.analyze(photo, warnings)

    # QWEN_OLD is preferred over SCOUT but not listed; SCOUT is the first listed candidate.
    assert result.model == SCOUT
    assert switched == [SCOUT]
    assert warnings == [f"Vision model {QWEN} was retired; switched to {SCOUT}."]
    assert [r.path for r in server.requests] == [
        "/openai/v1/chat/completions",
        "/openai/v1/models",
        "/openai/v1/chat/completions",
    ]
    assert server.requests[2].body["model"] == SCOUT
    assert "reasoning_format" not in server.requests[2].body

    # The switch is remembered: the next analysis goes straight to the new model.
    backend.analyze(photo, [])
    models = [r.body["model"] for r in server.chat_requests()]
    assert models == [QWEN, SCOUT, SCOUT]
    assert len(server.models_requests()) == 1


def test_second_retired_model_is_skipped_too(server, photo) -> None:
    server.models = [QWEN_OLD, MAVERICK]  # the list still shows QWEN_OLD, but it is gone
    server.queue(
        fail(404, "gone", "model_not_found"),
        fail(400, "decommissioned", "model_decommissioned"),
        ok(scores_json(GOOD)),
    )
    switched: list[str] = []
    warnings: list[str] = []
    result = make_backend(server, on_model_switched=switched.append).analyze(photo, warnings)
    assert result.model == MAVERICK
    assert switched == [QWEN_OLD, MAVERICK]
    assert [r.body["model"] for r in server.chat_requests()] == [QWEN, QWEN_OLD, MAVERICK]
    assert len(warnings) == 2


def test_no_listed_candidate_fails_cleanly(server, photo) -> None:
    server.models = ["llama-3.3-70b-versatile", "whisper-large-v3"]
    server.queue(fail(404, "gone", "model_not_found"))
    switched: list[str] = []
    error, warnings = analyze_error(make_backend(server, on_model_switched=switched.append), photo)
    assert error.kind == "model_gone"
    assert QWEN in error.message and "retired" in error.message
    assert "Settings" in error.message
    assert switched == []
    assert len(server.chat_requests()) == 1  # the dead id is not retried
    assert_no_key(server, error.message, error.detail, *warnings)


def test_failing_switch_callback_does_not_lose_the_result(server, photo, caplog) -> None:
    def broken(model: str) -> None:
        raise OSError("disk full")

    server.models = [MAVERICK]
    server.queue(fail(404, "gone", "model_not_found"), ok(scores_json(GOOD)))
    with caplog.at_level(logging.ERROR):
        result = make_backend(server, on_model_switched=broken).analyze(photo, [])
    assert result.model == MAVERICK
    assert "could not remember" in caplog.text


def test_413_retries_once_with_a_smaller_image(server, big_photo) -> None:
    server.queue(fail(413, "Request Entity Too Large", "request_too_large"), ok(scores_json(GOOD)))
    result = make_backend(server).analyze(big_photo, [])
    assert result.label == "happy"
    first, second = server.chat_requests()
    (payload1, img1), (payload2, img2) = sent_image(first), sent_image(second)
    assert max(img2.size) <= max(img1.size) // 2
    assert len(payload2) < len(payload1)


def test_413_twice_is_too_large(server, photo) -> None:
    server.queue(fail(413, "Request Entity Too Large"), fail(413, "Request Entity Too Large"))
    error, _ = analyze_error(make_backend(server), photo)
    assert error.kind == "too_large"
    assert error.message == (
        "The image was too large for the vision service even after shrinking it; lower the "
        "image size sent to the cloud in Settings."
    )
    assert len(server.chat_requests()) == 2


def test_413_for_tokens_per_minute_says_so(server, photo) -> None:
    tpm = "Request too large for model on tokens per minute (TPM): Limit 6000, Requested 9000"
    server.queue(fail(413, tpm, "rate_limit_exceeded"), fail(413, tpm, "rate_limit_exceeded"))
    error, _ = analyze_error(make_backend(server), photo)
    assert error.kind == "too_large"
    assert "tokens-per-minute" in error.message


def test_429_waits_for_retry_after_then_succeeds(server, photo) -> None:
    server.queue(
        fail(429, "Rate limit reached", "rate_limit_exceeded", headers={"retry-after": "1"}),
        ok(scores_json(GOOD)),
    )
    result = make_backend(server, max_retry_wait_s=5).analyze(photo, [])
    assert result.label == "happy"
    first, second = server.chat_requests()
    assert second.at - first.at >= 0.9


def test_429_asking_for_a_long_wait_fails_at_once(server, photo) -> None:
    server.queue(
        fail(429, "Rate limit reached", "rate_limit_exceeded", headers={"retry-after": "120"})
    )
    started = time.monotonic()
    error, _ = analyze_error(make_backend(server, max_retry_wait_s=2), photo)
    assert time.monotonic() - started < 5
    assert error.kind == "rate_limit"
    assert error.message == "Groq's rate limit was reached; try again in about 120 seconds."
    assert len(server.chat_requests()) == 1


def test_429_twice_then_success_within_three_tries(server, photo) -> None:
    # The free tier often answers 429 twice in a row: the third try gets through.
    server.queue(
        fail(429, "Rate limit reached", headers={"retry-after-ms": "50"}),
        fail(429, "Rate limit reached"),  # no retry-after: backoff of 1 s
        ok(scores_json(GOOD)),
    )
    result = make_backend(server, max_retry_wait_s=5).analyze(photo, [])
    assert result.label == "happy"
    first, second, third = server.chat_requests()
    assert second.at - first.at >= 0.04 and third.at - second.at >= 0.9


def test_429_three_times_is_rate_limit_with_a_singular_second(server, photo) -> None:
    server.queue(
        *[fail(429, "Rate limit reached", headers={"retry-after-ms": "400"}) for _ in range(3)]
    )
    started = time.monotonic()
    error, _ = analyze_error(make_backend(server), photo)
    assert time.monotonic() - started < 5
    assert error.kind == "rate_limit"
    assert error.message == "Groq's rate limit was reached; try again in about 1 second."
    assert len(server.chat_requests()) == 3


def test_429_waits_stay_within_the_total_budget(server, photo) -> None:
    # 2 s asked twice with a 3 s budget: the second wait would go over, so stop there.
    server.queue(*[fail(429, "Rate limit reached", headers={"retry-after": "2"}) for _ in range(3)])
    started = time.monotonic()
    error, _ = analyze_error(make_backend(server, max_retry_wait_s=3), photo)
    assert 1.9 <= time.monotonic() - started < 4
    assert error.message == "Groq's rate limit was reached; try again in about 2 seconds."
    assert len(server.chat_requests()) == 2


def test_server_error_is_retried_once(server, photo) -> None:
    server.queue(
        fail(500, "Internal Server Error", type_="internal_server_error"), ok(scores_json(GOOD))
    )
    assert make_backend(server, max_retry_wait_s=0).analyze(photo, []).label == "happy"
    assert len(server.chat_requests()) == 2


def test_server_error_twice(server, photo) -> None:
    server.queue(fail(500, "boom"), fail(503, "Service Unavailable"))
    error, _ = analyze_error(make_backend(server, max_retry_wait_s=0), photo)
    assert error.kind == "server"
    assert error.message == "The vision service had a server error; try again in a few minutes."
    assert len(server.chat_requests()) == 2


def test_slow_answer_times_out_without_retry(server, photo) -> None:
    server.queue(Reply(content=scores_json(GOOD), delay=5))
    started = time.monotonic()
    error, _ = analyze_error(make_backend(server, timeout_s=0.5), photo)
    assert time.monotonic() - started < 4
    assert error.kind == "timeout"
    assert "0.5 s" in error.message
    assert len(server.chat_requests()) == 1


def test_dropped_connection_is_retried_once(server, photo) -> None:
    server.queue(Reply(drop=True), ok(scores_json(GOOD)))
    assert make_backend(server, max_retry_wait_s=0).analyze(photo, []).label == "happy"
    assert len(server.chat_requests()) == 2


def test_dropped_connection_twice_is_network(server, photo) -> None:
    server.queue(Reply(drop=True), Reply(drop=True))
    error, _ = analyze_error(make_backend(server, max_retry_wait_s=0), photo)
    assert error.kind == "network"
    assert error.message.startswith("Cannot reach the vision service")
    assert len(server.chat_requests()) == 2


def test_nothing_listening_is_network(photo) -> None:
    with FakeGroq() as fake:
        url = fake.base_url
    error, _ = analyze_error(
        GroqVisionBackend([QWEN], KEY, base_url=url, timeout_s=2, max_retry_wait_s=0), photo
    )
    assert error.kind == "network"


def test_unsupported_parameter_is_dropped_and_retried_once(server, photo) -> None:
    server.queue(
        fail(
            400,
            "`reasoning_format` is not supported with this model",
            None,
            extra={"param": "reasoning_format"},
        ),
        ok(scores_json(GOOD)),
        ok(scores_json(GOOD)),
    )
    backend = make_backend(server)
    assert backend.analyze(photo, []).label == "happy"
    first, second = server.chat_requests()
    assert first.body["reasoning_format"] == "hidden"
    assert "reasoning_format" not in second.body
    assert second.body["reasoning_effort"] == "none"  # only the refused field goes
    backend.analyze(photo, [])  # and it stays gone for this model
    assert "reasoning_format" not in server.chat_requests()[2].body


def test_other_bad_request_is_not_retried(server, photo) -> None:
    server.queue(fail(400, "messages: too many images", "invalid_request"))
    error, _ = analyze_error(make_backend(server), photo)
    assert error.kind == "request"
    assert "HTTP 400" in error.message
    assert len(server.chat_requests()) == 1


# --- wiring -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("suffix", "path"),
    [
        ("", "/openai/v1/chat/completions"),
        ("/openai/v1", "/openai/v1/chat/completions"),
        ("/v1", "/v1/chat/completions"),
    ],
)
def test_base_url_forms(server, photo, suffix: str, path: str) -> None:
    server.queue(ok(scores_json(GOOD)))
    make_backend(server, base_url=server.base_url + suffix).analyze(photo, [])
    assert server.requests[0].path == path


def test_groq_base_url_environment_is_used(server, photo, monkeypatch) -> None:
    monkeypatch.setenv("GROQ_BASE_URL", server.base_url)
    server.queue(ok(scores_json(GOOD)))
    result = GroqVisionBackend([MAVERICK], KEY, base_url=None, timeout_s=5).analyze(photo, [])
    assert result.model == MAVERICK
    assert len(server.requests) == 1


def test_cancel_before_request(server, photo) -> None:
    token = CancelToken()
    token.cancel()
    with pytest.raises(Cancelled):
        make_backend(server).analyze(photo, [], token)
    assert server.requests == []


def test_cancel_during_rate_limit_wait(server, photo) -> None:
    server.queue(fail(429, "Rate limit reached", headers={"retry-after": "5"}))
    token = CancelToken()

    def cancel_once_asked() -> None:
        while not server.chat_requests():
            time.sleep(0.01)
        time.sleep(0.2)
        token.cancel()

    canceller = threading.Thread(target=cancel_once_asked, daemon=True)
    canceller.start()
    started = time.monotonic()
    with pytest.raises(Cancelled):
        make_backend(server, max_retry_wait_s=10).analyze(photo, [], token)
    assert time.monotonic() - started < 3
    canceller.join(timeout=5)
    assert len(server.chat_requests()) == 1


def test_key_never_reaches_the_logs(server, photo, caplog) -> None:
    server.queue(fail(401, f"bad key {KEY}"))
    with caplog.at_level(logging.DEBUG):
        analyze_error(make_backend(server), photo)
    assert "HTTP Request: POST" in caplog.text  # the SDK's debug logging was captured
    assert KEY not in caplog.text


# --- image preparation ------------------------------------------------------------------


def test_prepare_image_meets_a_small_budget(big_photo) -> None:
    prepared = prepare_image(big_photo.pixels, 1568, max_base64_chars=60_000)
    assert prepared.base64_chars < 60_000
    _, payload = prepared.data_url.split(",", 1)
    img = Image.open(io.BytesIO(base64.b64decode(payload)))
    assert img.format == "JPEG" and img.mode == "RGB"
    assert (img.width, img.height) == (prepared.width, prepared.height)


def test_prepare_image_default_budget_and_pixel_cap(monkeypatch) -> None:
    monkeypatch.setattr(vlm_image, "MAX_PIXELS", 10_000)
    img = Image.new("RGBA", (400, 300), (10, 200, 30, 128))
    prepared = prepare_image(img, 8192)
    assert prepared.width * prepared.height < 10_000
    assert prepared.base64_chars < MAX_BASE64_CHARS


def test_prepare_image_never_upscales() -> None:
    prepared = prepare_image(Image.new("RGB", (120, 80)), 1568)
    assert (prepared.width, prepared.height) == (120, 80)


def test_answer_json_is_what_the_model_said(server, photo) -> None:
    """The request body is valid JSON with one user message holding text then image."""
    server.queue(ok(scores_json(GOOD)))
    make_backend(server).analyze(photo, [])
    body = json.loads(server.requests[0].raw)
    (message,) = body["messages"]
    assert message["role"] == "user"
    assert [part["type"] for part in message["content"]] == ["text", "image_url"]


@pytest.mark.parametrize(
    "reply",
    [
        Reply(200, body={}),
        Reply(200, body={"choices": []}),
        Reply(200, body=[1, 2]),
        Reply(200, body={"choices": "x"}),
        Reply(200, body={"choices": [{"message": {}}]}),
    ],
    ids=["empty-object", "no-choices", "list", "choices-not-list", "no-content"],
)
def test_odd_reply_shapes_are_unusable(server, photo, reply: Reply) -> None:
    server.queue(reply)
    error, _ = analyze_error(make_backend(server), photo)
    assert error.kind == "unusable_answer"


def test_reply_that_is_not_json_is_bad_response(server, photo) -> None:
    server.queue(Reply(200, body="<html>Sign in to the hotel wifi</html>"))
    error, _ = analyze_error(make_backend(server), photo)
    assert error.kind == "bad_response"
    assert "base URL" in error.message


def test_model_list_that_is_not_usable(server, photo) -> None:
    server.queue(fail(404, "gone", "model_not_found"))
    server.models_replies.append(Reply(200, body={"data": "nothing"}))
    error, _ = analyze_error(make_backend(server), photo)
    assert error.kind == "model_gone"


def test_model_list_refused(server, photo) -> None:
    server.queue(fail(404, "gone", "model_not_found"))
    server.models_replies.append(fail(401, "Invalid API Key", "invalid_api_key"))
    error, _ = analyze_error(make_backend(server), photo)
    assert error.kind == "auth"


def test_unsupported_parameter_without_a_name_drops_all_optional_fields(server, photo) -> None:
    server.queue(fail(400, "Unsupported parameter in request."), ok(scores_json(GOOD)))
    assert make_backend(server).analyze(photo, []).label == "happy"
    second = server.chat_requests()[1].body
    assert set(second) == {"model", "messages"}


def test_unsupported_parameter_twice_is_not_retried_again(server, photo) -> None:
    refused = fail(
        400, "'temperature' is not supported with this model.", extra={"param": "temperature"}
    )
    server.queue(refused, fail(400, "'temperature' is not supported with this model."))
    error, _ = analyze_error(make_backend(server), photo)
    assert error.kind == "request"
    assert "temperature" not in server.chat_requests()[1].body
    assert len(server.chat_requests()) == 2
