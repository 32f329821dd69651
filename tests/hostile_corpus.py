"""Hostile files made on the spot, and a runner of the real `vsa` command over many cases.

Each case gets its own folder and its own VSA_HOME seeded with the same small history, runs
the real CLI (``python -m vsa_desktop.cli``) in a subprocess with a time bound, and keeps
what came out. The cases run a few at a time: each start costs a fraction of a second, so
grouping them is what keeps the hostile module fast.
"""

from __future__ import annotations

import os
import random
import shutil
import sqlite3
import struct
import subprocess
import sys
import time
import zlib
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from tests.conftest import DATA

ASTRONAUT = DATA / "astronaut.png"
CASE_TIMEOUT_S = 60.0
LITE = ("--text-model", "builtin:lite")
PARALLEL = 4


@dataclass
class Outcome:
    """What one run of the real command gave."""

    returncode: int
    stdout: str
    stderr: str
    seconds: float
    hung: bool = False


@dataclass
class Case:
    """One hostile input and what the CLI must do with it.

    ``argv`` may hold ``{dir}`` (the case's folder) and ``{home}`` (its VSA_HOME).
    ``one_sentence``: stderr is exactly one ``vsa: ...`` sentence and stdout is empty.
    ``history``: "intact" (the seeded rows must all still be there afterwards) or "own"
    (the case is about the history file itself and checks it in ``check``).
    """

    name: str
    argv: list[str]
    code: int
    says: str | None = None
    one_sentence: bool = False
    setup: Callable[[Path, Path], None] | None = None
    check: Callable[[Outcome, Path, Path], None] | None = None
    env: dict[str, str] = field(default_factory=dict)
    history: str = "intact"


def base_env() -> dict[str, str]:
    """The environment of every run: no real keys, no network, no keyring."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("GROQ_", "VSA_")) and k != "PYTHONWARNINGS"
    }
    env.update(
        HF_HUB_OFFLINE="1",
        TOKENIZERS_PARALLELISM="false",
        PYTHON_KEYRING_BACKEND="keyring.backends.fail.Keyring",
        COLUMNS="200",
    )
    return env


def history_file(home: Path) -> Path:
    return home / "data" / "history.sqlite3"


def seed_history(home: Path, n: int = 5) -> list[str]:
    """Fill ``home``'s history with ``n`` real rows; return their ids."""
    from tests.helpers_results import make_result
    from vsa_desktop.core.history import HistoryStore

    ids = []
    with HistoryStore(history_file(home)) as store:
        for i in range(n):
            ids.append(store.add(make_result({"happy": 1 + i, "sad": 2}, text=f"seed {i}")))
    return ids


def stored_ids(home: Path) -> set[str]:
    """The ids in ``home``'s history, read with plain sqlite3 (read-only)."""
    path = history_file(home)
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        return {row[0] for row in conn.execute("SELECT id FROM analyses")}
    finally:
        conn.close()


def run_case(case: Case, root: Path, template: Path) -> Outcome:
    """Run one case in its own folder and a copy of ``template`` as its home."""
    folder, home = root / case.name, root / case.name / "home"
    folder.mkdir(parents=True)
    shutil.copytree(template, home)
    if case.setup:
        case.setup(folder, home)
    return run_in(case, folder, home)


def run_in(case: Case, folder: Path, home: Path, command: list[str] | None = None) -> Outcome:
    """Run the real CLI for ``case``; never longer than ``CASE_TIMEOUT_S``."""
    argv = [a.format(dir=folder, home=home) for a in case.argv]
    env = {**base_env(), "VSA_HOME": str(home), **case.env}
    command = command or [sys.executable, "-m", "vsa_desktop.cli"]
    started = time.monotonic()
    try:
        p = subprocess.run(
            [*command, *argv],
            env=env,
            cwd=folder,
            capture_output=True,
            text=True,
            timeout=CASE_TIMEOUT_S,
            stdin=subprocess.DEVNULL,
        )
    except subprocess.TimeoutExpired as exc:
        out = exc.stdout.decode() if isinstance(exc.stdout, bytes) else (exc.stdout or "")
        err = exc.stderr.decode() if isinstance(exc.stderr, bytes) else (exc.stderr or "")
        return Outcome(-1, out, err, time.monotonic() - started, hung=True)
    return Outcome(p.returncode, p.stdout, p.stderr, time.monotonic() - started)


def run_all(cases: list[Case], root: Path, template: Path) -> dict[str, Outcome]:
    """Run every case, a few at a time."""
    with ThreadPoolExecutor(PARALLEL) as pool:
        futures = {c.name: pool.submit(run_case, c, root, template) for c in cases}
        return {name: f.result() for name, f in futures.items()}


# ------------------------------------------------------------------ hostile files


def png_bytes(width: int, height: int, idat: bytes | None = None) -> bytes:
    """A PNG whose header claims ``width`` x ``height`` (a bomb when large)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    data = idat if idat is not None else zlib.compress(b"\x00" * 64)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", data) + chunk(b"IEND", b"")


def junk(n: int, seed: int) -> bytes:
    """Seeded random bytes that decode as no text."""
    return random.Random(seed).randbytes(n)


def fifo(path: Path) -> Path:
    os.mkfifo(path)
    return path


def loop(path: Path) -> Path:
    """A symbolic link that points at itself."""
    path.symlink_to(path.name)
    return path


def sparse(path: Path, size: int) -> Path:
    """A file of ``size`` bytes that takes no disk space."""
    with path.open("wb") as f:
        f.truncate(size)
    return path


def damage_index_page(path: Path) -> None:
    """Overwrite one page of the ``analyses_created`` index with garbage, keep the rest."""
    conn = sqlite3.connect(path)
    try:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        page_size = conn.execute("PRAGMA page_size").fetchone()[0]
        root = conn.execute(
            "SELECT rootpage FROM sqlite_master WHERE name = 'analyses_created'"
        ).fetchone()[0]
    finally:
        conn.close()
    data = bytearray(path.read_bytes())
    start = (root - 1) * page_size
    data[start : start + page_size] = junk(page_size, 7)
    path.write_bytes(bytes(data))
