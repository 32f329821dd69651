"""An explained result in exports: the CSV's top words, the highlighted text in reports."""

from __future__ import annotations

import csv
import dataclasses
import io
from pathlib import Path

from matplotlib.colors import to_hex

from tests.helpers_results import make_result
from vsa_desktop.core.explain import explain_result
from vsa_desktop.core.explain.highlight import EMOTION_STYLE
from vsa_desktop.core.explanation import Span
from vsa_desktop.core.export import CSV_COLUMNS, export_results, result_to_row, top_words
from vsa_desktop.core.report import captioned_figure, report_page
from vsa_desktop.core.text.lite import load_lite

HATE = "I hate this, it is disgusting"


def _explained(text: str = HATE):
    lite = load_lite()
    reading = lite.analyze(text)
    result = make_result(reading.scores, {"happy": 3, "neutral": 1}, text=text)
    result = dataclasses.replace(result, text=dataclasses.replace(result.text, model=lite.model_id))
    return explain_result(result, analyzer=lite)


def test_csv_has_the_labels_top_words_only_when_explained(tmp_path: Path) -> None:
    explained = _explained()
    plain = make_result({"sad": 2}, text="plain")
    out = export_results([explained, plain], tmp_path / "r.csv")
    with out.open(encoding="utf-8-sig", newline="") as f:
        rows = list(csv.DictReader(f))
    words = rows[0]["text_top_words"].split("; ")
    assert 1 <= len(words) <= 3 and words[0].startswith("disgusting +")
    assert [w.split(" ")[0] for w in words] == [s.text for s in explained.text.explanation.top(3)]
    assert rows[1]["text_top_words"] == "" and top_words(plain) is None


def test_top_words_that_look_like_formulas_are_defused() -> None:
    explained = _explained()
    explanation = explained.text.explanation
    hostile = Span(0, 4, "=cmd", 99.0)  # a first word a spreadsheet would run as a formula
    text = dataclasses.replace(
        explained.text,
        explanation=dataclasses.replace(explanation, spans=(hostile, *explanation.spans)),
    )
    row = result_to_row(dataclasses.replace(explained, text=text))
    cell = row[list(CSV_COLUMNS).index("text_top_words")]
    assert cell.startswith("'=cmd +99.00; disgusting +")


def _marks(figure) -> list[str]:
    found = []
    for sub in [figure, *figure.subfigs]:
        for ax in sub.axes:
            found += [p.get_gid() for p in ax.patches if (p.get_gid() or "").startswith("mark:")]
    return found


def test_png_and_pdf_pages_show_the_highlighted_text() -> None:
    explained = _explained()
    for figure in (captioned_figure(explained), report_page(explained)):
        assert "mark:disgust" in _marks(figure)
        titles = [t.get_text() for s in figure.subfigs for t in s.texts]
        assert any(t.startswith("Why this reading") for t in titles)
        buffer = io.BytesIO()
        figure.savefig(buffer, format="svg")
        svg = buffer.getvalue().decode()
        assert to_hex(EMOTION_STYLE["disgust"]["color"]).lower()[1:] in svg.lower()


def test_an_unexplained_result_has_no_highlight_block() -> None:
    plain = make_result({"sad": 2}, {"happy": 1}, text="plain words")
    for figure in (captioned_figure(plain), report_page(plain)):
        assert _marks(figure) == []
        assert not any(t.get_text().startswith("Why") for s in figure.subfigs for t in s.texts)
