"""Tests of the exporters: JSON/CSV read back, chart files, overwrite, errors, no partial files."""

from __future__ import annotations

import csv
import errno
import json
import os
from pathlib import Path

import pytest

from tests.helpers_results import make_result
from vsa_desktop.core.errors import ExportError
from vsa_desktop.core.export import (
    CSV_COLUMNS,
    CSV_ENCODING,
    SUPPORTED_SUFFIXES,
    csv_header,
    export_csv_rows,
    export_results,
    result_to_row,
    safe_cell,
)
from vsa_desktop.core.result import AnalysisResult
from vsa_desktop.core.taxonomy import EMOTIONS


def sample() -> list[AnalysisResult]:
    return [
        make_result(
            {"happy": 6, "sad": 2, "neutral": 1},
            {"sad": 3, "fear": 1},
            text='She said "fine", then\nleft; ça va? 🙂',
            image_name="été.jpg",
            warnings=("Two faces found; combined by area.", "=not a formula"),
        ),
        make_result({"angry": 3, "disgust": 1}, text="-5 degrees and =SUM(A1:A9)"),
        make_result(
            None,
            {"surprise": 2, "happy": 1},
            image_name="@party.png",
            vision_backend="groq",
            vision_model="qwen/qwen3.8-27b",
        ),
    ]


def read_csv(path: Path) -> list[dict[str, str]]:
    with path.open(encoding=CSV_ENCODING, newline="") as stream:
        return list(csv.DictReader(stream))


@pytest.fixture
def out(tmp_path: Path) -> Path:
    """An empty folder of its own (tmp_path also holds conftest's VSA_HOME)."""
    folder = tmp_path / "out"
    folder.mkdir()
    return folder


def leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.endswith(".tmp"))


def test_json_single_is_the_document(tmp_path: Path) -> None:
    r = sample()[0]
    out = export_results([r], tmp_path / "r.json")
    assert out == tmp_path / "r.json"
    data = json.loads(out.read_text(encoding="utf-8"))
    assert data["schema"] == "vsa.result/1"
    assert AnalysisResult.from_dict(data) == r


def test_json_several_is_a_list(tmp_path: Path) -> None:
    results = sample()
    data = json.loads(export_results(results, tmp_path / "all.JSON").read_text("utf-8"))
    assert isinstance(data, list)
    assert [AnalysisResult.from_dict(d) for d in data] == results


def test_csv_round_trip(tmp_path: Path) -> None:
    results = sample()
    out = export_results(results, tmp_path / "r.csv")
    assert out.read_bytes().startswith(b"\xef\xbb\xbf")  # BOM, for Excel
    rows = read_csv(out)
    assert list(rows[0]) == list(CSV_COLUMNS)
    assert len(rows) == len(results)
    for row, r in zip(rows, results, strict=True):
        assert row["id"] == r.id and row["created_at"] == r.created_at and row["mode"] == r.mode
        for channel, part in (("text", r.text), ("vision", r.vision), ("fused", r.fusion)):
            for e in EMOTIONS:
                cell = row[f"{channel}_{e}"]
                if part is None:
                    assert cell == ""
                else:
                    assert float(cell) == part.scores[e]  # full precision survives
        assert row["fused_label"] == r.fusion.label
        assert float(row["fused_confidence"]) == r.fusion.confidence
        if r.fusion.agreement:
            assert float(row["agreement_score"]) == r.fusion.agreement.score
            assert row["agreement_level"] == r.fusion.agreement.level
        else:
            assert row["agreement_score"] == row["agreement_level"] == ""
    first = rows[0]
    assert first["text"] == results[0].text_input  # quotes, newline, emoji survive
    assert first["image_name"] == "été.jpg"
    assert first["text_model"] == "tiny-roberta-test"
    assert first["warnings"] == "Two faces found; combined by area. | =not a formula"
    assert rows[2]["vision_model"] == "qwen/qwen3.8-27b" and rows[2]["text_model"] == ""


def test_csv_injection_is_escaped_but_numbers_stay_numbers(tmp_path: Path) -> None:
    rows = read_csv(export_results(sample(), tmp_path / "r.csv"))
    assert rows[1]["text"] == "'-5 degrees and =SUM(A1:A9)"
    assert rows[2]["image_name"] == "'@party.png"
    assert all(not v.startswith(("=", "+", "-", "@")) for row in rows for v in row.values())
    for raw in ("=1+1", "+1", "-1", "@x", "\tx", "\rx"):
        assert safe_cell(raw) == "'" + raw
    assert safe_cell(-1.5) == -1.5 and safe_cell(-3) == -3
    assert safe_cell("a=b") == "a=b" and safe_cell(None) == ""
    row = result_to_row(sample()[1], extra=[-2.5, "=HYPERLINK()", None])
    assert row[-3:] == [-2.5, "'=HYPERLINK()", ""]


def test_header_and_rows_for_a_batch_writer(tmp_path: Path) -> None:
    results = sample()
    header = csv_header(["source", "elapsed_ms"])
    assert header[: len(CSV_COLUMNS)] == list(CSV_COLUMNS) and header[-2:] == [
        "source",
        "elapsed_ms",
    ]
    rows = [result_to_row(r, [f"in/{i}.jpg", 10.0 * i]) for i, r in enumerate(results)]
    assert all(len(row) == len(header) for row in rows)
    out = export_csv_rows(rows, tmp_path / "batch.csv", extra_columns=["source", "elapsed_ms"])
    back = read_csv(out)
    assert [r["source"] for r in back] == ["in/0.jpg", "in/1.jpg", "in/2.jpg"]
    assert [float(r["elapsed_ms"]) for r in back] == [0.0, 10.0, 20.0]
    # Appending to an existing file writes no second BOM.
    with out.open("a", encoding=CSV_ENCODING, newline="") as stream:
        csv.writer(stream).writerow(result_to_row(results[0], ["in/3.jpg", 30.0]))
    assert out.read_bytes().count(b"\xef\xbb\xbf") == 1
    assert len(read_csv(out)) == 4


@pytest.mark.parametrize(
    ("suffix", "magic"),
    [(".png", b"\x89PNG\r\n\x1a\n"), (".svg", b"<?xml"), (".pdf", b"%PDF-")],
)
@pytest.mark.parametrize("several", [False, True])
def test_chart_files(tmp_path: Path, suffix: str, magic: bytes, several: bool) -> None:
    results = sample() if several else sample()[:1]
    out = export_results(results, tmp_path / f"chart{suffix}")
    data = out.read_bytes()
    assert data.startswith(magic)
    assert len(data) > 10_000
    if suffix == ".svg":
        assert b"<svg" in data[:2000]
        ids = (b'id="text-happy"', b'id="fused-neutral"') if not several else (b"count-happy",)
        assert all(i in data for i in ids)  # the bar gids reach the SVG
    if suffix == ".png" and not several:
        from PIL import Image

        with Image.open(out) as image:
            assert image.size[0] == 1200 and image.size[1] > 750  # the chart and its caption
        bare = export_results(results, tmp_path / "bare.png", caption=False)
        with Image.open(bare) as image:
            assert image.size == (1200, 750)
    assert leftovers(tmp_path) == []


def test_refuses_to_overwrite(tmp_path: Path) -> None:
    target = tmp_path / "r.json"
    target.write_text("keep me")
    with pytest.raises(ExportError) as info:
        export_results(sample()[:1], target)
    assert str(info.value) == "r.json already exists; choose another name or allow overwrite."
    assert target.read_text() == "keep me"
    export_results(sample()[:1], target, overwrite=True)
    assert json.loads(target.read_text("utf-8"))["schema"] == "vsa.result/1"
    assert leftovers(tmp_path) == []


def test_written_file_has_normal_permissions(tmp_path: Path) -> None:
    out = export_results(sample(), tmp_path / "r.csv")
    assert out.stat().st_mode & 0o777 == 0o644


def test_unknown_suffix_lists_supported(out: Path) -> None:
    with pytest.raises(ExportError) as info:
        export_results(sample(), out / "r.xlsx")
    for suffix in SUPPORTED_SUFFIXES:
        assert suffix in info.value.message
    with pytest.raises(ExportError):
        export_results(sample(), out / "noext")
    assert list(out.iterdir()) == []


def test_nothing_to_export(tmp_path: Path) -> None:
    with pytest.raises(ExportError, match="nothing to export"):
        export_results([], tmp_path / "r.json")


def test_parent_is_a_file(tmp_path: Path) -> None:
    blocker = tmp_path / "file.txt"
    blocker.write_text("x")
    with pytest.raises(ExportError, match="is a file, not a folder") as info:
        export_results(sample(), blocker / "r.json")
    assert info.value.kind == "export_folder"


def test_missing_folder(tmp_path: Path) -> None:
    with pytest.raises(ExportError, match="does not exist"):
        export_results(sample(), tmp_path / "nope" / "r.csv")


def test_target_is_a_folder(tmp_path: Path) -> None:
    (tmp_path / "r.json").mkdir()
    with pytest.raises(ExportError, match="is a folder"):
        export_results(sample(), tmp_path / "r.json", overwrite=True)


def test_read_only_folder(tmp_path: Path) -> None:
    # Root ignores chmod, so use a folder where the kernel refuses new files to everyone.
    # sysfs refuses new files even to root (EACCES).
    candidates = [Path("/sys/fs"), Path("/sys")]
    folder = next((p for p in candidates if p.is_dir() and not _writable(p)), None)
    if folder is None:
        pytest.skip("no read-only folder available on this machine")
    with pytest.raises(ExportError, match="read-only") as info:
        export_results(sample(), folder / "r.json")
    assert info.value.kind == "export_read_only"


def _writable(folder: Path) -> bool:
    probe = folder / ".vsa-probe"
    try:
        probe.write_text("x")
    except OSError:
        return False
    probe.unlink()
    return True


def test_full_disk_leaves_no_partial_file(out: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # Simulated at the edge: the flush to disk fails the way a full disk makes it fail.
    def full(fd: int) -> None:
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(os, "fsync", full)
    for name in ("r.json", "r.csv", "r.png"):
        with pytest.raises(ExportError, match=r"^The disk is full: ") as info:
            export_results(sample(), out / name)
        assert info.value.kind == "export_disk_full"
    assert list(out.iterdir()) == []


def test_failed_overwrite_keeps_the_old_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = tmp_path / "r.json"
    target.write_text("old")

    def full(fd: int) -> None:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(os, "fsync", full)
    with pytest.raises(ExportError, match="disk is full"):
        export_results(sample(), target, overwrite=True)
    assert target.read_text() == "old"
    assert leftovers(tmp_path) == []


def test_file_appearing_meanwhile_is_not_clobbered(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = tmp_path / "r.json"
    real_fsync = os.fsync

    def racing_fsync(fd: int) -> None:  # another program saves the same name meanwhile
        real_fsync(fd)
        if not target.exists():
            target.write_text("theirs")

    monkeypatch.setattr(os, "fsync", racing_fsync)
    with pytest.raises(ExportError, match="already exists"):
        export_results(sample(), target)
    assert target.read_text() == "theirs"
    assert leftovers(tmp_path) == []
