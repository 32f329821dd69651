"""Hostile inputs through the real `vsa` command: nothing hangs, nothing leaks, nothing is lost.

The corpus is made on the spot (tests/hostile_corpus.py): FIFOs, devices, folders, symlink
loops, sparse multi-GB files, damaged and disguised images, decompression bombs, NUL /
control / bidi text, texts in legacy encodings, CSVs with broken quoting, formula
injection and paths that leave their folder, hostile settings and history files, and a
credential in the cloud URL. Every case asserts the exit code from the documented table
(vsa_desktop/cli/exitcodes.py), no traceback, a bounded run time and, unless the case is
about the history file itself, that the history the user had is still all there.
"""

from __future__ import annotations

import base64
import csv
import json
import os
import shutil
import sqlite3
from pathlib import Path

import pytest

from tests import hostile_corpus as hc
from tests.fake_groq import FakeGroq, fail
from vsa_desktop.cli import exitcodes

OK, FAILED, USAGE = exitcodes.OK, exitcodes.FAILED, exitcodes.USAGE
KEY = "gsk_hostile_secret_0123456789"
TEXT = ("analyze", "--no-history", *hc.LITE, "--text-file")
IMAGE = ("analyze", "--no-history", *hc.LITE, "--vision", "local", "--offline", "--text")
BATCH_OPTS = (*hc.LITE, "--vision", "local", "--offline")
ESC_TITLE = "\x1b]0;PWNED\x07"


def write(name: str, data: bytes | str, encoding: str = "utf-8"):
    """A setup step that writes one file into the case folder."""

    def setup(folder: Path, _home: Path) -> None:
        raw = data.encode(encoding) if isinstance(data, str) else data
        (folder / name).write_bytes(raw)

    return setup


def steps(*setups):
    def setup(folder: Path, home: Path) -> None:
        for step in setups:
            step(folder, home)

    return setup


def csv_file(rows: list[list[str]], encoding: str = "utf-8", name: str = "in.csv"):
    def setup(folder: Path, _home: Path) -> None:
        with (folder / name).open("w", encoding=encoding, newline="") as f:
            csv.writer(f).writerows(rows)

    return setup


def astronaut(name: str):
    def setup(folder: Path, _home: Path) -> None:
        target = folder / name
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(hc.ASTRONAUT, target)

    return setup


def jsonl(folder: Path, status: str | None = None) -> list[dict]:
    """The output lines (only those of ``status`` when given: ok, partial, failed)."""
    path = folder / "out.jsonl"
    if not path.exists():
        return []
    docs = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
    return [d for d in docs if status is None or d["batch"]["status"] == status]


# ------------------------------------------------------------------ checks per case


def text_was(expected: str, note: str | None):
    def check(out: hc.Outcome, _folder: Path, _home: Path) -> None:
        assert json.loads(out.stdout)["input"]["text"] == expected
        if note:
            assert f"note: {note}" in out.stderr
        else:
            assert "not UTF-8" not in out.stderr

    return check


def outside_rows_refused(out: hc.Outcome, folder: Path, home: Path) -> None:
    docs = jsonl(folder / "in", "ok")
    assert [d["input"]["image"]["name"] for d in docs] == ["ok.png"]
    refused = jsonl(folder / "in", "failed")  # in the outputs too, with the reason
    assert len(refused) == 3 and all(d["schema"] == "vsa.batch-failure/1" for d in refused)
    assert all("lies outside" in d["batch"]["error"]["message"] for d in refused)
    assert out.stderr.count("lies outside the input's folder") == 3
    assert "add --allow-paths-outside" in out.stderr
    conn = sqlite3.connect(hc.history_file(home))
    names = {r[0] for r in conn.execute("SELECT image_name FROM analyses")}
    conn.close()
    assert "secret_family_photo.jpg" not in names and "ok.png" in names


def outside_rows_allowed(out: hc.Outcome, folder: Path, _home: Path) -> None:
    assert len(jsonl(folder / "in")) == 4
    assert "outside" not in out.stderr


def formulas_neutralised(_out: hc.Outcome, folder: Path, _home: Path) -> None:
    with (folder / "out.csv").open(encoding="utf-8-sig", newline="") as f:
        texts = [row["text"] for row in csv.DictReader(f)]
    assert texts == ['\'=HYPERLINK("http://x","y")', "'+cmd|' /C calc'!A0", "'@SUM(1+1)*cmd"]


def gbk_texts_read(out: hc.Outcome, folder: Path, _home: Path) -> None:
    assert {d["input"]["text"] for d in jsonl(folder)} == {"今天天气很好", "我们去公园玩吧"}
    assert "note: in.csv is not UTF-8; it was read as GB18030." in out.stderr
    doc = jsonl(folder)[0]
    assert "The text is not UTF-8; it was read as GB18030." in doc["warnings"]


def companions_read(out: hc.Outcome, folder: Path, _home: Path) -> None:
    docs = {d["batch"]["key"]: d for d in jsonl(folder, "ok")}
    assert docs["a.png"]["input"]["text"] == "今天很开心，我们赢了！"
    assert "note: 1 text file is not UTF-8; read as GB18030." in out.stderr
    assert "b.png" not in docs and "The text file b.txt lies outside" in out.stderr
    assert "c.png" not in docs and "The image c.png lies outside" in out.stderr
    failed = {d["batch"]["key"]: d["batch"]["error"]["message"] for d in jsonl(folder, "failed")}
    assert "b.txt lies outside" in failed["b.png"] and "c.png lies outside" in failed["c.png"]


def escapes_shown_not_obeyed(out: hc.Outcome, _folder: Path, _home: Path) -> None:
    assert "\x1b" not in out.stdout + out.stderr and "\x07" not in out.stdout + out.stderr
    assert "\x9b" not in out.stdout and "\u202e" not in out.stdout
    assert "\\x1b]0;PWNED\\x07" in out.stdout + out.stderr


def settings_note(out: hc.Outcome, _folder: Path, _home: Path) -> None:
    lines = [ln for ln in out.stderr.splitlines() if ln.startswith("vsa:")]
    assert len(lines) == 1 and lines[0].endswith("defaults apply.")
    assert "WARNING" not in out.stderr
    json.loads(out.stdout)


def rows_rescued(out: hc.Outcome, folder: Path, home: Path) -> None:
    assert len(out.stdout.splitlines()) == 300
    assert "300 results were saved" in out.stderr
    kept = list((home / "data").glob("history.sqlite3.corrupt-*"))
    assert [p.name for p in kept if p.name.endswith(("-wal", "-shm")) is False]
    assert kept[0].read_bytes() == (folder / "damaged-copy").read_bytes()


def printed_but_not_kept(out: hc.Outcome, _folder: Path, _home: Path) -> None:
    result = json.loads(out.stdout)
    note = next(w for w in result["warnings"] if w.startswith("Not saved to history: "))
    assert f"note: {note}" in out.stderr
    assert "Traceback" not in out.stderr


def no_key_anywhere(out: hc.Outcome, _folder: Path, home: Path) -> None:
    basic = base64.b64encode(f"user:{KEY}".encode()).decode()
    everything = out.stdout + out.stderr
    for path in home.rglob("*"):
        if path.is_file():
            everything += path.read_bytes().decode("utf-8", "replace")
    assert KEY not in everything and basic not in everything
    assert "must not hold a user name or password" in out.stderr
    assert json.loads(out.stdout)["mode"] == "text-only"


def rate_limited(out: hc.Outcome, _folder: Path, _home: Path) -> None:
    assert out.stderr.strip() == (
        "vsa: Groq's rate limit was reached; try again in about 1 second."
    )


# ------------------------------------------------------------------ the corpus


def settings_file(data: bytes | None):
    """A settings file with ``data`` (a FIFO when None)."""

    def setup(_folder: Path, home: Path) -> None:
        path = home / "config" / "settings.json"
        path.parent.mkdir()
        if data is None:
            hc.fifo(path)
        else:
            path.write_bytes(data)

    return setup


def history_dir_in_place(_folder: Path, home: Path) -> None:
    path = hc.history_file(home)
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    path.mkdir()


def damaged_history(folder: Path, home: Path) -> None:
    from tests.helpers_results import make_result
    from vsa_desktop.core.history import HistoryStore

    history_dir_in_place(folder, home)
    hc.history_file(home).rmdir()
    with HistoryStore(hc.history_file(home)) as store:
        for i in range(300):
            store.add(make_result({"happy": 1 + i % 5, "fear": 1}, text=f"row {i}"))
    hc.damage_index_page(hc.history_file(home))
    shutil.copy(hc.history_file(home), folder / "damaged-copy")


def outside_paths(folder: Path, _home: Path) -> None:
    private = folder / "private"
    private.mkdir()
    shutil.copy(hc.ASTRONAUT, private / "secret_family_photo.jpg")
    (folder / "in").mkdir()
    shutil.copy(hc.ASTRONAUT, folder / "in" / "ok.png")
    (folder / "in" / "link.png").symlink_to(private / "secret_family_photo.jpg")
    rows = [
        ["text", "image"],
        ["ours", "ok.png"],
        ["dot dot", "../private/secret_family_photo.jpg"],
        ["absolute", str(private / "secret_family_photo.jpg")],
        ["symlink", "link.png"],
    ]
    with (folder / "in" / "in.csv").open("w", encoding="utf-8", newline="") as f:
        csv.writer(f).writerows(rows)


def companions(folder: Path, _home: Path) -> None:
    pics = folder / "pics"
    pics.mkdir()
    for name in ("a.png", "b.png"):
        shutil.copy(hc.ASTRONAUT, pics / name)
    (pics / "a.txt").write_bytes("今天很开心，我们赢了！".encode("gbk"))
    (folder / "secret.txt").write_text("my diary", encoding="utf-8")
    (pics / "b.txt").symlink_to(folder / "secret.txt")
    shutil.copy(hc.ASTRONAUT, folder / "outside.png")
    (pics / "c.png").symlink_to(folder / "outside.png")


def escape_names(folder: Path, _home: Path) -> None:
    rows = [
        ["text", "image"],
        [f"hi {ESC_TITLE} there \u202eevil", f"x{ESC_TITLE}.png"],  # text alone: partial
        ["", f"y{ESC_TITLE}.png"],  # nothing to read: failed, its name in the message
    ]
    with (folder / "in.csv").open("w", encoding="utf-8", newline="") as f:
        csv.writer(f).writerows(rows)


def cases() -> list[hc.Case]:
    """Every hostile case (the corpus)."""
    C = hc.Case
    one = {"one_sentence": True}
    return [
        # --text-file: checked before opening, size known before reading
        C(
            "text_empty",
            [*TEXT, "t.txt"],
            USAGE,
            "The text is empty",
            setup=write("t.txt", b""),
            **one,
        ),
        C(
            "text_fifo",
            [*TEXT, "f.txt"],
            USAGE,
            "is a FIFO, not a regular file",
            setup=lambda d, h: hc.fifo(d / "f.txt"),
            **one,
        ),
        C("text_dev_zero", [*TEXT, "/dev/zero"], USAGE, "is a device or socket", **one),
        C("text_folder", [*TEXT, "{dir}"], USAGE, "is a folder, not a file", **one),
        C(
            "text_symlink_loop",
            [*TEXT, "loop.txt"],
            USAGE,
            "is a loop of symbolic links",
            setup=lambda d, h: hc.loop(d / "loop.txt"),
            **one,
        ),
        C(
            "text_sparse_5gb",
            [*TEXT, "big.txt"],
            USAGE,
            "5.0 GB, more than a text of 1,000,000",
            setup=lambda d, h: hc.sparse(d / "big.txt", 5 * 2**30),
            **one,
        ),
        C(
            "text_too_long",
            [*TEXT, "long.txt"],
            USAGE,
            "holds 1,000,001 characters",
            setup=write("long.txt", "a" * 1_000_001),
            **one,
        ),
        C(
            "text_binary",
            [*TEXT, "b.txt"],
            USAGE,
            "is not text in any encoding",
            setup=write("b.txt", hc.junk(4096, 1)),
            **one,
        ),
        C("text_missing", [*TEXT, "nope.txt"], USAGE, "does not exist", **one),
        C(
            "text_and_file",
            ["analyze", "--text", "x", "--text-file", "t.txt"],
            USAGE,
            "not both",
            **one,
        ),
        C(
            "text_gbk",
            [*TEXT, "g.txt"],
            OK,
            setup=write("g.txt", "今天天气很好，我们去公园玩吧！", "gbk"),
            check=text_was(
                "今天天气很好，我们去公园玩吧！",
                "The text file g.txt is not UTF-8; it was read as GB18030.",
            ),
        ),
        C(
            "text_utf16_bom",
            [*TEXT, "u.txt"],
            OK,
            setup=write("u.txt", "Grüße 😀", "utf-16"),
            check=text_was("Grüße 😀", "The text file u.txt is not UTF-8; it was read as UTF-16."),
        ),
        C(
            "text_cp1252",
            [*TEXT, "w.txt"],
            OK,
            setup=write("w.txt", "Café “naïve” — très bien, merci beaucoup", "cp1252"),
            check=text_was(
                "Café “naïve” — très bien, merci beaucoup",
                "The text file w.txt is not UTF-8; it was read as CP1252.",
            ),
        ),
        C(
            "text_utf8_bom",
            [*TEXT, "b8.txt"],
            OK,
            setup=write("b8.txt", "\ufeffhappy days"),
            check=text_was("happy days", None),
        ),
        C(
            "text_nul_control_rtl",
            [*TEXT, "n.txt"],
            OK,
            setup=write("n.txt", f"nul\x00 bell\x07 {ESC_TITLE} \u202eevil\u202c rtl שלום"),
            check=text_was(f"nul\x00 bell\x07 {ESC_TITLE} \u202eevil\u202c rtl שלום", None),
        ),
        # images
        C(
            "image_empty",
            [*IMAGE, "hi", "--image", "e.png"],
            USAGE,
            "is empty (0 bytes)",
            setup=write("e.png", b""),
            **one,
        ),
        C(
            "image_truncated",
            [*IMAGE, "hi", "--image", "t.png"],
            USAGE,
            "damaged or incomplete",
            setup=write("t.png", hc.ASTRONAUT.read_bytes()[:20_000]),
            **one,
        ),
        C(
            "image_disguised",
            [*IMAGE, "hi", "--image", "p.jpg"],
            USAGE,
            "is not an image",
            setup=write("p.jpg", "<html><script>alert(1)</script></html>"),
            **one,
        ),
        C(
            "image_bomb",
            [*IMAGE, "hi", "--image", "bomb.png"],
            USAGE,
            "megapixels",
            setup=write("bomb.png", hc.png_bytes(100_000, 100_000)),
            **one,
        ),
        C(
            "image_fifo",
            [*IMAGE, "hi", "--image", "f.png"],
            USAGE,
            "is not a file",
            setup=lambda d, h: hc.fifo(d / "f.png"),
            **one,
        ),
        C("image_device", [*IMAGE, "hi", "--image", "/dev/zero"], USAGE, "is not a file", **one),
        C("image_folder", [*IMAGE, "hi", "--image", "{dir}"], USAGE, "is not a file", **one),
        C(
            "image_symlink_loop",
            [*IMAGE, "hi", "--image", "l.png"],
            USAGE,
            "cannot be read",
            setup=lambda d, h: hc.loop(d / "l.png"),
            **one,
        ),
        C(
            "image_png_named_jpg",
            [*IMAGE, "hi", "--image", "real.jpg"],
            OK,
            setup=astronaut("real.jpg"),
        ),
        # batch CSVs and folders
        C(
            "csv_outside_paths",
            ["batch", "{dir}/in/in.csv", "--jsonl", "{dir}/in/out.jsonl", *BATCH_OPTS],
            FAILED,
            setup=outside_paths,
            check=outside_rows_refused,
        ),
        C(
            "csv_outside_allowed",
            [
                "batch",
                "{dir}/in/in.csv",
                "--jsonl",
                "{dir}/in/out.jsonl",
                "--allow-paths-outside",
                "--no-history",
                *BATCH_OPTS,
            ],
            OK,
            setup=outside_paths,
            check=outside_rows_allowed,
        ),
        C(
            "csv_broken_quoting",
            ["batch", "in.csv", "--jsonl", "out.jsonl", *BATCH_OPTS],
            USAGE,
            "in.csv line 3 is malformed: a quote opened there is never closed",
            setup=write("in.csv", 'text,image\nfine,\n"I am so happy, and sad.png\nok,\n'),
            **one,
        ),
        C(
            "csv_extra_fields",
            ["batch", "in.csv", "--jsonl", "out.jsonl", *BATCH_OPTS],
            USAGE,
            "in.csv line 2 is malformed: it has 3 fields but the header has 2",
            setup=write("in.csv", "text,image\nhappy, and sad,sad.png\n"),
            **one,
        ),
        C(
            "csv_fifo",
            ["batch", "in.csv", "--jsonl", "out.jsonl"],
            USAGE,
            "is a FIFO",
            setup=lambda d, h: hc.fifo(d / "in.csv"),
            **one,
        ),
        C(
            "csv_empty",
            ["batch", "in.csv", "--jsonl", "out.jsonl"],
            USAGE,
            "is empty",
            setup=write("in.csv", b""),
            **one,
        ),
        C(
            "csv_binary",
            ["batch", "in.csv", "--jsonl", "out.jsonl"],
            USAGE,
            "is not text",
            setup=write("in.csv", hc.junk(5000, 2)),
            **one,
        ),
        C(
            "csv_formula_injection",
            ["batch", "in.csv", "--csv", "out.csv", "--no-history", *BATCH_OPTS],
            OK,
            check=formulas_neutralised,
            setup=csv_file(
                [
                    ["text"],
                    ['=HYPERLINK("http://x","y")'],
                    ["+cmd|' /C calc'!A0"],
                    ["@SUM(1+1)*cmd"],
                ]
            ),
        ),
        C(
            "csv_gbk",
            ["batch", "in.csv", "--jsonl", "out.jsonl", *BATCH_OPTS],
            OK,
            setup=csv_file([["text"], ["今天天气很好"], ["我们去公园玩吧"]], "gbk"),
            check=gbk_texts_read,
        ),
        C(
            "folder_companions",
            ["batch", "pics", "--jsonl", "out.jsonl", *BATCH_OPTS],
            FAILED,
            setup=companions,
            check=companions_read,
        ),
        C(
            "csv_escapes_in_failures",
            ["batch", "in.csv", "--jsonl", "out.jsonl", *BATCH_OPTS],
            FAILED,
            "does not exist",
            setup=escape_names,
            check=escapes_shown_not_obeyed,
        ),
        # settings, history, cloud
        C(
            "settings_garbage",
            ["analyze", "--text", "hi", "--no-history", *hc.LITE],
            OK,
            setup=settings_file(b'{"fusion_text_weight": 0.5,, garbage'),
            check=settings_note,
        ),
        C(
            "settings_wrong_values",
            ["analyze", "--text", "hi", "--no-history", *hc.LITE],
            OK,
            setup=settings_file(b'{"fusion_text_weight": "lots", "vision_max_side": 3}'),
            check=settings_note,
        ),
        C(
            "settings_fifo",
            ["analyze", "--text", "hi", "--no-history", *hc.LITE],
            OK,
            setup=settings_file(None),
            check=settings_note,
        ),
        C(
            "history_damaged_index",
            ["history", "list", "--json", "--limit", "1000"],
            OK,
            setup=damaged_history,
            check=rows_rescued,
            history="own",
        ),
        C(
            "history_dir_analyze",
            ["analyze", "--text", "still print me", *hc.LITE],
            FAILED,
            setup=history_dir_in_place,
            check=printed_but_not_kept,
            history="own",
        ),
        C(
            "history_dir_list",
            ["history", "list"],
            FAILED,
            "cannot be opened",
            setup=history_dir_in_place,
            history="own",
            **one,
        ),
        C(
            "groq_credentials_in_url",
            [
                "-v",
                "analyze",
                "--text",
                "hi",
                "--image",
                str(hc.ASTRONAUT),
                "--vision",
                "groq",
                "--no-history",
                *hc.LITE,
            ],
            OK,
            env={"GROQ_API_KEY": KEY, "GROQ_BASE_URL": "http://user:{KEY}@{groq_host}/"},
            check=no_key_anywhere,
        ),
        C(
            "groq_429_three_times",
            ["analyze", "--image", str(hc.ASTRONAUT), "--vision", "groq", "--no-history"],
            FAILED,
            check=rate_limited,
            env={"GROQ_API_KEY": KEY, "GROQ_BASE_URL": "{groq}"},
        ),
    ]


CASES = cases()


@pytest.fixture(scope="module")
def outcomes(tmp_path_factory: pytest.TempPathFactory) -> dict[str, hc.Outcome]:
    """Run the whole corpus once (a few cases at a time) against the real command."""
    root = tmp_path_factory.mktemp("hostile")
    template = root / "template-home"
    template.mkdir()
    hc.seed_history(template)
    with FakeGroq() as groq:
        for case in CASES:
            case.env = {
                k: v.replace("{KEY}", KEY)
                .replace("{groq}", groq.base_url)
                .replace("{groq_host}", groq.base_url.removeprefix("http://"))
                for k, v in case.env.items()
            }
        groq.queue(*[fail(429, "Rate limit reached", headers={"retry-after-ms": "100"})] * 3)
        results = hc.run_all(CASES, root / "cases", template)
    results["_root"] = root  # type: ignore[assignment]
    return results


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_hostile_input(case: hc.Case, outcomes: dict[str, hc.Outcome]) -> None:
    out = outcomes[case.name]
    root: Path = outcomes["_root"]  # type: ignore[assignment]
    folder = root / "cases" / case.name
    home = folder / "home"
    assert not out.hung, f"{case.name} did not finish within {hc.CASE_TIMEOUT_S} s"
    assert "Traceback" not in out.stderr and "unexpected error" not in out.stderr, out.stderr
    assert out.returncode == case.code, out.stderr
    if case.says:
        assert case.says in out.stderr, out.stderr
    if case.one_sentence:
        lines = [line for line in out.stderr.splitlines() if line.strip()]
        assert len(lines) == 1 and lines[0].startswith("vsa: "), out.stderr
        assert lines[0].endswith("."), lines[0]
        assert out.stdout == ""
    if case.check:
        case.check(out, folder, home)
    if case.history == "intact":
        template_ids = hc.stored_ids(root / "template-home")
        assert template_ids <= hc.stored_ids(home)


def test_corpus_covers_every_kind() -> None:
    names = {c.name for c in CASES}
    assert len(CASES) >= 40
    for kind in (
        "fifo",
        "dev",
        "folder",
        "symlink_loop",
        "sparse",
        "empty",
        "truncated",
        "disguised",
        "bomb",
        "binary",
        "gbk",
        "nul_control_rtl",
        "formula",
        "outside",
        "quoting",
        "damaged",
        "credentials",
        "429",
    ):
        assert any(kind in n for n in names), kind


def test_escapes_in_history_tables_are_shown_not_obeyed(tmp_path: Path) -> None:
    """`history list` and `search` print texts with ESC/BEL/bidi controls escaped."""
    from tests.cli_runner import run_vsa

    home = tmp_path / "home"
    text = tmp_path / "t.txt"
    text.write_text(f"title {ESC_TITLE} csi \x9b2J rtl \u202eevil", encoding="utf-8")
    added = run_vsa(home, "analyze", "--text-file", str(text), *hc.LITE)
    assert added.returncode == OK, added.stderr
    for args in (("history", "list"), ("history", "search", "--text", "title")):
        shown = run_vsa(home, *args)
        assert shown.returncode == OK, shown.stderr
        assert "\\x1b]0;PWNED\\x07" in shown.stdout and "\\x9b2J" in shown.stdout
        assert "\\u202eevil" in shown.stdout
        assert not {"\x1b", "\x07", "\x9b", "\u202e"} & set(shown.stdout)
    as_json = run_vsa(home, "history", "list", "--json")
    assert json.loads(as_json.stdout.splitlines()[0])["excerpt"].startswith("title \x1b]0;")


def test_durations_are_bounded(outcomes: dict[str, hc.Outcome]) -> None:
    slowest = max(o.seconds for k, o in outcomes.items() if not k.startswith("_"))
    assert slowest < hc.CASE_TIMEOUT_S
    if os.environ.get("VSA_HOSTILE_REPORT"):
        for name, out in sorted(outcomes.items()):
            if not name.startswith("_"):
                print(f"{name:28} {out.returncode:3} {out.seconds:6.2f} s")


SCRUB_CHILD = """
import logging, sys
import httpx
from vsa_desktop.cli import _setup_logging

_setup_logging(True)
url, key, basic = sys.argv[1:4]
logging.getLogger("vsa_desktop.core.vision.detail").info("detail: Authorization: Basic %s", basic)
logging.getLogger("some.library").warning("headers %r", {"authorization": "Bearer " + key})
try:
    httpx.get(url, timeout=5)  # httpx's own INFO line names the URL, user-info and all
except httpx.HTTPError as exc:
    logging.getLogger("x").error("failed %s", exc, exc_info=True)
"""


def test_log_records_of_every_logger_are_scrubbed(tmp_path: Path) -> None:
    """The CLI's logging hides URL user-info and Authorization values, third-party too."""
    import subprocess
    import sys

    basic = base64.b64encode(f"user:{KEY}".encode()).decode()
    with FakeGroq() as server:
        url = server.base_url.replace("http://", f"http://user:{KEY}@") + "/openai/v1/models"
        p = subprocess.run(
            [sys.executable, "-c", SCRUB_CHILD, url, KEY, basic],
            env=hc.base_env(),
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert server.requests, "the request did not reach the server"
    assert p.returncode == 0, p.stderr
    assert "INFO httpx: HTTP Request: GET http://[hidden]@127.0.0.1:" in p.stderr
    assert "Authorization: Basic [hidden]" in p.stderr and "Bearer [hidden]" in p.stderr
    assert KEY not in p.stderr and basic not in p.stderr
