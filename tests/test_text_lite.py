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
from vsa_desktop.core.text.lite import (
    LiteTextAnalyzer,
    TopLabelMap,
    default_model_path,
    load_lite,
    model_files,
    read_model,
    save_model,
)
from vsa_desktop.core.text.lite_features import (
    FEATURE_VERSION,
    FeatureConfig,
    analyse,
    featurize,
    tokenize,
    word_counts,
    word_grams,
)

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
    a_idx, a_val = featurize("I Love This!!", vocab)
    b_idx, b_val = featurize("i love this!!", vocab)
    np.testing.assert_array_equal(a_idx, b_idx)
    np.testing.assert_array_equal(a_val, b_val)
    assert tokenize("don't ❤️ it!") == ["don't", "❤", "it", "!"]


# --- featuriser cues --------------------------------------------------------------------


def _unigrams(text: str, **cues: bool) -> list[str]:
    return [g for g in analyse(text, FeatureConfig(**cues)).grams if " " not in g]


def test_negation_marks_words_up_to_punctuation() -> None:
    grams = _unigrams("I am not happy at all, but glad", negation=True)
    assert "not_happy" in grams and "not_all" in grams
    assert "happy" not in grams  # the negated word no longer counts as itself
    assert "glad" in grams and "not_glad" not in grams  # the comma ends the scope
    assert "not_like" in _unigrams("I don’t like it", negation=True)  # curly apostrophe
    assert "not_like" in _unigrams("i dont like it", negation=True)  # Reddit spelling
    far = _unigrams("never a b c d e", negation=True)
    assert far[-1] == "e" and "not_d" in far  # the scope is four words
    assert "not_happy" not in _unigrams("I am not happy")  # off unless asked for


def test_negated_words_keep_their_character_ngrams() -> None:
    parts = analyse("not happy", FeatureConfig(negation=True))
    assert parts.words == {"not": 1, "happy": 1}


def test_emoji_and_emoticons_emit_name_words() -> None:
    grams = _unigrams("lol 😂 :) <3", emoji=True)
    assert {"tears", "joy", "smiling", "heart"} <= set(grams)
    assert "face" not in grams  # name words that say nothing are dropped
    assert "😂" in grams and ":)" in grams  # the symbols themselves stay features
    assert "smiling" in _unigrams("🙂", emoji=True)  # the emoticon's twin shares the word
    for text in ("see https://example.com", "at 10:30", "(like this):"):
        assert not {"confused", "smiling", "frowning"} & set(_unigrams(text, emoji=True))


def test_elongation_punctuation_and_caps_cues() -> None:
    grams = _unigrams("sooooo good!!! really?! why??", elongation=True, punctuation=True)
    assert "soo" in grams and "sooooo" not in grams and "<elongated>" in grams
    assert {"<!!>", "<?!>", "<??>"} <= set(grams)
    assert "<caps>" in _unigrams("WHY would you", caps=True)
    assert "<caps>" not in _unigrams("[NAME] said I was ok", caps=True)  # placeholders


def test_plain_config_is_the_version_one_featuriser() -> None:
    text = "I'm NOT happy :( soooo sad!!"
    parts = analyse(text, FeatureConfig())
    tokens = tokenize(text)
    assert parts.grams == word_grams(tokens, 2)
    assert parts.words == word_counts(tokens)


def test_feature_config_round_trips_and_reads_version_one() -> None:
    cfg = FeatureConfig(word_max_n=3, negation=True, caps=True)
    assert FeatureConfig.from_dict(cfg.to_dict()) == cfg
    old = {"version": 1, "word_max_n": 2, "char_min_n": 2, "char_max_n": 5}
    assert FeatureConfig.from_dict(old) == FeatureConfig()
    with pytest.raises(ValueError):
        FeatureConfig.from_dict({**cfg.to_dict(), "version": FEATURE_VERSION + 1})


# --- calibration ------------------------------------------------------------------------


def test_top_label_map_keeps_the_label_and_sums_to_one() -> None:
    rng = np.random.default_rng(0)
    z = rng.normal(0, 3, size=(500, 7))
    z[0] = [0, 900, 0, 0, 0, 0, 0]  # a top probability that rounds to 1.0
    z[1] = [0, 2, 2 - 1e-9, 0, 0, 0, 0]  # a near tie
    cal = TopLabelMap(0.8, (-2.0, 1.0, 0.0, 0.5, -0.5, 3.0, -3.0)).apply(z)
    np.testing.assert_allclose(cal.sum(axis=1), 1.0, atol=1e-12)
    np.testing.assert_array_equal(cal.argmax(axis=1), z.argmax(axis=1))
    assert np.isfinite(cal).all() and (cal >= 0).all()


def test_identity_top_label_map_is_the_softmax() -> None:
    z = np.random.default_rng(1).normal(0, 2, size=(50, 7))
    softmax = np.exp(z) / np.exp(z).sum(axis=1, keepdims=True)
    np.testing.assert_allclose(TopLabelMap(1.0, (0.0,) * 7).apply(z), softmax, atol=1e-12)


def test_top_label_intercept_moves_only_that_class_confidence() -> None:
    z = np.array([[3.0, 1, 0, 0, 0, 0, 0], [0, 0, 0, 3.0, 1, 0, 0]])
    base = TopLabelMap(1.0, (0.0,) * 7).apply(z)
    lower = TopLabelMap(1.0, (-1.0, 0, 0, 0, 0, 0, 0)).apply(z)
    assert lower[0, 0] < base[0, 0]  # the first row's top class is class 0
    np.testing.assert_allclose(lower[1], base[1])  # the second row's is not
    # the other classes keep their proportions
    assert math.isclose(lower[0, 1] / lower[0, 2], base[0, 1] / base[0, 2])


def test_model_file_stores_float16_weights_and_the_top_label_map(tmp_path: Path) -> None:
    shipped = read_model(default_model_path())
    with np.load(default_model_path(), allow_pickle=False) as data:
        assert data["weights"].dtype == np.float16 and data["idf"].dtype == np.float16
    assert shipped.top_label is not None
    path = tmp_path / "copy.npz"
    save_model(path, shipped)
    again = read_model(path)
    assert again.top_label == shipped.top_label
    text = "I can't believe it, this is wonderful!!"
    assert LiteTextAnalyzer(again).analyze(text) == LiteTextAnalyzer(shipped).analyze(text)


def test_model_files_name_the_shipped_file() -> None:
    files = model_files()
    assert default_model_path() in files
    assert all(f.is_file() for f in files)


def test_shipped_model_uses_the_cues(shipped: LiteTextAnalyzer) -> None:
    config = shipped._vocab.config
    assert config.negation and config.emoji
    assert "not_happy" in shipped._vocab.words
    happy = shipped.analyze("I am happy").scores["happy"]
    negated = shipped.analyze("I am not happy")
    assert negated.label != "happy" and negated.scores["happy"] < happy / 2


# --- the shipped model on dev -----------------------------------------------------------


@pytest.mark.slow
def test_shipped_model_beats_the_majority_baseline_on_dev(shipped: LiteTextAnalyzer) -> None:
    if not (DATA / "dev.tsv").is_file():
        pytest.skip(f"GoEmotions data not found at {DATA} (../shared/data is not here)")
    evaluate = _script("eval_text")
    examples = evaluate.read_dataset(DATA / "dev.tsv")
    results = shipped.analyze_batch([e.text for e in examples])
    golds = [e.gold for e in examples]
    preds = [r.label for r in results]
    result = evaluate.score(preds, golds)
    majority = evaluate.score([evaluate.majority_label(golds)] * len(golds), golds)
    assert result["accuracy"] > majority["accuracy"] + 0.20
    assert result["macro_f1"] > majority["macro_f1"] + 0.45
    assert min(result["f1"].values()) > 0.40  # no class is left behind
    correct = [p in g for p, g in zip(preds, golds, strict=True)]
    ece = evaluate.expected_calibration_error([r.confidence for r in results], correct)
    assert ece < 0.04


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
    assert "precision" in out and "ECE" in out and "macro-F1" in out


def test_eval_metrics_by_hand() -> None:
    evaluate = _script("eval_text")
    golds = [("happy",), ("sad", "angry"), ("fear",), ("happy",)]
    preds = ["happy", "angry", "happy", "sad"]
    result = evaluate.score(preds, golds)
    assert result["accuracy"] == 0.5
    assert result["confusion"]["angry"]["angry"] == 1
    assert result["confusion"]["fear"]["happy"] == 1
    assert result["recall"]["happy"] == 0.5
    assert result["precision"]["happy"] == 0.5  # predicted twice, right once
    assert result["f1"]["angry"] == 1.0  # the "sad, angry" row counts as angry: right
    assert "fear" in result["recall"] and "fear" not in result["precision"]  # never predicted
    assert result["macro_f1"] == sum(result["f1"].values()) / len(result["f1"])
    table = evaluate.format_per_class(result)
    assert "precision" in table and table.count("\n") == len(EMOTIONS)
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
