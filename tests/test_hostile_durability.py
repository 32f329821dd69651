"""Kills, full disks and read-only history: every row kept exactly once, reading always works.

* SIGKILL a real `vsa batch` at seeded random moments, several times, then let it finish:
  the JSONL, the CSV and the history each hold every input row exactly once.
* A full disk: a tmpfs of a few hundred KB that the test mounts (we run as root; where
  mounting is not allowed the test is skipped and the same logic is tested in process,
  with SQLite's own page limit making every write fail for real).
* A read-only history: the tmpfs remounted read-only (as root), or a chmod'ed folder (not
  root), and a history file owned by root read by an unprivileged user (mode 000).
"""

from __future__ import annotations

import csv
import json
import os
import random
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests import hostile_corpus as hc
from tests.helpers_results import make_result
from vsa_desktop.cli import exitcodes
from vsa_desktop.core.batch import BatchOutputs, read_items, run_batch
from vsa_desktop.core.history import HistoryStore
from vsa_desktop.core.pipeline import AnalysisRequest

ROWS = 400
KILLS = 5


def vsa_popen(home: Path, *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "vsa_desktop.cli", *args],
        env={**hc.base_env(), "VSA_HOME": str(home)},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )


def lines(path: Path) -> int:
    return path.read_bytes().count(b"\n") if path.exists() else 0


def batch_keys_in_history(home: Path) -> list[str]:
    conn = sqlite3.connect(hc.history_file(home))
    try:
        return [r[0] for r in conn.execute("SELECT batch_key FROM analyses WHERE batch_key != ''")]
    finally:
        conn.close()


def test_sigkill_at_random_moments_then_rerun_keeps_every_row_once(tmp_path: Path) -> None:
    rng = random.Random(20261130)
    source = tmp_path / "in.csv"
    with source.open("w", encoding="utf-8", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["id", "text"])
        for i in range(ROWS):  # long texts: each JSONL line spans several pages
            writer.writerow(
                [f"r{i}", f"row {i}: " + "what a day, so happy! " * rng.randint(5, 400)]
            )
    home, jsonl, out_csv = tmp_path / "home", tmp_path / "out.jsonl", tmp_path / "out.csv"
    args = ("batch", str(source), "--jsonl", str(jsonl), "--csv", str(out_csv), *hc.LITE)
    killed = 0
    for _ in range(KILLS):
        child = vsa_popen(home, *args)
        target = lines(jsonl) + rng.randint(5, 60)
        deadline = time.monotonic() + 60
        while lines(jsonl) < target and child.poll() is None and time.monotonic() < deadline:
            time.sleep(0.005)
        time.sleep(rng.uniform(0, 0.05))
        if child.poll() is None:
            child.send_signal(signal.SIGKILL)
            killed += 1
        child.wait(timeout=30)
        assert child.stderr is not None
        child.stderr.close()
    assert killed >= KILLS - 1, "the batch finished before it could be killed"
    final = vsa_popen(home, *args)
    _, err = final.communicate(timeout=300)
    assert final.returncode == exitcodes.OK, err
    assert "Traceback" not in err

    items, _ = read_items(source)
    keys = sorted(item.key for item in items)
    docs = [json.loads(x) for x in jsonl.read_text(encoding="utf-8").splitlines()]
    assert sorted(d["batch"]["key"] for d in docs) == keys
    with out_csv.open(encoding="utf-8-sig", newline="") as f:
        rows = list(csv.DictReader(f))
    assert sorted(r["batch_item"] for r in rows) == keys
    assert sorted(r["input.id"] for r in rows) == sorted(f"r{i}" for i in range(ROWS))
    with HistoryStore(hc.history_file(home)) as store:
        assert store.count() == ROWS and store.recovered_from is None
        texts = sorted(store.get(e.id).text_input or "" for e in store.list(limit=2 * ROWS))
    assert texts == sorted(item.text or "" for item in items)  # each row once, none twice
    history_keys = batch_keys_in_history(home)
    assert len(history_keys) == ROWS and len(set(history_keys)) == ROWS
    assert sorted(k.split("|", 1)[1] for k in history_keys) == keys


def test_a_kill_that_tore_the_jsonl_line_does_not_duplicate_history(tmp_path: Path) -> None:
    """The issue's case: killed while writing a JSONL line (after history had the row); the
    re-run analyses that row again and must replace, not add, its history row."""
    source = tmp_path / "in.csv"
    source.write_text("text\n" + "".join(f"row {i} is fine\n" for i in range(20)))
    home, jsonl = tmp_path / "home", tmp_path / "out.jsonl"
    args = ("batch", str(source), "--jsonl", str(jsonl), *hc.LITE)
    first = vsa_popen(home, *args)
    _, err = first.communicate(timeout=120)
    assert first.returncode == exitcodes.OK, err
    data = jsonl.read_bytes()
    jsonl.write_bytes(data[: data.rstrip(b"\n").rfind(b"\n") + 40])  # half of the last line
    again = vsa_popen(home, *args)
    _, err = again.communicate(timeout=120)
    assert again.returncode == exitcodes.OK, err
    assert "Analysed 1 of 20" in err and "19 already done" in err
    assert lines(jsonl) == 20
    with HistoryStore(hc.history_file(home)) as store:
        assert store.count() == 20


def test_a_second_run_of_the_same_input_never_adds_a_history_copy(
    tmp_path: Path, tiny_model_dir: Path
) -> None:
    source = tmp_path / "in.csv"
    source.write_text("text\nhappy\nsad\n", encoding="utf-8")
    items, extra = read_items(source)

    def request(item):
        return AnalysisRequest(text=item.text, text_model="builtin:lite")

    with HistoryStore(tmp_path / "h.sqlite3") as store:
        for out in ("a.jsonl", "b.jsonl"):  # new outputs: everything is analysed again
            run_batch(
                items, BatchOutputs(tmp_path / out, None, extra), request,
                history=store, history_scope="scope",
            )  # fmt: skip
        assert store.count() == 2
        run_batch(
            items, BatchOutputs(tmp_path / "c.jsonl", None, extra), request,
            history=store, history_scope="other input",
        )  # fmt: skip
        assert store.count() == 4


# ------------------------------------------------------------------ full and read-only disks


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """A 512 KB tmpfs mounted for this test (skipped where mounting is not allowed)."""
    mount = tmp_path / "disk"
    mount.mkdir()
    if os.geteuid() != 0:
        pytest.skip("mounting a tmpfs needs root; test_full_disk_logic covers the logic")
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=512k,mode=0755", "tmpfs", str(mount)],
        capture_output=True,
        text=True,
    )
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {done.stderr.strip()}")
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=False)


def fill(folder: Path) -> None:
    """Take every free byte of the file system ``folder`` is on."""
    fd = os.open(folder / "filler", os.O_WRONLY | os.O_CREAT, 0o644)
    try:
        while True:
            os.write(fd, b"\0" * 4096)
    except OSError:
        pass
    finally:
        os.close(fd)


def settings_with_history_at(home: Path, history: Path) -> None:
    (home / "config").mkdir(parents=True, exist_ok=True)
    (home / "config" / "settings.json").write_text(json.dumps({"history_path": str(history)}))


def test_full_disk_reads_history_and_says_once_what_was_not_kept(
    small_disk: Path, tmp_path: Path
) -> None:
    home = tmp_path / "home"
    history = small_disk / "history.sqlite3"
    settings_with_history_at(home, history)
    with HistoryStore(history) as store:
        ids = [store.add(make_result({"happy": 1 + i}, text=f"kept {i}")) for i in range(20)]
    fill(small_disk)

    listing = hc.run_case(hc.Case("list", ["history", "list", "--limit", "50"], 0), tmp_path, home)
    assert listing.returncode == exitcodes.OK, listing.stderr
    assert "(20 of 20)" in listing.stdout and listing.stderr == ""

    source = tmp_path / "in.csv"
    source.write_text("text\n" + "".join(f"row {i} is happy\n" for i in range(200)))
    out = tmp_path / "out.jsonl"
    p = subprocess.run(
        [sys.executable, "-m", "vsa_desktop.cli", "batch", str(source), "--jsonl", str(out),
         *hc.LITE],
        env={**hc.base_env(), "VSA_HOME": str(home)}, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert p.returncode == exitcodes.FAILED, p.stderr
    assert lines(out) == 200  # the outputs are on another disk: nothing lost there
    assert "0 failed." in p.stderr
    assert p.stderr.count("The disk is full") == 1, p.stderr
    assert "200 results not kept in history: The disk is full" in p.stderr
    assert "Traceback" not in p.stderr and "WARNING" not in p.stderr

    analyze = hc.run_case(
        hc.Case("analyze", ["analyze", "--text", "full disk", *hc.LITE], 1), tmp_path, home
    )
    assert analyze.returncode == exitcodes.FAILED
    assert json.loads(analyze.stdout)["input"]["text"] == "full disk"
    assert "note: Not saved to history: The disk is full" in analyze.stderr
    (small_disk / "filler").unlink()
    conn = sqlite3.connect(f"file:{history}?mode=ro", uri=True)
    assert {r[0] for r in conn.execute("SELECT id FROM analyses")} == set(ids)  # all kept
    conn.close()


def test_read_only_disk_history_still_lists_and_analyze_still_prints(
    small_disk: Path, tmp_path: Path
) -> None:
    home = tmp_path / "home"
    history = small_disk / "history.sqlite3"
    settings_with_history_at(home, history)
    with HistoryStore(history) as store:
        store.add(make_result({"sad": 2}, text="before the remount"))
    subprocess.run(["mount", "-o", "remount,ro", str(small_disk)], check=True)
    listing = hc.run_case(hc.Case("list", ["history", "list"], 0), tmp_path, home)
    assert listing.returncode == exitcodes.OK and "before the remount" in listing.stdout
    analyze = hc.run_case(
        hc.Case("analyze", ["analyze", "--text", "read only", *hc.LITE], 1), tmp_path, home
    )
    assert analyze.returncode == exitcodes.FAILED, analyze.stderr
    assert json.loads(analyze.stdout)["input"]["text"] == "read only"
    assert "note: Not saved to history: " in analyze.stderr
    assert "Traceback" not in analyze.stderr


def test_full_disk_logic(tmp_path: Path) -> None:
    """The fallback where no tmpfs can be mounted: SQLite's page limit makes writes fail."""
    source = tmp_path / "in.csv"
    source.write_text("text\n" + "".join(f"row {i} is sad\n" for i in range(40)))
    items, extra = read_items(source)
    store = HistoryStore(tmp_path / "h.sqlite3")
    store.add(make_result({"happy": 1}, text="kept before"))
    conn = store._conn
    assert conn is not None
    conn.execute(f"PRAGMA max_page_count = {conn.execute('PRAGMA page_count').fetchone()[0]}")
    summary = run_batch(
        items, BatchOutputs(tmp_path / "o.jsonl", None, extra),
        lambda item: AnalysisRequest(text=item.text, text_model="builtin:lite"),
        history=store,
    )  # fmt: skip
    assert summary.done == 40 and summary.failures == []
    assert summary.not_kept >= 30 and summary.history_problem
    assert summary.history_problem.startswith("The disk is full")
    assert store.count() == 1 + 40 - summary.not_kept
    docs = [json.loads(x) for x in (tmp_path / "o.jsonl").read_text().splitlines()]
    unsaved = [d for d in docs if any(w.startswith("Not saved to history") for w in d["warnings"])]
    assert len(unsaved) == summary.not_kept
    store.close()


AS_NOBODY = """
import contextlib, io, os, sys, tempfile
from vsa_desktop.cli import main
# The interpreter lives under /root here, which nobody may enter: a warm-up run (in a
# home of its own) loads every module while still root, then the process becomes nobody.
home = os.environ["VSA_HOME"]
os.environ["VSA_HOME"] = tempfile.mkdtemp()
with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
    main(["analyze", "--text", "warm up", "--text-model", "builtin:lite"])
os.environ["VSA_HOME"] = home
os.setgroups([])
os.setgid(65534)
os.setuid(65534)
sys.exit(main(sys.argv[1:]))
"""


def test_unreadable_history_file_as_another_user(tmp_path: Path) -> None:
    """A history file of mode 000 owned by root, opened by a process that runs as nobody.

    Root reads mode 000 files anyway, so the run drops to uid 65534 (after its imports)
    to meet a real EACCES: the analysis must still print, with the not-saved note.
    """
    if os.geteuid() != 0:
        pytest.skip("needs root to hand the run to another user")
    import shutil
    import tempfile

    base = Path(tempfile.mkdtemp(prefix="vsa-nobody-"))
    try:
        base.chmod(0o755)
        home = base / "home"
        with HistoryStore(hc.history_file(home)) as store:
            store.add(make_result({"happy": 1}, text="root's row"))
        for folder in (home, home / "data"):
            folder.chmod(0o777)
        hc.history_file(home).chmod(0o000)
        case = hc.Case("as-nobody", ["analyze", "--text", "hello", *hc.LITE], exitcodes.FAILED)
        out = hc.run_in(case, base, home, [sys.executable, "-c", AS_NOBODY])
        crashes = "".join(p.read_text() for p in home.glob("data/logs/crash-*"))
        assert "Traceback" not in out.stderr + crashes, out.stderr + crashes
        assert out.returncode == exitcodes.FAILED, out.stderr
        assert json.loads(out.stdout)["input"]["text"] == "hello"
        assert "note: Not saved to history: The history file" in out.stderr
        hc.history_file(home).chmod(0o644)
        assert len(hc.stored_ids(home)) == 1  # root's row is untouched
    finally:
        shutil.rmtree(base, ignore_errors=True)
