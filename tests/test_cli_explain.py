"""``vsa analyze --explain`` and ``vsa batch --explain`` through the real entry point."""

from __future__ import annotations

import csv
import json
from pathlib import Path

from tests.cli_runner import run_vsa
from vsa_desktop.core.explain.highlight import FULL_WEIGHT

LITE = ("--text-model", "builtin:lite", "--no-history")


def _why(stderr: str) -> str:
    lines = [line for line in stderr.splitlines() if line.startswith("why: ")]
    assert len(lines) == 1, stderr
    return lines[0]


def test_analyze_explain_names_the_words_of_its_label(vsa_home: Path) -> None:
    p = run_vsa(vsa_home, "analyze", "--text", "I hate this, it is disgusting", "--explain", *LITE)
    assert p.returncode == 0, p.stderr
    doc = json.loads(p.stdout)  # stdout stays one JSON document
    explanation = doc["text"]["explanation"]
    assert explanation["label"] == doc["text"]["label"]
    top = sorted(explanation["spans"], key=lambda s: s["weight"], reverse=True)[:3]
    assert {"hate", "disgusting"} & {s["text"] for s in top}
    why = _why(p.stderr)
    assert why.startswith(f"why: {doc['text']['label']}: ") and why.endswith(
        "(weights in log-odds)"
    )
    assert '"disgusting"' in why or '"hate"' in why


def test_a_neutral_sentence_has_no_heavy_word(vsa_home: Path) -> None:
    p = run_vsa(
        vsa_home,
        "analyze",
        "--text",
        "The train leaves at noon from platform 4.",
        "--explain",
        *LITE,
    )
    assert p.returncode == 0, p.stderr
    explanation = json.loads(p.stdout)["text"]["explanation"]
    assert explanation["unit"] == "logit" and explanation["spans"]
    # A third of the weight a word needs to be painted in full (odds x 2.7 at most).
    heaviest = max(abs(s["weight"]) for s in explanation["spans"])
    assert heaviest < FULL_WEIGHT["logit"] / 3


def test_without_explain_nothing_is_explained(vsa_home: Path) -> None:
    p = run_vsa(vsa_home, "analyze", "--text", "I hate this", *LITE)
    assert p.returncode == 0, p.stderr
    assert "explanation" not in json.loads(p.stdout)["text"]
    assert "why: " not in p.stderr


def test_top_words_are_escaped_for_the_terminal(vsa_home: Path) -> None:
    text = "I hate\u202e this \x1b]0;PWNED\x07 disgusting"
    p = run_vsa(vsa_home, "analyze", "--text", text, "--explain", *LITE)
    assert p.returncode == 0, p.stderr
    assert "\x1b" not in p.stderr and "\u202e" not in p.stderr and "\x07" not in p.stderr
    assert "disgusting" in _why(p.stderr)


def test_batch_explain_fills_the_top_words_column(vsa_home: Path, tmp_path: Path) -> None:
    source = tmp_path / "in.csv"
    source.write_text(
        'text\n"I hate this, it is disgusting"\nWhat a wonderful happy day\n', encoding="utf-8"
    )
    out_csv, out_jsonl = tmp_path / "out.csv", tmp_path / "out.jsonl"
    p = run_vsa(
        vsa_home,
        "batch",
        str(source),
        "--csv",
        str(out_csv),
        "--jsonl",
        str(out_jsonl),
        "--explain",
        *LITE,
    )
    assert p.returncode == 0, p.stderr
    with out_csv.open(encoding="utf-8-sig", newline="") as f:
        rows = list(csv.DictReader(f))
    assert len(rows) == 2
    assert "disgusting" in rows[0]["text_top_words"]
    assert "wonderful" in rows[1]["text_top_words"] or "happy" in rows[1]["text_top_words"]
    docs = [json.loads(line) for line in out_jsonl.read_text(encoding="utf-8").splitlines()]
    assert all(d["text"]["explanation"]["spans"] for d in docs)


def test_batch_without_explain_leaves_the_column_empty(vsa_home: Path, tmp_path: Path) -> None:
    source = tmp_path / "in.csv"
    source.write_text("text\nI hate this\n", encoding="utf-8")
    out_csv = tmp_path / "out.csv"
    p = run_vsa(vsa_home, "batch", str(source), "--csv", str(out_csv), *LITE)
    assert p.returncode == 0, p.stderr
    with out_csv.open(encoding="utf-8-sig", newline="") as f:
        (row,) = list(csv.DictReader(f))
    assert row["text_top_words"] == ""


def test_explain_on_an_image_alone_says_there_is_no_text(vsa_home: Path) -> None:
    image = str(Path(__file__).parent / "data" / "astronaut.png")
    p = run_vsa(vsa_home, "analyze", "--image", image, "--vision", "local", "--explain")
    assert p.returncode == 0, p.stderr
    assert "--explain explains the words of a text; this input has none." in p.stderr
