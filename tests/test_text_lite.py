"""Tests of the built-in lite text model: training reproducibility and the shipped model."""

from __future__ import annotations

import importlib.util
import math
import sys
import threading
from pathlib import Path
from types import ModuleType

import numpy as np
import pytest

from vsa_desktop.core.errors import InputError, ModelError, ModelNotAvailableError
from vsa_desktop.core.taxonomy import EMOTIONS
from vsa_desktop.core.text.lite import LiteTextAnalyzer, load_lite, read_model, save_model
from vsa_desktop.core.text.lite_features import featurize, tokenize

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT.parent / "shared" / "data" / "goemotions-ekman"


@pytest.fixture(autouse=True)
def _vsa_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("VSA_HOME", str(tmp_path / "home"))


def _script(name: str) -> ModuleType:
    scripts = ROOT / "scripts"
    if str(scripts) not in sys.path:
        sys.path.insert(0, str(scripts))
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, scripts / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # dataclasses look their module up while it executes
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def shipped() -> LiteTextAnalyzer:
    return load_lite()


# --- training ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def small_training():
    if not (DATA / "train.tsv").is_file():
        pytest.skip(f"GoEmotions data not found at {DATA} (../shared/data is not here)")
    train = _script("train_lite_text")
    settings = train.Settings(c_grid=(1.0,), max_iter=40, min_df_word=2, min_df_char=3)
    labels = train.read_label_names(DATA)
    rows = train.read_rows(DATA / "train.tsv", limit=2000)
    dev = train.read_rows(DATA / "dev.tsv", limit=300)
    runs = [train.train(rows, dev, labels, settings, log=lambda _msg: None) for _ in range(2)]
    return train, runs


@pytest.mark.slow
def test_training_is_reproducible(small_training) -> None:
    _, ((a, _), (b, _)) = small_training
    assert a.vocab.words == b.vocab.words and a.vocab.chars == b.vocab.chars
    np.testing.assert_array_equal(a.vocab.idf, b.vocab.idf)
    np.testing.assert_array_equal(a.weights, b.weights)
    np.testing.assert_array_equal(a.bias, b.bias)
    assert a.temperature == b.temperature
    assert np.abs(a.weights).max() > 0  # it did learn something


@pytest.mark.slow
def test_trained_model_round_trips_through_the_file(small_training, tmp_path: Path) -> None:
    _, ((model, _), _) = small_training
    path = tmp_path / "model.npz"
    save_model(path, model)
    loaded = read_model(path)
    assert loaded.vocab.words == model.vocab.words
    assert loaded.labels == model.labels
    np.testing.assert_allclose(loaded.weights, model.weights, atol=2e-3, rtol=2e-3)
    result = LiteTextAnalyzer(loaded).analyze("I am so happy today")
    assert math.isclose(sum(result.scores.values()), 1.0, abs_tol=1e-6)


def test_soft_targets_spread_a_row_over_its_labels() -> None:
    train = _script("train_lite_text")
    target = train.soft_targets([(3,), (0, 5), (1, 2, 6)], 7)
    np.testing.assert_allclose(target.sum(axis=1), 1.0)
    assert target[1, 0] == target[1, 5] == 0.5
    assert math.isclose(target[2, 6], 1 / 3)


# --- the shipped model ------------------------------------------------------------------


def test_shipped_model_is_small_and_describes_itself(shipped: LiteTextAnalyzer) -> None:
    path = ROOT / "resources" / "models" / "text-lite" / "model.npz"
    assert path.stat().st_size < 10_000_000
    assert (path.parent / "MODEL_CARD.md").is_file()
    assert shipped.model_id == "builtin:lite"
    assert shipped.runtime == "numpy"


def test_scores_have_seven_keys_summing_to_one(shipped: LiteTextAnalyzer) -> None:
    result = shipped.analyze("Well, that was unexpected.")
    assert tuple(result.scores) == EMOTIONS
    assert math.isclose(sum(result.scores.values()), 1.0, abs_tol=1e-6)
    assert all(0.0 <= v <= 1.0 for v in result.scores.values())
    assert result.label == max(result.scores, key=result.scores.__getitem__)
    assert result.confidence == result.scores[result.label]
    assert result.chunks == 1
    assert result.model == "builtin:lite"


@pytest.mark.parametrize(
    ("text", "label"),
    [
        ("I am so happy today", "happy"),
        ("I miss her so much", "sad"),
        ("This is disgusting", "disgust"),
    ],
)
def test_obvious_sentences(shipped: LiteTextAnalyzer, text: str, label: str) -> None:
    assert shipped.analyze(text).label == label


@pytest.mark.parametrize("text", ["", "   \n\t "])
def test_empty_text_is_an_input_error(shipped: LiteTextAnalyzer, text: str) -> None:
    with pytest.raises(InputError):
        shipped.analyze(text)
    with pytest.raises(InputError):
        shipped.analyze_batch(["fine", text])


@pytest.mark.parametrize(
    "text",
    [
        "😂😂😂",
        "❤️🔥",
        "今日はとても嬉しいです",
        "我很生气！",
        "Привет, как дела?",
        "🙂 " * 50_000,
        "wow " * 25_000,
        "".join(chr(0x4E00 + i % 20_000) for i in range(100_000)),
    ],
    ids=[
        "emoji",
        "emoji-zwj",
        "japanese",
        "chinese",
        "russian",
        "emoji-100k",
        "words-100k",
        "cjk-100k",
    ],
)
def test_any_script_and_long_text(shipped: LiteTextAnalyzer, text: str) -> None:
    result = shipped.analyze(text)
    assert tuple(result.scores) == EMOTIONS
    assert math.isclose(sum(result.scores.values()), 1.0, abs_tol=1e-6)
    assert all(math.isfinite(v) for v in result.scores.values())


def test_batch_equals_single(shipped: LiteTextAnalyzer) -> None:
    texts = ["I am so happy today", "What?! No way!", "ugh, gross", "ok", "😭", "I miss her"]
    assert shipped.analyze_batch(texts) == [shipped.analyze(t) for t in texts]
    assert shipped.analyze_batch([]) == []


def test_featuriser_is_stable_and_case_insensitive(shipped: LiteTextAnalyzer) -> None:
    vocab = shipped._vocab
    a_idx, a_val = featurize("I LOVE this!!", vocab)
    b_idx, b_val = featurize("i love this!!", vocab)
    np.testing.assert_array_equal(a_idx, b_idx)
    np.testing.assert_array_equal(a_val, b_val)
    assert tokenize("don't ❤️ it!") == ["don't", "❤", "it", "!"]


def test_load_lite_caches_one_instance_across_threads() -> None:
    found: list[LiteTextAnalyzer] = []
    threads = [threading.Thread(target=lambda: found.append(load_lite())) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(found) == 4 and all(a is found[0] for a in found)
    assert load_lite() is found[0]


def test_missing_and_damaged_files_raise_model_errors(tmp_path: Path) -> None:
    with pytest.raises(ModelNotAvailableError):
        LiteTextAnalyzer.from_file(tmp_path / "absent.npz")
    bad = tmp_path / "bad.npz"
    bad.write_bytes(b"not a zip file")
    with pytest.raises(ModelError) as info:
        LiteTextAnalyzer.from_file(bad)
    assert "reinstall" in info.value.message


# --- the evaluation script --------------------------------------------------------------


def test_eval_script_scores_any_match_and_reports(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    evaluate = _script("eval_text")
    data = tmp_path / "mini.csv"
    data.write_text(
        "text,label\n"
        "I am so happy today,joy\n"
        "I miss her so much,sadness\n"
        "This is disgusting,disgust|anger\n"
        "What a wonderful surprise,happy;surprise\n",
        "utf-8",
    )
    assert evaluate.main([str(data)]) == 0
    out = capsys.readouterr().out
    assert "ANY gold label" in out
    assert "majority baseline" in out
    assert "confusion matrix" in out


def test_eval_metrics_by_hand() -> None:
    evaluate = _script("eval_text")
    golds = [("happy",), ("sad", "angry"), ("fear",), ("happy",)]
    preds = ["happy", "angry", "happy", "sad"]
    result = evaluate.score(preds, golds)
    assert result["accuracy"] == 0.5
    assert result["confusion"]["angry"]["angry"] == 1
    assert result["confusion"]["fear"]["happy"] == 1
    assert result["recall"]["happy"] == 0.5
    assert evaluate.majority_label(golds) == "happy"
    assert evaluate.expected_calibration_error([1.0, 0.5], [True, False]) == 0.25


def test_eval_script_rejects_unknown_labels(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    evaluate = _script("eval_text")
    data = tmp_path / "bad.csv"
    data.write_text("text,label\nhello,confusion\n", "utf-8")
    assert evaluate.main([str(data)]) == 2
    assert "not one of the seven emotions" in capsys.readouterr().err
