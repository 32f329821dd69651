"""``vsa report``: the numbers in the HTML report are the JSONL's, the page is inert, big files
stream, thumbnails stay inside their folder, the PDF renders."""

from __future__ import annotations

import csv
import json
import re
import shutil
import tracemalloc
from collections import Counter
from html.parser import HTMLParser
from pathlib import Path

import pytest

from tests.cli_runner import run_vsa
from tests.conftest import DATA, SHARED
from vsa_desktop.cli import exitcodes
from vsa_desktop.core.batch import BatchOutputs, RequestTemplate, read_items, run_batch
from vsa_desktop.core.batch_report import collect, collect_file
from vsa_desktop.core.history import HistoryStore
from vsa_desktop.core.pipeline import AnalysisRequest

TRAIN_TSV = SHARED / "data" / "goemotions-ekman" / "train.tsv"
FER_TRAIN = SHARED / "data" / "fer2013" / "train"
HOSTILE_TEXT = '<img src=x onerror=alert(1)> </textarea><script>alert("t")</script>'
HOSTILE_GROUP = '<script>alert("g")</script>'
ACCOUNTS = ["@acme", "@acme_help", HOSTILE_GROUP, "brand $x$"]


def texts(n: int) -> list[str]:
    if not TRAIN_TSV.exists():
        pytest.skip(f"{TRAIN_TSV} is not here")
    with TRAIN_TSV.open(encoding="utf-8") as f:
        return [line.split("\t")[0] for _, line in zip(range(n), f, strict=False)]


def faces(folder: Path, n: int) -> list[str]:
    folder.mkdir(parents=True)
    names = []
    if FER_TRAIN.is_dir():
        sources = [p for sub in sorted(FER_TRAIN.iterdir()) for p in sorted(sub.iterdir())[:8]]
    else:
        sources = [DATA / "astronaut.png"] * n
    for i, source in enumerate(sources[:n]):
        shutil.copy(source, folder / f"face{i}{source.suffix}")
        names.append(f"img/face{i}{source.suffix}")
    return names


@pytest.fixture(scope="module")
def batch_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A real batch (lite text, local faces) of 240 posts with accounts and dates.

    Returns the results JSONL and the history file that kept the thumbnails.
    """
    folder = tmp_path_factory.mktemp("posts")
    words = texts(240)
    images = faces(folder / "img", 40)
    rows = []
    for i, text in enumerate(words):
        rows.append(
            {
                "id": f"p{i}",
                "account": ACCOUNTS[i % len(ACCOUNTS)],
                "posted_at": f"2026-10-{1 + i % 20:02d}T{i % 24:02d}:30:00Z",
                "text": HOSTILE_TEXT if i == 5 else text,
                "image": images[i // 6] if i % 6 == 0 else "",
            }
        )
    rows.append({"id": "x", "account": "@acme", "posted_at": "", "text": "", "image": "gone.png"})
    source = folder / "posts.csv"
    with source.open("w", encoding="utf-8", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    items, extra = read_items(source)
    jsonl = folder / "out.jsonl"
    history = folder / "history.sqlite3"
    template = RequestTemplate(
        AnalysisRequest(text_model="builtin:lite", vision="local", offline=True)
    )
    with HistoryStore(history) as store:
        run_batch(items, BatchOutputs(jsonl, None, extra), template, history=store)
    return jsonl, history


def docs(jsonl: Path) -> list[dict]:
    return [json.loads(line) for line in jsonl.read_text(encoding="utf-8").splitlines()]


class Tables(HTMLParser):
    """Reads the report's tables and items back: rows by their data-* attribute."""

    def __init__(self) -> None:
        super().__init__()
        self.table: str | None = None
        self.rows: dict[str, dict[str, list[str]]] = {}
        self.row: list[str] | None = None
        self.row_key = ""
        self.cell: list[str] | None = None
        self.items: list[dict[str, str]] = []
        self.tags: Counter[str] = Counter()
        self.attrs: list[tuple[str, str, str | None]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags[tag] += 1
        a = dict(attrs)
        self.attrs += [(tag, k, v) for k, v in attrs]
        if tag == "table":
            self.table = a.get("id") or ""
            self.rows[self.table] = {}
        elif tag == "tr" and self.table is not None:
            keys = [v for k, v in attrs if k.startswith("data-") and v is not None]
            self.row_key = "/".join(keys)
            self.row = []
        elif tag in ("td", "th") and self.row is not None:
            self.cell = []
        elif tag == "li" and "data-key" in a:
            self.items.append({k: v or "" for k, v in attrs})

    def handle_endtag(self, tag: str) -> None:
        if tag in ("td", "th") and self.cell is not None and self.row is not None:
            self.row.append("".join(self.cell).strip())
            self.cell = None
        elif tag == "tr" and self.row is not None and self.table is not None:
            if self.row_key:
                self.rows[self.table][self.row_key] = self.row
            self.row = None
        elif tag == "table":
            self.table = None

    def handle_data(self, data: str) -> None:
        if self.cell is not None:
            self.cell.append(data)


def number(cell: str) -> int:
    return int(cell.replace(",", ""))


def read_report(path: Path) -> Tables:
    parser = Tables()
    parser.feed(path.read_text(encoding="utf-8"))
    return parser


def test_the_html_reports_numbers_are_the_jsonls(
    batch_run: tuple[Path, Path], tmp_path: Path
) -> None:
    jsonl, _history = batch_run
    out = tmp_path / "r.html"
    home = tmp_path / "home"
    done = run_vsa(
        home, "report", str(jsonl), "--by", "account", "--time", "posted_at", "--out", str(out)
    )
    assert done.returncode == exitcodes.OK, done.stderr
    rows = docs(jsonl)
    results = [d for d in rows if d["schema"] == "vsa.result/1"]
    assert len(rows) == 241 and len(results) == 240
    page = read_report(out)

    fused = Counter(d["fusion"]["label"] for d in results)
    for label, cells in page.rows["fused-counts"].items():
        assert number(cells[1]) == fused.get(label, 0), label
    assert sum(number(c[1]) for c in page.rows["fused-counts"].values()) == 240

    def verdict(d: dict) -> str:
        agreement = d["fusion"]["agreement"]
        return agreement["verdict"] if agreement else "one channel"

    verdicts = Counter(verdict(d) for d in results)
    for key, cells in page.rows["verdict-shares"].items():
        assert number(cells[1]) == verdicts.get(key, 0), key
    vision = Counter(d["vision"]["label"] for d in results if d["vision"])
    for label, n in vision.items():
        column = ["happy", "sad", "angry", "fear", "surprise", "disgust", "neutral"].index(label)
        assert number(page.rows["channel-table"]["vision/labels"][1 + column]) == n

    by_account: dict[str, Counter[str]] = {}
    for d in results:
        by_account.setdefault(d["batch"]["extra"]["account"], Counter())[d["fusion"]["label"]] += 1
    assert set(page.rows["group-counts"]) == set(by_account)  # the hostile name comes back as text
    for name, cells in page.rows["group-counts"].items():
        assert number(cells[1]) == sum(by_account[name].values())
        assert number(cells[2]) == by_account[name]["happy"]

    trend = page.rows["trend-counts"]
    assert len(trend) == 20 and sum(number(c[1]) for c in trend.values()) == 240  # per day

    mixed = sorted(
        (d for d in results if verdict(d) in ("mixed", "divergent")),
        key=lambda d: d["fusion"]["agreement"]["score"],
    )
    shown = page.items
    assert len(shown) == min(20, len(mixed)) and mixed, "no mixed-signal item to show"
    assert [float(i["data-agreement"]) for i in shown] == pytest.approx(
        [d["fusion"]["agreement"]["score"] for d in mixed[: len(shown)]], abs=1e-4
    )
    assert "data:image/jpeg;base64," in out.read_text(encoding="utf-8")  # thumbnails inline


def test_the_html_report_is_inert_and_self_contained(
    batch_run: tuple[Path, Path], tmp_path: Path
) -> None:
    jsonl, _ = batch_run
    out = tmp_path / "r.html"
    done = run_vsa(tmp_path / "home", "report", str(jsonl), "--by", "account", "--out", str(out))
    assert done.returncode == exitcodes.OK, done.stderr
    page = read_report(out)
    html = out.read_text(encoding="utf-8")
    assert page.tags["script"] == 0 and page.tags["img"] > 0 and page.tags["svg"] >= 4
    assert all(not k.startswith("on") for _tag, k, _v in page.attrs), "an event handler got in"
    links = [v for _t, k, v in page.attrs if k in ("src", "href") and v]
    assert all(v.startswith("data:") for v in links), links
    assert "default-src 'none'" in html
    names = re.sub(r'xmlns(:\w+)?="[^"]*"', "", html)  # XML namespace names fetch nothing
    assert "http://" not in names and "https://" not in names
    assert "&lt;script&gt;alert(&quot;g&quot;)&lt;/script&gt;" in html
    assert "&lt;img src=x onerror=alert(1)&gt;" in html or HOSTILE_TEXT not in html


def test_the_pdf_report_renders_every_section(batch_run: tuple[Path, Path], tmp_path: Path) -> None:
    jsonl, _ = batch_run
    out = tmp_path / "r.pdf"
    done = run_vsa(
        tmp_path / "home", "report", str(jsonl), "--by", "account", "--time", "posted_at",
        "--out", str(out),
    )  # fmt: skip
    assert done.returncode == exitcodes.OK, done.stderr
    data = out.read_bytes()
    assert data.startswith(b"%PDF-") and data.rstrip().endswith(b"%%EOF")
    pages = data.count(b"/Type /Page\n") + data.count(b"/Type /Page ") + data.count(b"/Type /Page>")
    # summary, channels, 3 pages of 20 one-line mixed items (7 + 8 + 5), breakdown, models
    assert pages == 7, pages


def test_pdf_mixed_pages_fill_down_to_the_margin_and_never_past_it() -> None:
    from matplotlib.text import Text

    from vsa_desktop.core.batch_report import MixedItem, ReportData
    from vsa_desktop.core.batch_report_pdf import BOTTOM, _mixed_pages

    def item(i: int, words: int) -> MixedItem:
        text = " ".join(["terrified"] * words)
        return MixedItem(f"{i}:k", f"id{i}", text, "a.png", "", "a.png", "fear", "happy",
                         "fear", 0.5, 0.01, "divergent")  # fmt: skip

    short = _mixed_pages(ReportData(mixed=[item(i, 3) for i in range(20)], mixed_total=20), {})
    long = _mixed_pages(ReportData(mixed=[item(i, 80) for i in range(20)], mixed_total=20), {})
    assert len(short) == 3 and len(long) > len(short)
    for page in short + long:
        lowest = min(t.get_position()[1] for t in page.findobj(Text) if t.get_text())
        assert lowest >= BOTTOM


def test_thumbnails_come_from_the_file_inside_the_folder_else_from_history(
    batch_run: tuple[Path, Path], tmp_path: Path
) -> None:
    from vsa_desktop.core.batch_report_images import thumbnails

    jsonl, history = batch_run
    data = collect_file(jsonl, top=5)
    items = data.mixed
    assert items and all(i.image_ref for i in items)
    from_files = thumbnails(items, jsonl.parent, False, None)
    assert set(from_files) == {i.key for i in items}
    elsewhere = tmp_path / "elsewhere"  # the images are not there: history has them
    elsewhere.mkdir()
    assert thumbnails(items, elsewhere, False, None) == {}
    from_history = thumbnails(items, elsewhere, False, history)
    assert set(from_history) == {i.key for i in items}
    with HistoryStore(history) as store:
        assert from_history[items[0].key] == store.thumbnail(items[0].result_id)
    import dataclasses

    escaping = [dataclasses.replace(items[0], image_ref="../" + items[0].image_ref)]
    other = jsonl.parent / "other"  # ../img/... from here leads out of it
    other.mkdir(exist_ok=True)
    assert thumbnails(escaping, other, False, None) == {}  # refused: outside the folder
    assert set(thumbnails(escaping, other, True, None)) == {items[0].key}


def test_a_big_jsonl_streams(tmp_path: Path) -> None:
    """60,000 rows counted with a few MB: the rows are never held at once."""
    labels = ["happy", "sad", "angry", "fear", "surprise", "disgust", "neutral"]
    line = (
        '{"schema":"vsa.result/1","id":"r%d","created_at":"2026-11-01T00:00:00Z",'
        '"mode":"multimodal","input":{"text":"post %d","image":{"name":"i.png"}},'
        '"text":{"model":"m","runtime":"numpy","label":"%s","scores":{}},'
        '"vision":{"backend":"local","model":"f","label":"%s","scores":{}},'
        '"fusion":{"label":"%s","confidence":0.5,"rule":"product","scores":{},'
        '"agreement":{"same_label":false,"score":%f,"level":"mixed","verdict":"mixed"}},'
        '"batch":{"key":"%d","status":"ok","extra":{"account":"a%d","day":"2026-10-%02d"}}}\n'
    )
    n = 60_000

    def lines():
        for i in range(n):
            a, b = labels[i % 7], labels[(i + 1) % 7]
            yield line % (i, i, a, b, a, (i % 1000) / 1000, i, i % 50, 1 + i % 28)

    tracemalloc.start()
    data = collect(lines(), group_column="account", time_column="day", top=20)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert data.results == n and data.fused["happy"] == n // 7 + (n % 7 > 0)
    assert len(data.by_group) == 50 and sum(data.verdicts.values()) == n
    assert [round(i.agreement, 3) for i in data.mixed] == [0.0] * 20
    assert peak < 12 * 2**20, f"peak {peak / 2**20:.1f} MB"  # the lines alone are ~33 MB


def test_bad_inputs_are_one_sentence_and_exit_2(tmp_path: Path) -> None:
    home = tmp_path / "home"
    notes = tmp_path / "notes.jsonl"
    notes.write_text('{"a": 1}\nnot json\n', encoding="utf-8")
    for args, words in (
        ([str(notes), "--out", str(tmp_path / "r.html")], "holds no vsa batch rows"),
        ([str(tmp_path / "nope.jsonl"), "--out", str(tmp_path / "r.html")], "does not exist"),
        ([str(notes), "--out", str(tmp_path / "r.docx")], "ending in .html or .pdf"),
        ([str(tmp_path), "--out", str(tmp_path / "r.html")], "is a folder"),
    ):
        done = run_vsa(home, "report", *args)
        assert done.returncode == exitcodes.USAGE, (args, done.stderr)
        assert words in done.stderr and "Traceback" not in done.stderr
        assert len(done.stderr.strip().splitlines()) == 1
