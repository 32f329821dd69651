"""`vsa analyze` into history, `vsa history ...` and `vsa export ...` in subprocesses."""

from __future__ import annotations

import csv
import json
import os
from pathlib import Path

import pytest

from tests.cli_runner import run_vsa
from vsa_desktop.core.verdict import percent


@pytest.fixture
def vsa(vsa_home: Path):
    return lambda *args: run_vsa(vsa_home, *args)


def test_analyze_twice_list_show_export_delete(vsa, tiny_model_dir: Path, tmp_path: Path) -> None:
    ids, shown_conf = [], []
    for text in ("I can't believe we won!", "I miss her so much"):
        p = vsa("analyze", "--text", text, "--text-model", str(tiny_model_dir))
        assert p.returncode == 0, p.stderr
        ids.append(json.loads(p.stdout)["id"])
        shown_conf.append(percent(json.loads(p.stdout)["fusion"]["confidence"]))
    listing = vsa("history", "list")
    assert listing.returncode == 0
    for row_id, conf in zip(ids, shown_conf, strict=True):  # the one number, in the table too
        row = next(line for line in listing.stdout.splitlines() if line.startswith(row_id[:8]))
        assert f"  {conf}  " in row
    assert ids[0][:8] in listing.stdout and ids[1][:8] in listing.stdout
    assert listing.stdout.index(ids[1][:8]) < listing.stdout.index(ids[0][:8])  # newest first
    shown = json.loads(vsa("history", "show", ids[0][:8]).stdout)
    assert shown["id"] == ids[0] and shown["input"]["text"] == "I can't believe we won!"
    found = vsa("history", "search", "--text", "miss her", "--json")
    assert [json.loads(x)["id"] for x in found.stdout.splitlines()] == [ids[1]]

    signatures = {".png": b"\x89PNG", ".svg": b"<?xml", ".pdf": b"%PDF"}
    for suffix in (".json", ".csv", ".png", ".svg", ".pdf"):
        out = tmp_path / f"r{suffix}"
        p = vsa("export", ids[0], "--out", str(out))
        assert p.returncode == 0, p.stderr
        data = out.read_bytes()
        if suffix == ".json":
            assert json.loads(data)["id"] == ids[0]
        elif suffix == ".csv":
            rows = list(csv.DictReader(data.decode("utf-8-sig").splitlines()))
            assert rows[0]["id"] == ids[0] and float(rows[0]["text_happy"]) == pytest.approx(
                shown["text"]["scores"]["happy"]
            )
        else:
            assert data.startswith(signatures[suffix]) and len(data) > 5_000
    both = tmp_path / "both.json"
    assert vsa("export", ids[0], ids[1], "--out", str(both)).returncode == 0
    assert [d["id"] for d in json.loads(both.read_text())] == ids
    again = vsa("export", ids[0], "--out", str(tmp_path / "r.json"))
    assert again.returncode != 0 and "already exists" in again.stderr

    assert vsa("history", "delete", ids[0]).returncode == 0
    missing = vsa("history", "show", ids[0])
    assert missing.returncode != 0 and "No result in history" in missing.stderr
    assert vsa("history", "clear", "--yes").returncode == 0
    assert "No results." in vsa("history", "list").stdout


def test_no_history_and_chart_option(vsa, tiny_model_dir: Path, tmp_path: Path) -> None:
    chart = tmp_path / "c.svg"
    p = vsa(
        "analyze",
        "--text",
        "hello",
        "--text-model",
        str(tiny_model_dir),
        "--no-history",
        "--chart",
        str(chart),
    )
    assert p.returncode == 0, p.stderr
    assert chart.read_bytes().startswith(b"<?xml")
    assert "No results." in vsa("history", "list").stdout


def test_garbage_history_file_is_moved_aside(vsa, vsa_home: Path, tiny_model_dir: Path) -> None:
    db = vsa_home / "data" / "history.sqlite3"
    db.parent.mkdir(parents=True)
    db.write_bytes(os.urandom(4096))
    p = vsa("analyze", "--text", "hello", "--text-model", str(tiny_model_dir))
    assert p.returncode == 0, p.stderr
    # One note, no logger line: the CLI says it once, in its own words.
    assert p.stderr.startswith("note: The history file was damaged; it was kept as ")
    assert len(p.stderr.splitlines()) == 1
    assert list(db.parent.glob("history.sqlite3.corrupt-*"))
    assert "hello" in vsa("history", "list").stdout
