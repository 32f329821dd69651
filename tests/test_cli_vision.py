"""`vsa analyze` with an image: the local face model, and Groq through a stand-in server."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.cli_runner import run_vsa
from tests.conftest import DATA
from tests.fake_groq import FakeGroq, fail, ok, scores_json

ASTRONAUT = DATA / "astronaut.png"
KEY = "gsk_test_secret_key_123456"


vsa = run_vsa


def test_local_offline_multimodal(vsa_home: Path, tiny_model_dir: Path) -> None:
    p = vsa(
        vsa_home,
        "analyze",
        "--text",
        "What a day!",
        "--image",
        str(ASTRONAUT),
        "--vision",
        "local",
        "--offline",
        "--text-model",
        str(tiny_model_dir),
    )
    assert p.returncode == 0, p.stderr
    d = json.loads(p.stdout)
    assert d["mode"] == "multimodal"
    assert d["vision"]["backend"] == "local" and len(d["vision"]["faces"]) == 1
    assert d["vision"]["label"] == "happy"
    assert d["fusion"]["agreement"]["level"] in ("consistent", "mixed", "divergent")
    assert d["input"]["image"]["width"] == 512 and len(d["input"]["image"]["sha256"]) == 64


def analyze_with_groq(home: Path, model: Path, server: FakeGroq):
    """`vsa analyze` of a text and the smiling photo through the stand-in Groq server."""
    return vsa(
        home,
        "analyze",
        "--text",
        "We won!",
        "--image",
        str(ASTRONAUT),
        "--vision",
        "groq",
        "--text-model",
        str(model),
        GROQ_BASE_URL=server.base_url,
        GROQ_API_KEY=KEY,
    )


@pytest.fixture
def groq_server():
    with FakeGroq() as server:
        yield server


def test_groq_returns_cloud_scores_and_description(
    vsa_home: Path, tiny_model_dir: Path, groq_server: FakeGroq
) -> None:
    groq_server.queue(
        ok(
            scores_json(
                {"joy": 0.7, "surprise": 0.2, "neutral": 0.1}, "A broad smile and raised cheeks."
            )
        )
    )
    p = analyze_with_groq(vsa_home, tiny_model_dir, groq_server)
    assert p.returncode == 0, p.stderr
    d = json.loads(p.stdout)
    assert d["mode"] == "multimodal" and d["vision"]["backend"] == "groq"
    assert d["vision"]["model"] == "qwen/qwen3.8-27b"
    assert d["vision"]["scores"]["happy"] == pytest.approx(0.7)
    assert d["vision"]["description"] == "A broad smile and raised cheeks."
    sent = groq_server.chat_requests()[0]
    assert sent.body["model"] == "qwen/qwen3.8-27b"
    assert KEY not in json.dumps(sent.body) and KEY not in p.stdout + p.stderr
    history = (vsa_home / "data" / "history.sqlite3").read_bytes()
    assert KEY.encode() not in history


def test_groq_failure_keeps_the_text_result(
    vsa_home: Path, tiny_model_dir: Path, groq_server: FakeGroq
) -> None:
    groq_server.queue(fail(401, "Invalid API Key", "invalid_api_key"))
    p = analyze_with_groq(vsa_home, tiny_model_dir, groq_server)
    assert p.returncode == 0, p.stderr
    d = json.loads(p.stdout)
    assert d["mode"] == "text-only" and d["vision"] is None and d["text"] is not None
    assert d["vision_error"]["kind"] == "auth"
    assert any("rejected" in w for w in d["warnings"])
    assert KEY not in p.stdout + p.stderr


def test_retired_model_switch_is_remembered_in_settings(
    vsa_home: Path, tiny_model_dir: Path, groq_server: FakeGroq
) -> None:
    groq_server.models = ["meta-llama/llama-4-maverick-17b-128e-instruct"]
    groq_server.queue(
        fail(404, "The model `qwen/qwen3.8-27b` does not exist", "model_not_found"),
        ok(scores_json({"happy": 1.0})),
    )
    p = analyze_with_groq(vsa_home, tiny_model_dir, groq_server)
    assert p.returncode == 0, p.stderr
    d = json.loads(p.stdout)
    assert d["vision"]["model"] == "meta-llama/llama-4-maverick-17b-128e-instruct"
    assert any("switched" in w for w in d["warnings"])
    settings = json.loads((vsa_home / "config" / "settings.json").read_text())
    assert settings["vision_models"][0] == "meta-llama/llama-4-maverick-17b-128e-instruct"
    assert KEY not in json.dumps(settings)
