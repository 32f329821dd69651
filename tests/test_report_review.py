"""``vsa report`` on hand-made JSONL lines: the trend's empty periods, the disagreement
count, the column options' errors and the way rows are named."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from pathlib import Path

from matplotlib.dates import date2num

from tests.cli_runner import run_vsa
from vsa_desktop.cli import exitcodes
from vsa_desktop.core.batch_report import collect
from vsa_desktop.core.batch_report_charts import trend_figure


def line(
    i: int,
    *,
    verdict: str = "consistent",
    extra: dict[str, str] | None = None,
    text: str = "happy",
    image: str = "happy",
) -> str:
    """One ``vsa.result/1`` batch line with the given verdict and input columns."""
    doc = {
        "schema": "vsa.result/1",
        "id": f"r{i}",
        "created_at": "2026-11-01T00:00:00Z",
        "mode": "multimodal",
        "input": {"text": f"post {i}", "image": {"name": f"i{i}.png"}},
        "text": {"model": "m", "runtime": "numpy", "label": text, "scores": {}},
        "vision": {"backend": "local", "model": "f", "label": image, "scores": {}},
        "fusion": {
            "label": text,
            "confidence": 0.5,
            "rule": "product",
            "scores": {},
            "agreement": {"same_label": text == image, "score": 0.1 * i, "verdict": verdict},
        },
        "batch": {"key": f"{i + 1}:abcdef012345", "status": "ok", "extra": extra or {}},
    }
    return json.dumps(doc) + "\n"


def test_the_trend_has_every_day_and_an_empty_day_is_drawn_at_zero() -> None:
    days = ["2026-10-01", "2026-10-01", "2026-10-05"]
    lines = [line(i, extra={"day": d}) for i, d in enumerate(days)]
    data = collect(lines, time_column="day")
    period, points = data.trend()
    assert period == "day"
    assert [m.day for m, _c in points] == [1, 2, 3, 4, 5]
    assert [sum(c.values()) for _m, c in points] == [2, 0, 0, 0, 1]
    ax = trend_figure(data).axes[0]
    paths = [p for coll in ax.collections for p in coll.get_paths()]

    def drawn(day: int, height: float) -> bool:
        x = date2num(datetime(2026, 10, day, 12, tzinfo=UTC))
        return any(p.contains_point((x, height)) for p in paths)

    assert drawn(1, 1.5) and drawn(5, 0.5)  # each period as wide as itself
    assert not any(drawn(day, 0.2) for day in (2, 3, 4))  # no slope, no block, on empty days
    assert not drawn(1, 2.5) and not drawn(5, 1.5)  # never above the day's count


def test_a_stray_date_makes_the_trend_yearly_not_a_hundred_thousand_months() -> None:
    lines = [line(0, extra={"day": "0001-01-01"}), line(1, extra={"day": "2026-03-04"})]
    period, points = collect(lines, time_column="day").trend()
    assert period == "year" and len(points) == 2026
    assert sum(sum(c.values()) for _m, c in points) == 2


VERDICT_ROWS = [
    ("consistent", "happy", "happy"),
    ("consistent", "sad", "sad"),
    ("mixed", "sad", "fear"),
    ("mixed", "happy", "surprise"),
    ("divergent", "angry", "happy"),
]


def verdict_lines() -> list[str]:
    return [line(i, verdict=v, text=t, image=m) for i, (v, t, m) in enumerate(VERDICT_ROWS)]


def test_the_header_counts_the_mixed_and_divergent_verdicts_under_one_name() -> None:
    from vsa_desktop.core.batch_report_html import report_html
    from vsa_desktop.core.batch_report_pdf import _mixed_pages, _summary_page

    data = collect(verdict_lines())
    assert data.verdicts["mixed"] == 2 and data.verdicts["divergent"] == 1
    page = report_html(data)
    card = re.search(r'data-stat="mixed"><b>([\d,]+)</b>([^<]*)<', page)
    assert card is not None
    assert int(card[1]) == data.verdicts["mixed"] + data.verdicts["divergent"] == 3
    assert card[2] == "text and image disagree"
    assert "<h2>Channels disagree: worth reading</h2>" in page
    assert "3 readings have a text and an image that name different emotions" in page
    assert "mixed signals worth reading" not in page.lower()  # the verdict's name stays its own
    assert re.search(r'data-verdict="mixed"><th>Mixed signals</th><td class="n">2<', page)
    pdf_words = " ".join(t.get_text() for t in _summary_page(data).texts)
    assert "3 readings where text and image disagree" in pdf_words
    assert "mixed signals" not in pdf_words.lower()
    pdf_list = " ".join(t.get_text() for t in _mixed_pages(data, {})[0].texts)
    assert pdf_list.startswith("Channels disagree: worth reading")


def test_the_cli_and_the_window_say_the_same_count(tmp_path: Path) -> None:
    from vsa_desktop.gui.report_view import _summary_of

    jsonl = tmp_path / "out.jsonl"
    jsonl.write_text("".join(verdict_lines()), encoding="utf-8")
    done = run_vsa(tmp_path / "home", "report", str(jsonl), "--out", str(tmp_path / "r.html"))
    assert done.returncode == exitcodes.OK, done.stderr
    assert "5 readings, 0 failed, 3 readings where text and image disagree." in done.stdout
    said = _summary_of(collect(verdict_lines()))
    assert said == "5 rows: 5 readings, 0 failed, 3 readings where text and image disagree."


def test_time_on_a_column_without_dates_says_so_with_an_escaped_example(tmp_path: Path) -> None:
    jsonl = tmp_path / "out.jsonl"
    kinds = ["\x1b[31mred", "blue"]
    jsonl.write_text(
        "".join(line(i, extra={"colour": kinds[i % 2]}) for i in range(4)), encoding="utf-8"
    )
    done = run_vsa(
        tmp_path / "home",
        "report",
        str(jsonl),
        "--time",
        "colour",
        "--out",
        str(tmp_path / "r.html"),
    )
    assert done.returncode == exitcodes.OK, done.stderr
    assert "--time colour: its values are not dates or times (e.g. '\\x1b[31mred')" in done.stderr
    assert "\x1b" not in done.stderr and "no row has a value" not in done.stderr


def test_a_misspelt_column_is_a_usage_error_naming_the_columns(tmp_path: Path) -> None:
    jsonl = tmp_path / "out.jsonl"
    jsonl.write_text(
        "".join(line(i, extra={"account": "a", "posted_at": "2026-10-01"}) for i in range(3)),
        encoding="utf-8",
    )
    for option in ("--by", "--time"):
        out = tmp_path / f"r{option}.html"
        done = run_vsa(tmp_path / "home", "report", str(jsonl), option, "nope", "--out", str(out))
        assert done.returncode == exitcodes.USAGE, done.stderr
        assert len(done.stderr.strip().splitlines()) == 1 and "Traceback" not in done.stderr
        assert f"{option} nope: no row has that column; the columns are account, posted_at." in (
            done.stderr
        )
        assert not out.exists()
    done = run_vsa(tmp_path / "home", "report", str(jsonl), "--by", "account", "--time",
                   "posted_at", "--out", str(tmp_path / "ok.html"))  # fmt: skip
    assert done.returncode == exitcodes.OK and not done.stderr.strip(), done.stderr


def failure_line(number: int, extra: dict[str, str] | None = None) -> str:
    """One ``vsa.batch-failure/1`` line for the table row ``number`` (1-based)."""
    error = {"kind": "image", "message": "The image x.png does not exist."}
    batch = {"key": f"{number}:20509571ff33", "status": "failed", "error": error}
    return json.dumps({"schema": "vsa.batch-failure/1", "batch": {**batch, "extra": extra or {}}})


def test_one_of_a_kind_is_singular_in_the_report() -> None:
    from vsa_desktop.core.batch_report_html import report_html
    from vsa_desktop.core.batch_report_pdf import _breakdown_page

    lines = [
        line(0, extra={"day": "2026-10-01", "account": "a"}),
        line(1, extra={"day": "soon", "account": "a"}),
        failure_line(3),
        "not json\n",
    ]
    data = collect(lines, group_column="account", time_column="day")
    page = report_html(data)
    for said in ("1 row has no readable date there.", "1 line that is not a batch row was "
                 "skipped", "failed row</div>", "1 distinct value."):  # fmt: skip
        assert said in page, said
    for wrong in ("1 rows", "1 lines", "1 failed rows", "1 results"):
        assert wrong not in page, wrong
    words = " ".join(t.get_text() for t in _breakdown_page(data).texts)  # type: ignore[union-attr]
    assert "Over time (day): 1 hour (UTC)." in words and "1 distinct value." in words


def test_one_of_a_kind_is_singular_in_the_batch_messages() -> None:
    import io

    from vsa_desktop.cli.batch import print_summary
    from vsa_desktop.core.batch import BatchSummary
    from vsa_desktop.gui.batch_dialog import summary_sentence

    one = BatchSummary(total=1, done=1, skipped=1, partial=1, failures=[("2:ab", "gone")])
    stream = io.StringIO()
    print_summary(one, stream)
    said = stream.getvalue() + summary_sentence(one)
    assert "1 item was read from the text alone: its image was not found" in said
    assert "1 was already done" in said and "1 was read from the text alone (image missing)" in said
    assert "The failed row is in the results with its reason; Resume tries it again." in said
    for wrong in ("1 items", "1 were", "1 results", "1 failed rows", "Failed rows are"):
        assert wrong not in said, wrong
    many = BatchSummary(
        total=3, done=2, skipped=2, partial=2, failures=[("1:a", "x"), ("2:b", "y")]
    )
    stream = io.StringIO()
    print_summary(many, stream)
    said = stream.getvalue() + summary_sentence(many)
    assert "2 items were read from the text alone: their images were not found" in said
    assert "2 were already done" in said and "Failed rows are in the results" in said


def test_rows_are_named_by_number_and_id_not_by_their_key(tmp_path: Path) -> None:
    import io

    from vsa_desktop.cli.batch import failed_row_names, print_summary
    from vsa_desktop.core.batch import BatchSummary, read_items
    from vsa_desktop.core.batch_input import row_name
    from vsa_desktop.core.batch_report_html import report_html

    source = tmp_path / "posts.csv"
    source.write_text("id,text,image\na1,hi,\na4,so sad,../away.png\n", encoding="utf-8")
    no_id = tmp_path / "plain.csv"
    no_id.write_text("text,image\nhi,\nso sad,../away.png\n", encoding="utf-8")
    for path, name in ((source, "row 2 (id a4)"), (no_id, "row 2")):
        items, _extra = read_items(path)
        summary = BatchSummary(total=2, failures=[(items[1].key, items[1].problem or "")])
        stream = io.StringIO()
        print_summary(summary, stream, failed_row_names(summary, items))
        assert f"  failed {name}: The image ../away.png lies outside" in stream.getvalue()
        assert items[1].key not in stream.getvalue()
    assert row_name("photo.png") == "photo.png"  # a folder's item is its file name
    data = collect([line(0, verdict="divergent", text="sad", image="happy", extra={"id": "a4"})])
    assert "i0.png · row 1 (id a4)</div>" in report_html(data)
    assert "1:abcdef012345</div>" not in report_html(data)
