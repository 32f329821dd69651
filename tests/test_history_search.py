"""History search through the trigram index: same answers as the scan, kept by triggers."""

from __future__ import annotations

import dataclasses
import sqlite3
from pathlib import Path

import pytest

from tests.helpers_results import make_result
from vsa_desktop.core import history
from vsa_desktop.core.history import HistoryStore

TEXTS = [
    "Straße in MÜNCHEN",
    "rainy day at the Beach",
    'She said "fine", then left',
    "I am SO happy, happy, happy",
    "50% off — what a deal!",
    "",
]
QUERIES = ["münchen", "STRASSE", "beach", '"fine"', "happy, ha", "50%", "ppy", "ab", "a", "zzz"]


def fill(store: HistoryStore) -> list[str]:
    ids = []
    for i, text in enumerate(TEXTS):
        image = f"photo-{i}.JPG" if i % 2 else None
        vision = {"happy": 1} if image else None
        result = make_result(
            {"happy": 1 + i, "sad": 1}, vision, text=text or None, image_name=image
        )
        store.add(result)
        ids.append(result.id)
    return ids


def scanned(store: HistoryStore, query: str) -> list[str]:
    store._fts = False  # the scan the index replaces
    try:
        return [e.id for e in store.search(query, limit=100)]
    finally:
        store._fts = True


def test_index_answers_like_the_scan(tmp_path: Path):
    with HistoryStore(tmp_path / "h.sqlite3") as store:
        fill(store)
        for query in QUERIES:
            found = [e.id for e in store.search(query, limit=100)]
            assert found == scanned(store, query), query
            assert store.count_matching(query) == len(found)
        assert len(store.search("photo-", limit=100)) == 3  # image names are indexed too


def test_search_reads_the_index_not_every_row(tmp_path: Path):
    with HistoryStore(tmp_path / "h.sqlite3") as store:
        fill(store)
        where, params = history._filters("beach", None, None, None, fts=True)
        with store._cursor() as conn:
            plan = " ".join(
                str(r[-1])
                for r in conn.execute(f"EXPLAIN QUERY PLAN SELECT id FROM analyses {where}", params)
            )
        assert "analyses_fts" in plan and "VIRTUAL TABLE" in plan


def test_adding_writes_no_index_the_next_search_indexes_and_scans_the_rest(tmp_path: Path):
    with HistoryStore(tmp_path / "h.sqlite3") as store:
        ids = fill(store)

        def indexed() -> int:
            with store._cursor() as conn:
                return int(conn.execute("SELECT COUNT(*) FROM analyses_fts").fetchone()[0])

        assert indexed() == 0  # adding a result costs no index writes (small, full disks)
        assert [e.id for e in store.search("beach")] == [ids[1]]
        assert indexed() == len(TEXTS)
        late = make_result({"sad": 1}, text="another beach day")
        store.add(late)
        store.read_only_reason = "pretend the disk is read-only"
        try:
            found = [e.id for e in store.search("beach")]  # not indexed: found by the scan
        finally:
            store.read_only_reason = None
        assert found == [late.id, ids[1]] and indexed() == len(TEXTS)


def test_replaced_and_deleted_rows_leave_the_index(tmp_path: Path):
    with HistoryStore(tmp_path / "h.sqlite3") as store:
        ids = fill(store)
        assert store.search("rainy")  # indexes every row
        old = store.get(ids[1])
        store.add(dataclasses.replace(old, text_input="sunny afternoon"))  # same id, new text
        assert [e.id for e in store.search("sunny")] == [ids[1]]
        assert store.search("rainy") == []
        assert store.search("münchen")
        store.delete(ids[0])
        assert store.search("münchen") == []
        store.clear()
        with store._cursor() as conn:
            assert conn.execute("SELECT COUNT(*) FROM analyses_fts").fetchone()[0] == 0


def test_an_older_history_gets_its_rows_indexed(tmp_path: Path):
    path = tmp_path / "old.sqlite3"
    conn = sqlite3.connect(path, isolation_level=None)
    conn.create_function("vsa_fold", 1, history._fold, deterministic=True)
    history._migrate_v1(conn)
    history._migrate_v2(conn)
    conn.execute("PRAGMA user_version = 2")
    result = make_result({"sad": 2}, text="An old entry from last spring")
    conn.execute(
        "INSERT INTO analyses (id, created_at, mode, text_label, vision_label, fused_label, "
        "fused_confidence, agreement_score, agreement_level, text_excerpt, image_sha256, "
        "image_name, thumbnail, result_json) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        history._row(result, None),
    )
    conn.close()
    with HistoryStore(path) as store:
        assert store._fts
        assert [e.id for e in store.search("last spring")] == [result.id]
        with store._cursor() as conn:
            assert conn.execute("SELECT rowid FROM analyses_fts").fetchall() != []


@pytest.mark.parametrize("query", ["x", "AX"])
def test_short_queries_still_find_substrings(tmp_path: Path, query: str):
    with HistoryStore(tmp_path / "h.sqlite3") as store:
        result = make_result({"happy": 1}, text="relaxing")
        store.add(result)
        assert [e.id for e in store.search(query)] == [result.id]
