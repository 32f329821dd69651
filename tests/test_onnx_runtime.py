"""ONNX export, int8 quantization, fidelity check, cache and the torch-free ONNX text path."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from vsa_desktop.core.text import convert, loader
from vsa_desktop.core.text.onnx_backend import FP32_FILE, INT8_FILE, OnnxTextAnalyzer
from vsa_desktop.core.text.transformers_backend import TransformersTextAnalyzer

ROOT = Path(__file__).resolve().parents[1]
TEXTS = [
    "I can't believe we won the game tonight!",
    "I miss her so much it hurts.",
    "ok",
    "Das ist großartig! 🎉 これは素晴らしい。",
    "The meeting is at three o'clock, please bring the slides and the budget sheet.",
]
FEW_PROBES = [*TEXTS, "This is disgusting, take it away.", "Wow, I did not expect that!"]


@pytest.fixture(autouse=True)
def _fresh_loader():
    loader.clear_cache()
    yield
    loader.clear_cache()


@pytest.fixture(scope="module")
def converted_home(tmp_path_factory: pytest.TempPathFactory, tiny_model_dir: Path) -> Path:
    """A VSA_HOME whose cache holds the tiny model converted with the shipped probes."""
    home = tmp_path_factory.mktemp("onnx-home")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("VSA_HOME", str(home))
        convert.ensure_onnx(str(tiny_model_dir))
    return home


@pytest.fixture
def converted(
    converted_home: Path, monkeypatch: pytest.MonkeyPatch, tiny_model_dir: Path
) -> convert.ConvertReport:
    monkeypatch.setenv("VSA_HOME", str(converted_home))
    report = convert.cached_report(str(tiny_model_dir))
    assert report is not None
    return report


def test_export_quantize_and_check(converted: convert.ConvertReport) -> None:
    folder = converted.folder
    for name in (FP32_FILE, INT8_FILE, "tokenizer.json", "meta.json", "report.json"):
        assert (folder / name).is_file(), name
    import onnx

    fp32 = onnx.load(str(folder / FP32_FILE))
    int8 = onnx.load(str(folder / INT8_FILE))
    assert "MatMulInteger" in {n.op_type for n in int8.graph.node}
    assert "MatMulInteger" not in {n.op_type for n in fp32.graph.node}
    on_disk = json.loads((folder / "report.json").read_text(encoding="utf-8"))
    fid = on_disk["fidelity"]
    assert fid["probes"] == len(convert.load_probes()) >= 290
    assert on_disk["int8_passed"] is (fid["agreement"] >= 0.99 and fid["mean_abs_diff"] <= 0.01)
    assert converted.int8_passed, converted.reason
    assert converted.best_runtime == "onnx-int8"
    assert fid["fp32_max_abs_diff"] < 1e-4


def test_failing_fidelity_falls_back_to_fp32(
    tiny_model_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    report = convert.ensure_onnx(
        str(tiny_model_dir), probes=FEW_PROBES, max_mean_abs_diff=0.0, min_agreement=1.0
    )
    assert not report.int8_passed
    assert report.fp32_ok
    assert report.best_runtime == "onnx"
    assert "mean probability difference" in report.reason and "fp32 ONNX" in report.reason
    saved = json.loads((report.folder / "report.json").read_text(encoding="utf-8"))
    assert saved["int8_passed"] is False and saved["reason"] == report.reason
    for runtime in ("auto", "onnx-int8"):
        loader.clear_cache()
        result = loader.load_text_analyzer(str(tiny_model_dir), runtime).analyze("hello there")
        assert result.runtime == "onnx"


def test_second_call_reuses_the_cache(
    converted: convert.ConvertReport, tiny_model_dir: Path
) -> None:
    before = {p.name: p.stat().st_mtime_ns for p in converted.folder.iterdir()}
    again = convert.ensure_onnx(str(tiny_model_dir))
    assert again.reused and again.key == converted.key
    assert {p.name: p.stat().st_mtime_ns for p in converted.folder.iterdir()} == before


def test_key_changes_when_weights_change(tiny_model_dir: Path, tmp_path: Path) -> None:
    from tests.tiny_model import build_tiny_model

    copy = tmp_path / "copy"
    shutil.copytree(tiny_model_dir, copy)
    first = convert.model_key(copy)
    assert convert.model_key(copy) == first
    other = build_tiny_model(tmp_path / "other", seed=1)
    for weights in convert.weight_files(other):
        shutil.copy(weights, copy / weights.name)
    assert convert.model_key(copy) != first
    (copy / "config.json").write_text(
        (copy / "config.json").read_text(encoding="utf-8").replace("neutral", "calm"),
        encoding="utf-8",
    )
    assert convert.model_key(copy) not in (first, convert.model_key(other))


def test_onnx_matches_torch(converted: convert.ConvertReport, tiny_model_dir: Path) -> None:
    torch_results = TransformersTextAnalyzer(str(tiny_model_dir)).analyze_batch(TEXTS)
    onnx = OnnxTextAnalyzer(converted.folder, str(tiny_model_dir), int8=False)
    for ref, got in zip(torch_results, onnx.analyze_batch(TEXTS), strict=True):
        assert got.runtime == "onnx"
        assert max(abs(ref.scores[k] - got.scores[k]) for k in ref.scores) < 1e-4
        assert got.label == ref.label and got.chunks == ref.chunks == 1
    one_by_one = [onnx.analyze(t) for t in TEXTS]
    batch = onnx.analyze_batch(TEXTS)
    for a, b in zip(one_by_one, batch, strict=True):
        assert max(abs(a.scores[k] - b.scores[k]) for k in a.scores) < 1e-5


def test_long_text_windowing_matches_torch(
    converted: convert.ConvertReport, tiny_model_dir: Path
) -> None:
    long_text = " ".join(f"{TEXTS[i % 4]} number {i}." for i in range(250))
    torch_analyzer = TransformersTextAnalyzer(str(tiny_model_dir))
    onnx = OnnxTextAnalyzer(converted.folder, str(tiny_model_dir))
    assert onnx.encode(long_text) == torch_analyzer.windows.encode(long_text)
    ref = torch_analyzer.analyze(long_text)
    got = onnx.analyze(long_text)
    assert ref.chunks == got.chunks > 2
    assert max(abs(ref.scores[k] - got.scores[k]) for k in ref.scores) < 1e-4


def test_loader_picks_runtime(converted: convert.ConvertReport, tiny_model_dir: Path) -> None:
    model = str(tiny_model_dir)
    assert loader.load_text_analyzer(model, "auto").analyze("yay").runtime == "onnx-int8"
    assert loader.load_text_analyzer(model, "onnx").analyze("yay").runtime == "onnx"
    assert loader.load_text_analyzer(model, "onnx-int8").analyze("yay").runtime == "onnx-int8"
    assert loader.load_text_analyzer(model, "torch").analyze("yay").runtime == "torch"


def test_auto_without_cache_uses_torch_and_does_not_convert(tiny_model_dir: Path) -> None:
    result = loader.load_text_analyzer(str(tiny_model_dir), "auto").analyze("hello")
    assert result.runtime == "torch"
    assert convert.cached_report(str(tiny_model_dir)) is None
    assert not convert.onnx_root().exists() or not any(convert.onnx_root().iterdir())
    convert.ensure_onnx(str(tiny_model_dir), probes=FEW_PROBES)  # e.g. the GUI, in background
    after = loader.load_text_analyzer(str(tiny_model_dir), "auto").analyze("hello")
    assert after.runtime.startswith("onnx")
    assert max(abs(after.scores[k] - result.scores[k]) for k in result.scores) < 0.05


def test_explicit_onnx_converts_on_first_use(
    tiny_model_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(convert, "load_probes", lambda path=None: FEW_PROBES)
    result = loader.load_text_analyzer(str(tiny_model_dir), "onnx").analyze("hello")
    assert result.runtime == "onnx"
    assert convert.cached_report(str(tiny_model_dir)) is not None


def test_onnx_path_does_not_import_torch(converted_home: Path, tiny_model_dir: Path) -> None:
    script = textwrap.dedent(f"""
        import sys
        from vsa_desktop.core.text.loader import load_text_analyzer
        from vsa_desktop.core.models import status
        result = load_text_analyzer({str(tiny_model_dir)!r}, "auto").analyze("What a day! 🎉")
        results = load_text_analyzer({str(tiny_model_dir)!r}, "auto").analyze_batch(["a", "b c"])
        st = status({str(tiny_model_dir)!r})
        heavy = sorted(m for m in ("torch", "transformers") if m in sys.modules)
        print(result.runtime, len(results), st.best_runtime, ",".join(heavy) or "-")
    """)
    env = {**os.environ, "VSA_HOME": str(converted_home), "HF_HUB_OFFLINE": "1"}
    out = subprocess.run(
        [sys.executable, "-c", script],
        capture_output=True,
        text=True,
        env=env,
        cwd=ROOT,
        timeout=120,
        check=True,
    )
    assert out.stdout.split() == ["onnx-int8", "2", "onnx-int8", "-"], out.stderr


def test_missing_model_cannot_be_converted() -> None:
    from vsa_desktop.core.errors import InputError, ModelNotAvailableError

    with pytest.raises(ModelNotAvailableError, match="vsa models download"):
        convert.ensure_onnx("nobody/not-a-real-model-xyz")
    with pytest.raises(InputError):
        convert.ensure_onnx(loader.LITE_ID)


def test_broken_cache_falls_back_to_torch_under_auto(
    converted_home: Path, tmp_path: Path, tiny_model_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    home = tmp_path / "broken"
    shutil.copytree(converted_home, home)
    monkeypatch.setenv("VSA_HOME", str(home))
    report = convert.cached_report(str(tiny_model_dir))
    assert report is not None
    (report.folder / INT8_FILE).write_bytes(b"not an onnx file")
    assert loader.load_text_analyzer(str(tiny_model_dir), "auto").analyze("hi").runtime == "torch"


def test_a_cancelled_conversion_leaves_nothing_behind(tiny_model_dir: Path) -> None:
    from vsa_desktop.core.cancel import CancelToken
    from vsa_desktop.core.errors import Cancelled
    from vsa_desktop.core.text import convert

    token = CancelToken()

    def progress(stage: str, _fraction: float) -> None:
        if stage == "quantizing":
            token.cancel()

    with pytest.raises(Cancelled):
        convert.ensure_onnx(str(tiny_model_dir), progress, cancel=token, force=True)
    root = convert.onnx_root()
    leftovers = [p.name for p in root.iterdir()] if root.exists() else []
    assert not [name for name in leftovers if ".tmp-" in name]
    assert convert.cached_report(str(tiny_model_dir)) is None
