"""Tests of the SQLite history store: round trip, paging, search, threads, damage, crashes."""

from __future__ import annotations

import io
import logging
import os
import signal
import sqlite3
import subprocess
import sys
import textwrap
import threading
import time
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from PIL import Image

from tests.helpers_results import make_result
from vsa_desktop.core import history
from vsa_desktop.core.errors import HistoryError, InputError
from vsa_desktop.core.history import SCHEMA_VERSION, HistoryStore

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def store(tmp_path: Path) -> HistoryStore:
    s = HistoryStore(tmp_path / "h.sqlite3")
    yield s
    s.close()


def stamp(day: int, hour: int = 12, minute: int = 0) -> str:
    return f"2026-03-{day:02d}T{hour:02d}:{minute:02d}:00Z"


def test_default_path_follows_vsa_home(vsa_home: Path) -> None:  # conftest sets VSA_HOME
    with HistoryStore() as s:
        assert s.path == vsa_home / "data" / "history.sqlite3"
        assert s.path.is_file()
        assert s.recovered_from is None


def test_add_get_round_trip_and_columns(store: HistoryStore) -> None:
    r = make_result({"happy": 3, "sad": 1}, {"sad": 2, "fear": 1}, text="Ça va? " * 60)
    assert store.add(r) == r.id
    assert store.get(r.id) == r
    (entry,) = store.list()
    assert entry.id == r.id
    assert entry.mode == "multimodal"
    assert (entry.text_label, entry.vision_label) == ("happy", "sad")
    assert entry.fused_label == r.fusion.label
    assert entry.agreement_score == pytest.approx(r.fusion.agreement.score)
    assert entry.agreement_level == r.fusion.agreement.level
    assert entry.excerpt == r.text_input[:200]
    assert entry.image_name == "photo.jpg"
    assert entry.has_thumbnail is False


def test_single_channel_entry_has_no_agreement(store: HistoryStore) -> None:
    r = make_result(None, {"angry": 1, "neutral": 1})
    store.add(r)
    (entry,) = store.list()
    assert entry.text_label is None and entry.vision_label == "angry"
    assert entry.agreement_score is None and entry.agreement_level is None
    assert store.get(r.id).fusion.single_channel == "vision"


def test_thumbnail_small_jpeg_and_opt_out(store: HistoryStore) -> None:
    image = Image.new("RGB", (1000, 400), (200, 30, 30))
    a, b = make_result({"happy": 1}, {"happy": 1}), make_result({"sad": 1}, {"sad": 1})
    store.add(a, thumbnail_source=image)
    store.add(b, thumbnail_source=image, keep_thumbnail=False)
    data = store.thumbnail(a.id)
    assert data is not None and data[:3] == b"\xff\xd8\xff"
    with Image.open(io.BytesIO(data)) as thumb:
        assert max(thumb.size) == 128 and thumb.size == (128, 51)
    assert store.thumbnail(b.id) is None
    assert store.thumbnail("no-such-id") is None
    flags = {e.id: e.has_thumbnail for e in store.list()}
    assert flags == {a.id: True, b.id: False}


def test_get_missing_id_is_a_clear_error(store: HistoryStore) -> None:
    with pytest.raises(HistoryError, match="no analysis with id nope"):
        store.get("nope")


def test_paging_newest_first(store: HistoryStore) -> None:
    results = [make_result({"happy": 1 + i}, created_at=stamp(1 + i % 20)) for i in range(25)]
    for r in results:
        store.add(r)
    expected = [r.id for r in sorted(results, key=lambda r: r.created_at, reverse=True)]
    pages = [store.list(limit=10, offset=o) for o in (0, 10, 20)]
    assert [len(p) for p in pages] == [10, 10, 5]
    got = [e.id for page in pages for e in page]
    assert sorted(got) == sorted(expected)
    times = [e.created_at for page in pages for e in page]
    assert times == sorted(times, reverse=True)
    assert store.count() == 25
    assert store.list(limit=10, offset=30) == []


def test_same_second_keeps_insertion_order_newest_first(store: HistoryStore) -> None:
    same = [make_result({"happy": 1}, created_at=stamp(5)) for _ in range(5)]
    for r in same:
        store.add(r)
    assert [e.id for e in store.list()] == [r.id for r in reversed(same)]


def test_search_by_text_label_and_time(store: HistoryStore) -> None:
    a = make_result({"happy": 5, "sad": 1}, text="Straße in MÜNCHEN", created_at=stamp(1))
    b = make_result(
        {"sad": 3}, {"angry": 2}, text="rainy day", image_name="Beach.JPG", created_at=stamp(10)
    )
    c = make_result(None, {"fear": 3}, image_name="dark.png", created_at=stamp(20, 23, 59))
    for r in (a, b, c):
        store.add(r)

    def ids(**kw: object) -> set[str]:
        return {e.id for e in store.search(**kw)}

    assert ids(text_contains="münchen") == {a.id}  # Unicode case-insensitive
    assert ids(text_contains="STRASSE") == {a.id}  # casefold: ß matches ss
    assert ids(text_contains="beach") == {b.id}  # image name too
    assert ids(label="angry") == {b.id}  # the vision channel's label counts
    assert ids(label="joy") == {a.id}  # aliases are accepted
    assert ids(label="fear") == {c.id}
    assert ids(since="2026-03-10T12:00:00Z") == {b.id, c.id}  # inclusive
    assert ids(until=datetime(2026, 3, 10, 12, tzinfo=UTC)) == {a.id}  # exclusive
    assert ids(since=date(2026, 3, 2), until=date(2026, 3, 21)) == {b.id, c.id}
    assert ids(label="sad", text_contains="rain") == {b.id}
    assert store.count_matching(since=date(2026, 3, 2)) == 2
    assert [e.id for e in store.search(limit=1, offset=1)] == [b.id]


def test_search_rejects_bad_filters(store: HistoryStore) -> None:
    with pytest.raises(InputError, match="not an emotion"):
        store.search(label="hungry")
    with pytest.raises(InputError, match="not a date"):
        store.search(since="last tuesday")
    with pytest.raises(InputError, match="negative"):
        store.list(limit=-1)


def test_times_with_offsets_are_normalised(store: HistoryStore) -> None:
    r = make_result({"happy": 1}, created_at="2026-03-05T23:30:00+02:00")
    store.add(r)
    assert store.list()[0].created_at == "2026-03-05T21:30:00Z"
    assert store.get(r.id).created_at == r.created_at  # the JSON keeps what the result said
    assert len(store.search(since="2026-03-05T21:30:00Z")) == 1
    assert len(store.search(since="2026-03-05T21:30:01Z")) == 0


def test_delete_clear_and_replace(store: HistoryStore) -> None:
    rs = [make_result({"happy": 1}) for _ in range(3)]
    for r in rs:
        store.add(r)
    assert store.delete(rs[0].id) is True
    assert store.delete(rs[0].id) is False
    store.add(rs[1])  # same id again replaces, never duplicates
    assert store.count() == 2
    assert store.clear() == 2
    assert store.count() == 0 and store.list() == []


def test_closed_store_says_so(tmp_path: Path) -> None:
    s = HistoryStore(tmp_path / "h.sqlite3")
    s.close()
    s.close()
    with pytest.raises(HistoryError, match="closed"):
        s.count()


def test_threads_write_while_others_read(store: HistoryStore) -> None:
    errors: list[BaseException] = []
    seen_counts: list[list[int]] = [[], []]
    done = threading.Event()
    writers, per_writer = 3, 60

    def write() -> None:
        try:
            for i in range(per_writer):
                store.add(make_result({"happy": 1 + i, "sad": 1}, {"sad": 1}))
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    def read(slot: int) -> None:
        try:
            while not done.is_set():
                seen_counts[slot].append(store.count())
                for entry in store.list(limit=20):
                    assert entry.fused_label
                store.search(label="sad", limit=5)
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    readers = [threading.Thread(target=read, args=(i,)) for i in range(2)]
    threads = [threading.Thread(target=write) for _ in range(writers)]
    for t in readers + threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    done.set()
    for t in readers:
        t.join(timeout=60)
    assert errors == []
    assert store.count() == writers * per_writer
    for counts in seen_counts:
        assert counts, "a reader never ran"
        assert counts == sorted(counts)  # readers never see rows vanish


def test_second_store_on_same_file_sees_rows(tmp_path: Path) -> None:
    path = tmp_path / "h.sqlite3"
    with HistoryStore(path) as a, HistoryStore(path) as b:
        r = make_result({"surprise": 1})
        a.add(r)
        assert b.get(r.id) == r


def test_garbage_file_is_moved_aside(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    path = tmp_path / "history.sqlite3"
    garbage = os.urandom(8192)
    path.write_bytes(garbage)
    Path(f"{path}-wal").write_bytes(b"junk wal")
    other = tmp_path / "keep-me.txt"
    other.write_text("unrelated")
    with caplog.at_level(logging.WARNING, logger="vsa_desktop.core.history"):
        s = HistoryStore(path)
    try:
        assert s.recovered_from is not None
        assert s.recovered_from.name.startswith("history.sqlite3.corrupt-")
        assert s.recovered_from.read_bytes() == garbage
        assert Path(f"{s.recovered_from}-wal").read_bytes() == b"junk wal"
        assert s.recovered_from.name in (s.recovery_message or "")
        assert "damaged" in caplog.text
        assert other.read_text() == "unrelated"
        assert s.count() == 0
        s.add(make_result({"happy": 1}))
        assert s.count() == 1
    finally:
        s.close()
    with HistoryStore(path) as again:  # the fresh file opens cleanly next time
        assert again.recovered_from is None and again.count() == 1


def test_damaged_pages_are_detected(tmp_path: Path) -> None:
    path = tmp_path / "h.sqlite3"
    with HistoryStore(path) as s:
        for i in range(200):
            s.add(make_result({"happy": 1 + i, "fear": 2}, text="x" * 500))
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.close()
    data = bytearray(path.read_bytes())
    assert len(data) > 8 * 4096
    data[4096 * 3 : 4096 * 6] = os.urandom(4096 * 3)  # keep the header, wreck some pages
    path.write_bytes(bytes(data))
    with HistoryStore(path) as s:
        assert s.recovered_from is not None
        # Rows on intact pages are rescued; the damaged original is kept as it was.
        assert s.recovered_from.read_bytes() == bytes(data)
        assert 0 < s.count() <= 200 and s.rows_rescued == s.count()
        assert f"{s.count():,} result" in (s.recovery_message or "")


def test_empty_file_is_migrated_from_v0(tmp_path: Path) -> None:
    path = tmp_path / "h.sqlite3"
    path.write_bytes(b"")
    with HistoryStore(path) as s:
        assert s.recovered_from is None
        s.add(make_result({"happy": 1}))
    conn = sqlite3.connect(path)
    try:
        assert conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    finally:
        conn.close()


def test_v0_database_with_other_tables_is_upgraded(tmp_path: Path) -> None:
    path = tmp_path / "h.sqlite3"
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE notes (x TEXT)")
    conn.execute("INSERT INTO notes VALUES ('kept')")
    conn.commit()
    conn.close()
    with HistoryStore(path) as s:
        assert s.count() == 0
    conn = sqlite3.connect(path)
    try:
        assert conn.execute("SELECT x FROM notes").fetchall() == [("kept",)]
        assert conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    finally:
        conn.close()


def test_a_new_migration_is_one_function(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "h.sqlite3"
    with HistoryStore(path) as s:
        r = make_result({"happy": 1})
        s.add(r)

    def next_version(conn: sqlite3.Connection) -> None:
        conn.execute("ALTER TABLE analyses ADD COLUMN starred INTEGER NOT NULL DEFAULT 0")

    monkeypatch.setattr(history, "MIGRATIONS", [*history.MIGRATIONS, next_version])
    monkeypatch.setattr(history, "SCHEMA_VERSION", SCHEMA_VERSION + 1)
    with HistoryStore(path) as s:
        assert s.get(r.id) == r
    conn = sqlite3.connect(path)
    try:
        assert conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION + 1
        assert conn.execute("SELECT starred FROM analyses").fetchall() == [(0,)]
    finally:
        conn.close()


def test_newer_schema_is_refused_not_moved(tmp_path: Path) -> None:
    path = tmp_path / "h.sqlite3"
    conn = sqlite3.connect(path)
    conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 5}")
    conn.close()
    with pytest.raises(HistoryError, match="newer version"):
        HistoryStore(path)
    assert path.exists()
    assert not list(tmp_path.glob("*.corrupt-*"))


def test_folder_blocked_by_a_file(tmp_path: Path) -> None:
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("x")
    with pytest.raises(HistoryError, match="history folder") as info:
        HistoryStore(blocker / "sub" / "h.sqlite3")
    assert info.value.kind == "history_folder"
    assert blocker.read_text() == "x"


def test_full_disk_is_reported(store: HistoryStore) -> None:
    # A real SQLITE_FULL: cap the file's page count so the next writes cannot grow it.
    conn = store._conn
    assert conn is not None
    pages = conn.execute("PRAGMA page_count").fetchone()[0]
    conn.execute(f"PRAGMA max_page_count = {pages}")
    with pytest.raises(HistoryError, match=r"^The disk is full: ") as info:
        for _ in range(200):
            store.add(make_result({"happy": 1}, text="y" * 4000))
    assert info.value.kind == "history_disk_full"
    # The store stays usable; rows that fitted are still there.
    assert store.count() == len(store.list(limit=1000))


CHILD = textwrap.dedent(
    """
    import sys
    sys.path.insert(0, sys.argv[2])
    from pathlib import Path
    from tests.helpers_results import make_result
    from vsa_desktop.core.history import HistoryStore

    store = HistoryStore(Path(sys.argv[1]))
    i = 0
    while True:
        r = make_result({"happy": 1 + i % 7, "sad": 2}, {"sad": 1 + i % 5}, text="row %d" % i)
        store.add(r)
        i += 1
        print(i, r.id, flush=True)
    """
)


def test_sigkill_mid_batch_keeps_every_committed_row(tmp_path: Path) -> None:
    path = tmp_path / "h.sqlite3"
    script = tmp_path / "child.py"
    script.write_text(CHILD)
    env = {**os.environ, "PYTHONWARNINGS": "ignore"}
    child = subprocess.Popen(
        [sys.executable, str(script), str(path), str(ROOT)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    committed: list[str] = []
    target = 300
    deadline = time.monotonic() + 120
    try:
        assert child.stdout is not None
        while len(committed) < target and time.monotonic() < deadline:
            line = child.stdout.readline()
            if not line:
                break
            committed.append(line.split()[1])
        os.kill(child.pid, signal.SIGKILL)
        child.wait(timeout=30)
        # Lines already printed (and flushed) before the kill are committed rows too.
        committed += [ln.split()[1] for ln in child.stdout.read().splitlines() if ln.strip()]
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()
        child.stdout.close()  # type: ignore[union-attr]
        stderr = child.stderr.read() if child.stderr else ""
        if child.stderr:
            child.stderr.close()
    assert child.returncode == -signal.SIGKILL, stderr
    assert len(committed) >= target, f"child committed only {len(committed)} rows: {stderr}"

    conn = sqlite3.connect(path)
    try:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        stored = {row[0] for row in conn.execute("SELECT id FROM analyses")}
    finally:
        conn.close()
    assert set(committed) <= stored
    assert len(stored) >= len(committed)
    with HistoryStore(path) as s:
        assert s.recovered_from is None
        assert s.get(committed[-1]).text_input == f"row {len(committed) - 1}"


def test_read_only_database_is_reported(store: HistoryStore) -> None:
    # A real SQLITE_READONLY (root ignores chmod, so ask SQLite itself to refuse writes).
    conn = store._conn
    assert conn is not None
    conn.execute("PRAGMA query_only = 1")
    with pytest.raises(HistoryError, match="read-only") as info:
        store.add(make_result({"happy": 1}))
    assert info.value.kind == "history_read_only"
    assert store.count() == 0


def test_path_that_is_a_folder(tmp_path: Path) -> None:
    folder = tmp_path / "h.sqlite3"
    folder.mkdir()
    with pytest.raises(HistoryError, match="cannot be opened"):
        HistoryStore(folder)
    assert folder.is_dir()


def _filled(path: Path, n: int = 300) -> list[str]:
    with HistoryStore(path) as s:
        ids = [
            s.add(make_result({"happy": 1 + i % 5, "fear": 2}, text=f"row {i}")) for i in range(n)
        ]
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.close()
    return ids


def _wreck_page(path: Path, page: int) -> bytes:
    data = bytearray(path.read_bytes())
    data[4096 * (page - 1) : 4096 * page] = b"\xa5" * 4096
    path.write_bytes(bytes(data))
    return bytes(data)


def _pages_of(path: Path, name: str) -> list[int]:
    conn = sqlite3.connect(path)
    try:
        return [r[0] for r in conn.execute("SELECT pageno FROM dbstat WHERE name = ?", (name,))]
    except sqlite3.OperationalError:
        pytest.skip("this SQLite has no dbstat table")
    finally:
        conn.close()


def test_one_damaged_index_page_loses_no_row(tmp_path: Path) -> None:
    path = tmp_path / "h.sqlite3"
    ids = _filled(path)
    damaged = _wreck_page(path, _pages_of(path, "analyses_created")[0])
    with HistoryStore(path) as s:
        assert s.rows_rescued == 300 and {e.id for e in s.list(limit=1000)} == set(ids)
        assert "300 results were saved" in (s.recovery_message or "")
        assert s.recovered_from is not None and s.recovered_from.read_bytes() == damaged
        happy = sum(e.fused_label == "happy" for e in s.list(limit=1000))
        assert s.count_matching(label="happy") == happy > 0  # the rebuilt index agrees
    conn = sqlite3.connect(path)
    assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    conn.close()


def test_a_damaged_table_page_costs_only_its_own_rows(tmp_path: Path) -> None:
    path = tmp_path / "h.sqlite3"
    ids = _filled(path)
    leaves = _pages_of(path, "analyses")
    _wreck_page(path, leaves[len(leaves) // 2])
    with HistoryStore(path) as s:
        saved = {e.id for e in s.list(limit=1000)}
        assert 250 < len(saved) < 300 and saved < set(ids)
        assert s.rows_rescued == len(saved)
        assert f"{len(saved)} results were saved" in (s.recovery_message or "")
        assert all(s.get(i).id == i for i in list(saved)[:20])  # the JSON is whole


def test_a_batch_key_is_kept_once(store: HistoryStore) -> None:
    first, second = make_result({"happy": 1}), make_result({"sad": 1})
    store.add(first, batch_key="input|1:abc")
    store.add(second, batch_key="input|1:abc")  # the re-run of a killed batch
    store.add(make_result({"fear": 1}), batch_key="input|2:def")
    assert store.count() == 2 and store.ids_with_prefix(first.id) == []
    assert store.get(second.id) == second


def test_write_failure_on_open_falls_back_to_reading(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Fault injection for machines that cannot mount a full disk: the read-write open
    fails as SQLite does on a full disk (SQLITE_IOERR); the store opens read-only."""
    path = tmp_path / "h.sqlite3"
    ids = _filled(path, 5)
    real_open = HistoryStore._open

    def failing_open(self: HistoryStore, path: Path | None = None) -> sqlite3.Connection:
        error = sqlite3.OperationalError("disk I/O error")
        error.sqlite_errorcode = 4874  # SQLITE_IOERR_SHMSIZE
        raise error

    monkeypatch.setattr(HistoryStore, "_open", failing_open)
    with HistoryStore(path) as s:
        assert {e.id for e in s.list()} == set(ids) and s.read_only_reason
        with pytest.raises(HistoryError) as info:
            s.add(make_result({"happy": 1}))
        assert info.value.message == s.read_only_reason
    monkeypatch.setattr(HistoryStore, "_open", real_open)


def test_index_damage_that_reindex_repairs_is_repaired_in_place(tmp_path: Path) -> None:
    """REINDEX comes first: an index page whose header is wrong is rebuilt, rows untouched."""
    path = tmp_path / "h.sqlite3"
    ids = _filled(path)
    data = bytearray(path.read_bytes())
    page = _pages_of(path, "analyses_fused_label")[0]
    data[4096 * (page - 1) + 7] = 17  # the page's count of fragmented bytes: wrong
    path.write_bytes(bytes(data))
    with HistoryStore(path) as s:
        assert "its indexes were rebuilt and 300 results were saved" in (s.recovery_message or "")
        assert {e.id for e in s.list(limit=1000)} == set(ids)
        assert s.recovered_from is not None and s.recovered_from.read_bytes() == bytes(data)
