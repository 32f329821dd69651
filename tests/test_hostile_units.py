"""The small parts behind the hostile-input fixes: text files, terminal output, log scrubbing,
settings notes and a credential in the cloud URL."""

from __future__ import annotations

import json
import logging
import os
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.fake_groq import FakeGroq
from vsa_desktop.core import logsafety
from vsa_desktop.core.errors import InputError, VisionError
from vsa_desktop.core.imaging import load_image
from vsa_desktop.core.settings import Settings, load_settings, settings_path
from vsa_desktop.core.terminal import safe
from vsa_desktop.core.textfile import MAX_TEXT_BYTES, read_text_file

KEY = "gsk_unit_secret_abcdefgh"


def test_safe_shows_controls_and_keeps_text() -> None:
    assert safe("a\x1b]0;PWNED\x07b") == "a\\x1b]0;PWNED\\x07b"
    assert safe("csi \x9b2J, rlo \u202eabc\u202c") == "csi \\x9b2J, rlo \\u202eabc\\u202c"
    assert safe("line\nnext\ttab") == "line\nnext\ttab"
    assert safe("line\nnext\ttab", one_line=True) == "line\\x0anext\\x09tab"
    assert safe("שלום, 今天, Grüße 😀") == "שלום, 今天, Grüße 😀"  # RTL letters are text


def test_scrub_and_credentials_in_urls() -> None:
    line = f"POST https://user:{KEY}@api.example/v1 Authorization: Basic dXNlcjpwYXNzd29yZA=="
    assert logsafety.scrub(line) == (
        "POST https://[hidden]@api.example/v1 Authorization: Basic [hidden]"
    )
    assert logsafety.scrub("a basic token count of 3") == "a basic token count of 3"
    assert logsafety.has_credentials("http://user:pw@host") is True
    assert logsafety.has_credentials("http://token@host/v1") is True
    assert logsafety.has_credentials("https://api.groq.com") is False
    assert logsafety.has_credentials("") is False


@pytest.fixture
def scrubbing() -> Iterator[None]:
    """``logsafety.install()`` for one test; the previous record factory comes back after."""
    previous = logging.getLogRecordFactory()
    logsafety.install()
    logsafety.install()  # twice is harmless
    yield
    logging.setLogRecordFactory(previous)
    logsafety._installed = False


def test_records_of_child_loggers_are_scrubbed(
    scrubbing: None, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.DEBUG):
        logging.getLogger("httpx").info("HTTP Request: GET %s", f"http://u:{KEY}@h/x")
        try:
            raise ValueError(f"bad url http://u:{KEY}@h")
        except ValueError:
            logging.getLogger("a.b.c").exception("failed")
    assert KEY not in caplog.text and "http://[hidden]@h/x" in caplog.text
    assert "ValueError: bad url http://[hidden]@h" in caplog.text


def test_text_file_checks_happen_before_reading(tmp_path: Path) -> None:
    big = tmp_path / "big.txt"
    with big.open("wb") as f:
        f.truncate(50 * 2**30)
    started = time.monotonic()
    with pytest.raises(InputError, match=r"50\.0 GB, more than a text of 1,000,000"):
        read_text_file(big)
    assert time.monotonic() - started < 1
    fifo = tmp_path / "f.txt"
    os.mkfifo(fifo)
    outcome: list[BaseException] = []

    def read_fifo() -> None:
        try:
            read_text_file(fifo)
        except InputError as exc:
            outcome.append(exc)

    worker = threading.Thread(target=read_fifo, daemon=True)
    worker.start()
    worker.join(timeout=5)
    assert outcome and "is a FIFO" in str(outcome[0]), "reading a FIFO blocked"
    just_fits = tmp_path / "fits.txt"
    just_fits.write_bytes("😀".encode() * 1_000_000)  # 4,000,000 bytes, 1,000,000 characters
    assert just_fits.stat().st_size <= MAX_TEXT_BYTES
    assert len(read_text_file(just_fits).text) == 1_000_000


def test_text_file_encoding_notes(tmp_path: Path) -> None:
    gbk = tmp_path / "g.txt"
    gbk.write_bytes("开心".encode("gbk"))
    decoded = read_text_file(gbk)
    assert decoded.text == "开心" and decoded.encoding == "gb18030"
    assert decoded.note("g.txt") == "g.txt is not UTF-8; it was read as GB18030."
    plain = tmp_path / "p.txt"
    plain.write_text("plain", encoding="utf-8")
    assert read_text_file(plain).note("p.txt") is None


def test_settings_problems_are_sentences_not_log_lines(
    caplog: pytest.LogCaptureFixture,
) -> None:
    path = settings_path()
    path.parent.mkdir(parents=True)
    path.write_text(json.dumps({"fusion_text_weight": "x", "groq_base_url": f"http://u:{KEY}@h"}))
    problems: list[str] = []
    with caplog.at_level(logging.WARNING):
        settings = load_settings(problems=problems)
    assert settings.groq_base_url == "" and settings.fusion_text_weight == 0.5
    assert problems == [
        f"The settings file {path} has unusable values for groq_base_url, fusion_text_weight; "
        "their defaults apply."
    ] or problems == [
        f"The settings file {path} has unusable values for fusion_text_weight, groq_base_url; "
        "their defaults apply."
    ]
    assert caplog.records == []
    assert Settings(groq_base_url=f"http://u:{KEY}@h").validate() == [
        "The base URL must not hold a user name or password; the API key goes in "
        "GROQ_API_KEY or Settings."
    ]


def test_groq_backend_refuses_a_credential_in_the_base_url() -> None:
    from tests.conftest import DATA
    from vsa_desktop.core.vision.groq_backend import GroqVisionBackend

    image = load_image(DATA / "astronaut.png")
    with FakeGroq() as server:
        url = server.base_url.replace("http://", f"http://user:{KEY}@")
        backend = GroqVisionBackend(["qwen/qwen3.8-27b"], KEY, base_url=url)
        with pytest.raises(VisionError) as info:
            backend.analyze(image, [])
        assert server.requests == []  # refused before anything was sent
    assert info.value.message.startswith("The base URL must not hold a user name or password")
    assert KEY not in info.value.message + info.value.detail
