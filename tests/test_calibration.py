"""Calibration maths on toys with a known answer, the shipped file, and the app's use of it."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from vsa_desktop.core import calibration as cal
from vsa_desktop.core import calibration_fit as fit
from vsa_desktop.core import reading
from vsa_desktop.core.result import TextResult, VisionResult
from vsa_desktop.core.taxonomy import EMOTIONS

K = len(EMOTIONS)


def calibrated_toy(n: int, seed: int, sharpness: float = 2.0) -> tuple[np.ndarray, np.ndarray]:
    """Distributions whose labels are drawn FROM them: calibrated by construction."""
    rng = np.random.default_rng(seed)
    probs = cal.softmax_rows(sharpness * rng.normal(size=(n, K)))
    labels = np.array([rng.choice(K, p=p) for p in probs])
    return probs, labels


def test_ece_of_a_calibrated_toy_is_small_and_of_an_overconfident_one_large() -> None:
    probs, labels = calibrated_toy(20000, 1)
    right = probs.argmax(1) == labels
    assert fit.ece(probs.max(1), right) < 0.015
    sharp = cal.temperature_scale(probs, 0.4)  # the same readings, over-confident
    assert fit.ece(sharp.max(1), right) > 0.1


def test_a_calibrated_toy_stays_calibrated() -> None:
    probs, labels = calibrated_toy(20000, 2)
    temperature, bias = fit.fit_bcts(probs, labels, balanced=False)
    assert temperature == pytest.approx(1.0, abs=0.05)
    assert np.abs(bias).max() < 0.1
    again = cal.temperature_scale(probs, temperature, bias)
    assert fit.ece(again.max(1), again.argmax(1) == labels) < 0.015


def test_an_overconfident_toy_is_fixed() -> None:
    probs, labels = calibrated_toy(20000, 3)
    overconfident = cal.temperature_scale(probs, 0.4)
    temperature, _ = fit.fit_bcts(overconfident, labels, balanced=False, with_bias=False)
    assert temperature == pytest.approx(1 / 0.4, rel=0.05)
    fixed = cal.temperature_scale(overconfident, temperature)
    right = fixed.argmax(1) == labels
    assert fit.ece(fixed.max(1), right) < 0.015 < fit.ece(overconfident.max(1), right)


def test_bias_correction_undoes_a_prior_shift() -> None:
    """A model that learnt a skewed prior (x4 on class 0) is put back on equal priors."""
    probs, labels = calibrated_toy(30000, 4, sharpness=1.5)
    skew = np.ones(K)
    skew[0] = 4.0
    shifted = probs * skew
    shifted /= shifted.sum(1, keepdims=True)
    temperature, bias = fit.fit_bcts(shifted, labels, balanced=False)
    assert temperature == pytest.approx(1.0, abs=0.05)
    # offsets are relative to class 0: every other class gets back log 4
    np.testing.assert_allclose(bias[1:], np.log(4.0), atol=0.1)


def test_agreement_temperature_learns_to_trust_agreement() -> None:
    """Rows that agree are right 95 % of the time, rows that do not 50 %, at the same pooled
    distribution: the fitted temperature must give them different confidences to match."""
    rng = np.random.default_rng(5)
    n = 8000
    pooled = np.tile(cal.softmax_rows(np.array([[2.0, 1.0, 0, 0, 0, 0, 0]])), (n, 1))
    agree = rng.random(n) < 0.5
    right = np.where(agree, rng.random(n) < 0.95, rng.random(n) < 0.5)
    features = np.column_stack([np.ones(n), agree.astype(float)])
    theta = fit.fit_agreement_temperature(pooled, features, right)
    top = fit.apply_agreement_temperature(pooled, theta, features).max(1)
    assert top[agree].mean() == pytest.approx(0.95, abs=0.02)
    assert top[~agree].mean() == pytest.approx(0.5, abs=0.02)


def test_reliability_bins_and_isotonic_fit() -> None:
    conf = np.array([0.05, 0.15, 0.95, 1.0])
    right = np.array([0, 0, 1, 1])
    rel = fit.reliability(conf, right, bins=10)
    assert rel.counts.sum() == 4 and rel.counts[-1] == 2  # 1.0 falls in the last bin
    assert rel.ece == pytest.approx((0.05 + 0.15 + 0.05 + 0.0) / 4)
    _xs, ys = fit.fit_isotonic(np.array([0.1, 0.2, 0.3, 0.4]), np.array([1, 0, 1, 1]))
    assert np.all(np.diff(ys) >= 0) and ys[-1] == 1.0


def test_channel_calibration_round_trips_and_checks_the_model_files(tmp_path: Path) -> None:
    model = tmp_path / "model.bin"
    model.write_bytes(b"weights")
    entry = cal.ChannelCalibration(
        fingerprint=cal.files_fingerprint([model]), temperature=2.0, bias=(0.0,) * K
    )
    again = cal.ChannelCalibration.from_dict(json.loads(json.dumps(entry.to_dict())))
    assert again == entry
    found = cal.CalibrationSet(channels={"text:x": entry})
    assert found.channel("text:x", [model]) is entry
    other = tmp_path / "other.bin"
    other.write_bytes(b"other weights")
    assert found.channel("text:x", [other]) is None  # fitted on other files: not applied


def test_a_missing_or_broken_file_means_uncalibrated(tmp_path: Path, caplog) -> None:
    cal.clear_cache()
    assert cal.load_calibration(tmp_path / "none.json").channels == {}
    broken = tmp_path / "broken.json"
    broken.write_text('{"schema": "vsa.calibration/1", "channels": {"x": {"temperature": -1}}}')
    assert cal.load_calibration(broken).channels == {}
    assert "unusable" in caplog.text


def test_the_shipped_file_fits_the_shipped_models() -> None:
    """If a model file changes, scripts/calibrate.py must be run again (this test says so)."""
    cal.clear_cache()
    shipped = cal.load_calibration()
    assert set(shipped.fusion) == {"weighted", "product"}
    assert shipped.default_rule in shipped.fusion
    for key in (reading.LITE_KEY, reading.LOCAL_KEY):
        assert reading.channel_calibration(key, shipped) is not None, (
            f"{key}: the shipped calibration was fitted on other model files; "
            "run scripts/calibrate.py"
        )
    levels = shipped.levels
    assert 0.0 < levels["mixed_min"] < 1.0 and 0.0 < levels["strong_min"] < 1.0
    assert "test" in json.dumps(shipped.provenance["data"])  # it says the test splits were unused


def test_lite_text_readings_are_calibrated_and_others_are_marked_raw() -> None:
    scores = {k: 1 / K for k in EMOTIONS} | {"happy": 0.4, "sad": 1 / K - (0.4 - 1 / K)}
    lite = TextResult("builtin:lite", "numpy", scores, "happy", 0.4)
    out = reading.calibrate_text(lite)
    assert out.calibrated and out.calibration == cal.CHANNEL_METHOD
    assert out.probabilities is not None and out.scores == scores
    assert out.confidence == max(out.probabilities.values())
    hub = TextResult("j-hartmann/emotion-english-distilroberta-base", "onnx", scores, "happy", 0.4)
    raw = reading.calibrate_text(hub)
    assert not raw.calibrated and raw.probabilities is None and raw.confidence == 0.4
    groq = VisionResult("groq", "qwen/qwen3.8-27b", scores, "happy", 0.4)
    assert not reading.calibrate_vision(groq).calibrated


def test_fusion_of_the_calibrated_pair_is_calibrated_and_others_are_not() -> None:
    scores = {k: 0.1 for k in EMOTIONS} | {"happy": 0.4}
    text = reading.calibrate_text(TextResult("builtin:lite", "numpy", scores, "happy", 0.4))
    face = reading.calibrate_vision(VisionResult("local", "fer", scores, "happy", 0.4))
    fused = reading.fuse_reading(text, face, (0.5, 0.5))
    assert fused is not None and fused.calibrated and fused.probabilities is not None
    assert fused.confidence == fused.probabilities[fused.label]
    assert fused.agreement is not None and fused.agreement.validated_accuracy is not None
    groq = VisionResult("groq", "qwen", scores, "happy", 0.4)
    mixed = reading.fuse_reading(text, reading.calibrate_vision(groq), (0.5, 0.5))
    assert mixed is not None and not mixed.calibrated and mixed.probabilities is None
    assert mixed.agreement is not None and mixed.agreement.validated_accuracy is None


def test_equal_priors_turn_the_prior_itself_into_no_preference() -> None:
    prior = np.array([0.4, 0.2, 0.1, 0.1, 0.1, 0.05, 0.05])
    entry = cal.ChannelCalibration("x", 1.0, (0.0,) * K, prior=tuple(prior))
    np.testing.assert_allclose(entry.equal_priors_array(prior), np.full(K, 1 / K))
    # evidence keeps its direction: twice the prior on sad makes sad the top label
    tilted = prior * np.array([1, 2, 1, 1, 1, 1, 1])
    assert entry.equal_priors_array(tilted / tilted.sum()).argmax() == 1


def test_a_channel_alone_keeps_its_calibration_and_two_move_to_equal_priors() -> None:
    scores = {k: 0.1 for k in EMOTIONS} | {"happy": 0.4}
    text = reading.calibrate_text(TextResult("builtin:lite", "numpy", scores, "happy", 0.4))
    face = reading.calibrate_vision(VisionResult("local", "fer", scores, "happy", 0.4))
    alone, none = reading.equal_priors(text, None)
    assert alone is text and none is None and text.calibration == cal.CHANNEL_METHOD
    both = reading.equal_priors(text, face)
    assert all(c is not None and c.calibration == cal.EQUAL_PRIORS_METHOD for c in both)
    moved = both[0]
    assert moved is not None and moved.probabilities != text.probabilities
    assert moved.confidence == max(moved.probabilities.values())  # type: ignore[union-attr]
    groq = VisionResult("groq", "qwen", scores, "happy", 0.4)
    kept_text, kept_groq = reading.equal_priors(text, reading.calibrate_vision(groq))
    assert kept_text is not None and kept_text.calibration == cal.EQUAL_PRIORS_METHOD
    assert kept_groq is not None and kept_groq.probabilities is None  # uncalibrated: as it is
