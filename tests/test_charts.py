"""Tests of the chart figures: bar heights read back, titles, history trend, PNG rendering."""

from __future__ import annotations

import io
import itertools
import subprocess
import sys

import pytest
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.container import BarContainer
from matplotlib.figure import Figure
from PIL import Image

from tests.helpers_results import make_result
from vsa_desktop.core.charts import (
    NO_HISTORY,
    NO_SCORES,
    bar_heights,
    history_figure,
    result_figure,
)
from vsa_desktop.core.history import HistoryStore
from vsa_desktop.core.result import AnalysisResult
from vsa_desktop.core.taxonomy import EMOTIONS
from vsa_desktop.core.verdict import percent


def containers(figure: Figure) -> dict[str, BarContainer]:
    (ax,) = figure.axes
    return {c.get_label(): c for c in ax.containers if isinstance(c, BarContainer)}


def texts(figure: Figure) -> str:
    found = [t.get_text() for t in figure.findobj(lambda a: hasattr(a, "get_text"))]
    return "\n".join(found)


def render_png(figure: Figure, dpi: int = 100) -> Image.Image:
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=dpi)
    buffer.seek(0)
    return Image.open(buffer)


def test_bar_heights_equal_scores_for_each_channel() -> None:
    r = make_result({"happy": 6, "sad": 2, "neutral": 1}, {"sad": 3, "fear": 1, "happy": 1})
    figure = result_figure(r)
    found = containers(figure)
    assert set(found) == {"text", "vision", "fused"}
    expected = {"text": r.text.scores, "vision": r.vision.scores, "fused": r.fusion.scores}
    for channel, scores in expected.items():
        heights = [patch.get_height() for patch in found[channel].patches]
        assert heights == pytest.approx([scores[e] for e in EMOTIONS], abs=1e-12)
        gids = [patch.get_gid() for patch in found[channel].patches]
        assert gids == [f"{channel}-{e}" for e in EMOTIONS]
    assert bar_heights(figure) == {
        c: pytest.approx([s[e] for e in EMOTIONS]) for c, s in expected.items()
    }
    (ax,) = figure.axes
    assert ax.get_ylim() == (0.0, 1.0)
    assert [t.get_text() for t in ax.get_xticklabels()] == [e.capitalize() for e in EMOTIONS]
    legend = [t.get_text() for t in ax.get_legend().get_texts()]
    assert legend == ["Text", "Vision", "Fused"]


def test_bars_of_a_group_do_not_overlap() -> None:
    figure = result_figure(make_result({"happy": 1, "sad": 1}, {"angry": 1, "sad": 1}))
    found = containers(figure)
    for i in range(len(EMOTIONS)):
        spans = sorted(
            (c.patches[i].get_x(), c.patches[i].get_x() + c.patches[i].get_width())
            for c in found.values()
        )
        assert all(a[1] <= b[0] + 1e-9 for a, b in itertools.pairwise(spans))
        assert spans[0][0] < i < spans[-1][1]  # the group is centred on its tick


def test_title_gives_labels_confidences_and_mixed_wording() -> None:
    # Close distributions whose top labels differ: "mixed", not "consistent".
    r = make_result({"happy": 5, "sad": 4, "neutral": 3}, {"sad": 5, "happy": 4, "neutral": 3})
    assert r.fusion.agreement.level == "mixed"
    title = figure_title(result_figure(r))
    assert f"Text: happy {percent(r.text.confidence)}" in title
    assert f"Vision: sad {percent(r.vision.confidence)}" in title
    assert f"Fused: {r.fusion.label} {percent(r.fusion.confidence)}" in title
    assert f"Agreement {r.fusion.agreement.score:.2f}: mixed signals" in title
    assert "not calibrated" in title  # test models: their scores are shown as they are


def figure_title(figure: Figure) -> str:
    (ax,) = figure.axes
    return ax.get_title(loc="left")


def test_consistent_and_divergent_wording() -> None:
    same = make_result({"happy": 9, "sad": 1}, {"happy": 8, "sad": 2})
    apart = make_result({"happy": 1}, {"angry": 1})
    assert "consistent" in figure_title(result_figure(same))
    assert "divergent" in figure_title(result_figure(apart))


@pytest.mark.parametrize(
    ("text_scores", "vision_scores", "channel"),
    [({"surprise": 2, "happy": 1}, None, "text"), (None, {"disgust": 3, "angry": 1}, "vision")],
)
def test_single_channel_result(
    text_scores: dict[str, float] | None, vision_scores: dict[str, float] | None, channel: str
) -> None:
    r = make_result(text_scores, vision_scores)
    figure = result_figure(r)
    found = containers(figure)
    assert set(found) == {channel, "fused"}
    own = (r.text or r.vision).scores
    assert [p.get_height() for p in found[channel].patches] == pytest.approx(
        [own[e] for e in EMOTIONS]
    )
    legend = [t.get_text() for t in figure.axes[0].get_legend().get_texts()]
    assert f"Fused ({channel} only)" in legend
    assert "no agreement" in figure_title(figure)


def test_result_without_any_scores_says_so() -> None:
    r = AnalysisResult(
        mode="text-only",
        text_input="hi",
        image=None,
        text=None,
        vision=None,
        fusion=None,
        text_error={"kind": "model", "message": "no model"},
    )
    figure = result_figure(r)
    assert NO_SCORES in texts(figure)
    assert bar_heights(figure) == {}


def test_redraw_into_the_given_figure() -> None:
    figure = Figure()
    first = make_result({"happy": 1}, {"sad": 1})
    second = make_result({"fear": 3, "sad": 1})
    assert result_figure(first, figure) is figure
    assert result_figure(second, figure) is figure
    assert len(figure.axes) == 1
    assert set(bar_heights(figure)) == {"text", "fused"}
    assert bar_heights(figure)["text"] == pytest.approx([second.text.scores[e] for e in EMOTIONS])


def test_result_figure_renders_800x500_png() -> None:
    r = make_result({"happy": 2, "sad": 1}, {"sad": 2, "angry": 1}, text="Été " * 50)
    figure = result_figure(r)
    FigureCanvasAgg(figure).draw()  # lays out text: fails on a layout or font problem
    image = render_png(figure)
    assert image.size == (800, 500)
    colours = image.convert("RGB").getcolors(maxcolors=1 << 16)
    assert colours is None or len(colours) > 20  # real drawing, not a blank canvas


def history_items() -> list[AnalysisResult]:
    labels = ["happy", "sad", "happy", "angry", "happy", "neutral"]
    items = []
    for day, label in enumerate(labels, start=1):
        other = "sad" if label != "sad" else "happy"
        items.append(
            make_result(
                {label: 3, other: 1},
                {label: 2, other: 1 + day % 3},
                created_at=f"2026-04-{day:02d}T10:00:00Z",
            )
        )
    items.append(make_result({"fear": 1}, created_at="2026-04-09T10:00:00Z"))  # single channel
    return items


def test_history_figure_counts_and_trend() -> None:
    items = history_items()
    figure = history_figure(items)
    counts_ax, trend_ax = figure.axes
    (bars,) = [c for c in counts_ax.containers if isinstance(c, BarContainer)]
    fused = [r.fusion.label for r in items]
    assert [p.get_height() for p in bars.patches] == [fused.count(e) for e in EMOTIONS]
    (line,) = [ln for ln in trend_ax.get_lines() if ln.get_gid() == "agreement"]
    two_channel = [r for r in items if r.fusion.agreement]
    assert list(line.get_ydata()) == pytest.approx([r.fusion.agreement.score for r in two_channel])
    assert f"{len(items)} analyses" in texts(figure)
    assert render_png(figure).size == (800, 500)


def test_history_figure_from_store_entries(tmp_path) -> None:
    items = history_items()
    with HistoryStore(tmp_path / "h.sqlite3") as store:
        for r in items:
            store.add(r)
        entries = store.list()
    from_entries = history_figure(entries)
    from_results = history_figure(items)
    counts = [[p.get_height() for p in f.axes[0].patches] for f in (from_entries, from_results)]
    assert counts[0] == counts[1]
    ys = [sorted(f.axes[1].get_lines()[-1].get_ydata()) for f in (from_entries, from_results)]
    assert ys[0] == pytest.approx(ys[1])


def test_empty_history_is_readable() -> None:
    figure = history_figure([])
    assert NO_HISTORY in texts(figure)
    assert render_png(figure).size == (800, 500)


def test_history_of_one_analysis_renders() -> None:
    figure = history_figure([make_result({"happy": 1}, {"happy": 2, "sad": 1})])
    assert "1 analysis" in texts(figure)
    render_png(figure)


def test_charts_do_not_import_pyplot_or_qt() -> None:
    code = (
        "import sys; import vsa_desktop.core.charts, vsa_desktop.core.export; "
        "bad = [m for m in sys.modules if m == 'matplotlib.pyplot' or m.startswith('PySide6')]; "
        "print(bad); sys.exit(1 if bad else 0)"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stdout + done.stderr


def test_update_moves_bars_in_place_and_matches_a_rebuild() -> None:
    from vsa_desktop.core.charts import update_result_figure

    first = make_result({"happy": 0.9, "sad": 0.1}, {"happy": 0.6, "fear": 0.4})
    second = make_result({"sad": 0.7, "angry": 0.3}, {"surprise": 1.0})
    figure = result_figure(first)
    patches_before = [id(p) for c in figure.axes[0].containers for p in c]
    assert update_result_figure(second, figure)
    assert [id(p) for c in figure.axes[0].containers for p in c] == patches_before
    assert bar_heights(figure) == bar_heights(result_figure(second))
    assert "sad" in figure.axes[0].get_title(loc="left")


def test_update_refuses_a_different_set_of_channels() -> None:
    from vsa_desktop.core.charts import update_result_figure

    figure = result_figure(make_result({"happy": 1.0}, {"happy": 1.0}))
    before = bar_heights(figure)
    assert not update_result_figure(make_result({"sad": 1.0}, None), figure)
    assert bar_heights(figure) == before
