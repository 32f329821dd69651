"""Exported charts stand alone: captions under PNG/SVG charts, the PDF report, the time axis."""

from __future__ import annotations

import io
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from matplotlib.dates import num2date
from PIL import Image

from tests.helpers_results import make_result
from vsa_desktop.core import verdict
from vsa_desktop.core.charts import history_figure
from vsa_desktop.core.export import chart_figures, export_results
from vsa_desktop.core.report import caption_lines, printable, report_pages
from vsa_desktop.core.result import AnalysisResult, ImageInfo


def thumbnail_jpeg() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (96, 128), (200, 30, 30)).save(buffer, format="JPEG")
    return buffer.getvalue()


def with_image(result: AnalysisResult, name: str = "beach.jpg") -> AnalysisResult:
    import dataclasses

    image = ImageInfo(name=name, sha256="ab" * 32, width=640, height=480)
    return dataclasses.replace(result, image=image)


def sample() -> AnalysisResult:
    return with_image(
        make_result(
            {"happy": 6, "sad": 2, "neutral": 1},
            {"happy": 3, "fear": 1},
            text="Finally on the beach, best holiday ever 🙂",
        )
    )


def svg_text(data: bytes) -> str:
    return " ".join(re.sub(r"<[^>]+>", " ", data.decode("utf-8")).split())


def test_svg_caption_carries_the_context(tmp_path: Path):
    result = sample()
    out = export_results([result], tmp_path / "r.svg")
    text = svg_text(out.read_bytes())
    assert "Finally on the beach, best holiday ever ▯" in text  # the emoji has no glyph here
    assert "beach.jpg (640×480)" in text
    assert result.id in text
    assert result.created_at[:10] in text and "UTC" in text
    assert result.text.model in text and result.vision.backend in text
    assert verdict.agreement_sentence(result) in text
    fusion = result.fusion
    assert verdict.confidence_sentence(fusion).split(",")[0] in text
    assert ("raw scores, not calibrated" in text) == (not result.text.calibrated)
    bare = svg_text(export_results([result], tmp_path / "bare.svg", caption=False).read_bytes())
    assert result.id not in bare and "beach.jpg" not in bare


def _red_pixels(image: Image.Image) -> int:
    import numpy as np

    rgb = np.asarray(image.convert("RGB")).astype(int)
    return int(((rgb[..., 0] > 180) & (rgb[..., 1] < 60) & (rgb[..., 2] < 60)).sum())


def test_png_caption_shows_the_thumbnail(tmp_path: Path):
    result = sample()
    with_thumb = export_results(
        [result], tmp_path / "t.png", thumbnails={result.id: thumbnail_jpeg()}
    )
    without = export_results([result], tmp_path / "n.png")
    with Image.open(with_thumb) as a, Image.open(without) as b:
        assert a.size == b.size
        red, red_b = _red_pixels(a), _red_pixels(b)
    assert red > 5_000 and red_b < 500  # the red thumbnail is drawn beside the caption


def test_long_texts_are_cut_in_the_caption_with_their_length():
    result = make_result({"sad": 1}, text="word " * 2_000)
    lines = caption_lines(result)
    text_lines = [ln for ln in lines if ln.startswith(("Text:", " ")) or "word" in ln]
    assert len(text_lines) <= 3
    assert "(9,999 characters in all)" in " ".join(lines)


def test_pdf_single_result_is_one_report_page(tmp_path: Path):
    result = sample()
    (page,) = report_pages([result])
    texts = " ".join(t.get_text() for t in page.findobj(lambda o: hasattr(o, "get_text")))
    assert "VSA Desktop — emotion reading" in texts and result.id in texts
    assert verdict.agreement_sentence(result) in texts
    out = export_results([result], tmp_path / "r.pdf")
    assert len(re.findall(rb"/Type /Page\b", out.read_bytes())) == 1


def test_pdf_several_results_summary_first_then_one_page_each(tmp_path: Path):
    results = [sample(), make_result({"angry": 3}, text="Stop it."), sample()]
    pages = chart_figures(results, "pdf", True, {})
    assert len(pages) == 4
    first = " ".join(t.get_text() for t in pages[0].findobj(lambda o: hasattr(o, "get_text")))
    assert "History: 3 analyses" in first and "one page per result follows" in first
    for page, result in zip(pages[1:], results, strict=True):
        words = " ".join(t.get_text() for t in page.findobj(lambda o: hasattr(o, "get_text")))
        assert result.id in words
    out = export_results(results, tmp_path / "all.pdf")
    assert len(re.findall(rb"/Type /Page\b", out.read_bytes())) == 4


def _at(result: AnalysisResult, moment: datetime) -> AnalysisResult:
    import dataclasses

    return dataclasses.replace(result, created_at=moment.isoformat())


@pytest.mark.parametrize(
    ("gap", "widest"),
    [(timedelta(seconds=3), timedelta(minutes=2)), (timedelta(days=2), timedelta(days=5))],
)
def test_agreement_axis_spans_the_data(gap: timedelta, widest: timedelta):
    start = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)
    base = make_result({"happy": 2, "sad": 1}, {"sad": 1, "happy": 1})
    items = [_at(base, start + i * gap) for i in range(3)]
    figure = history_figure(items)
    trend = figure.axes[1]
    low, high = (num2date(x) for x in trend.get_xlim())
    assert low <= start and high >= start + 2 * gap
    assert high - low <= widest  # not years around a few seconds
    ticks = [num2date(x) for x in trend.get_xticks()]
    assert all(low <= t <= high for t in ticks) and len(ticks) >= 2


def test_printable_keeps_what_the_font_has():
    assert printable("ça va, été — “ok” 🙂") == "ça va, été — “ok” ▯"


def test_cli_charts_have_captions_unless_no_caption(vsa_home: Path, tiny_model_dir: Path, tmp_path):
    import json

    from tests.cli_runner import run_vsa

    text = "We finally made it to the summit!"
    chart, bare = tmp_path / "a.svg", tmp_path / "b.svg"
    done = run_vsa(
        vsa_home,
        "analyze",
        "--text",
        text,
        "--text-model",
        str(tiny_model_dir),
        "--chart",
        str(chart),
    )
    assert done.returncode == 0, done.stderr
    result_id = json.loads(done.stdout)["id"]
    assert text in svg_text(chart.read_bytes()) and result_id in svg_text(chart.read_bytes())
    done = run_vsa(vsa_home, "export", result_id[:8], "--out", str(bare), "--no-caption")
    assert done.returncode == 0, done.stderr
    assert text not in svg_text(bare.read_bytes())
    again = run_vsa(
        vsa_home,
        "analyze",
        "--text",
        text,
        "--text-model",
        str(tiny_model_dir),
        "--chart",
        str(tmp_path / "c.svg"),
        "--no-caption",
    )
    assert again.returncode == 0 and text not in svg_text((tmp_path / "c.svg").read_bytes())


def test_cli_chart_shows_the_photo_and_never_replaces_a_file_unasked(
    vsa_home: Path, tiny_model_dir: Path, tmp_path: Path
):
    """`vsa analyze --chart` puts the photo's thumbnail in the caption (as `vsa export` does)
    and, like every other writer, refuses an existing file without --overwrite (exit 2)."""
    from tests.cli_runner import run_vsa

    photo = tmp_path / "red.png"
    Image.new("RGB", (64, 64), (200, 30, 30)).save(photo)
    chart, bare = tmp_path / "c.png", tmp_path / "bare.png"
    base = ("analyze", "--text", "A red day", "--text-model", str(tiny_model_dir), "--image")
    args = (*base, str(photo), "--vision", "local", "--offline", "--no-history")
    done = run_vsa(vsa_home, *args, "--chart", str(chart))
    assert done.returncode == 0, done.stderr
    done = run_vsa(vsa_home, *args, "--chart", str(bare), "--no-caption")
    assert done.returncode == 0, done.stderr
    with Image.open(chart) as a, Image.open(bare) as b:
        assert _red_pixels(a) > 1_000 and _red_pixels(b) < 100
    before = chart.read_bytes()
    again = run_vsa(vsa_home, *args, "--chart", str(chart))
    assert again.returncode == 2 and "--overwrite" in again.stderr and again.stdout == ""
    assert chart.read_bytes() == before
    replaced = run_vsa(vsa_home, *args, "--chart", str(chart), "--overwrite")
    assert replaced.returncode == 0, replaced.stderr


def test_only_the_pdf_summary_promises_pages_that_follow(tmp_path: Path):
    from matplotlib.text import Text

    from vsa_desktop.core.report import report_pages

    results = [sample(), with_image(sample())]
    svg = export_results(results, tmp_path / "two.svg")
    assert "analyses from" in svg_text(svg.read_bytes())
    assert "follows" not in svg_text(svg.read_bytes())  # one image: nothing follows it
    first = report_pages(results)[0]
    words = " ".join(t.get_text() for t in first.findobj(Text))
    assert "one page per result follows" in words
