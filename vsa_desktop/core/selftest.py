"""A self-test that runs offline inside any install (also the frozen app): one line per check."""

from __future__ import annotations

import tempfile
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from vsa_desktop.core.resources import resource_path


@dataclass(frozen=True)
class CheckResult:
    """The outcome of one check."""

    name: str
    passed: bool
    detail: str
    seconds: float

    def line(self) -> str:
        """``PASS name (0.12 s): detail``."""
        word = "PASS" if self.passed else "FAIL"
        return f"{word} {self.name} ({self.seconds:.2f} s): {self.detail}"


Check = Callable[[Path], str]


def run_checks(checks: list[tuple[str, Check]], report: Callable[[CheckResult], None]) -> bool:
    """Run ``checks`` in a temporary folder, reporting each; True when all pass."""
    ok = True
    with tempfile.TemporaryDirectory(prefix="vsa-selftest-") as folder:
        for name, check in checks:
            started = time.perf_counter()
            try:
                detail, passed = check(Path(folder)), True
            except Exception as exc:  # a self-test reports every failure, whatever it is
                detail, passed = f"{type(exc).__name__}: {exc}", False
                traceback.print_exc()
            ok &= passed
            report(CheckResult(name, passed, detail, time.perf_counter() - started))
    return ok


def check_resources(_folder: Path) -> str:
    """Every bundled resource the app needs is present."""
    needed = [
        ("models", "fer", "fer_mini_xception.onnx"),
        ("models", "fer-vgg", "fer_vgg.onnx"),
        ("models", "yunet", "face_detection_yunet_2023mar.onnx"),
        ("models", "text-lite", "model.npz"),
        ("prompts", "vision_emotion.txt"),
        ("calibration", "calibration.json"),
        ("samples", "astronaut.png"),
    ]
    missing = [str(Path(*p)) for p in needed if not resource_path(*p).is_file()]
    if missing:
        raise FileNotFoundError(f"missing resources: {', '.join(missing)}")
    return f"{len(needed)} resources found in {resource_path()}"


def check_local_faces(folder: Path) -> str:
    """The offline face backend finds the smiling face in the bundled photo."""
    from vsa_desktop.core.imaging import load_image
    from vsa_desktop.core.vision.local import LocalFaceBackend

    image = load_image(resource_path("samples", "astronaut.png"))
    result = LocalFaceBackend().analyze(image, [])
    if len(result.faces) != 1 or result.label != "happy":
        raise AssertionError(f"expected one happy face, got {len(result.faces)} / {result.label}")
    return f"1 face, {result.label} {result.confidence:.2f}"


def check_text_lite(_folder: Path) -> str:
    """The built-in text model reads a text."""
    from vsa_desktop.core.text.loader import LITE_ID, load_text_analyzer

    result = load_text_analyzer(LITE_ID).analyze("I miss her so much")
    if abs(sum(result.scores.values()) - 1) > 1e-6:
        raise AssertionError("scores do not sum to 1")
    return f"{result.label} {result.confidence:.2f}"


def check_pipeline_and_export(folder: Path) -> str:
    """A full multimodal analysis (lite text + local faces), fused, exported to JSON and PNG."""
    import json

    from vsa_desktop.core.export import export_results
    from vsa_desktop.core.pipeline import AnalysisRequest, analyze

    result = analyze(
        AnalysisRequest(
            text="What a wonderful day!",
            image=resource_path("samples", "astronaut.png"),
            text_model="builtin:lite",
            vision="local",
            offline=True,
        )
    )
    if result.mode != "multimodal" or result.fusion is None or result.fusion.agreement is None:
        raise AssertionError(f"expected a fused multimodal result, got {result.mode}")
    json_path = export_results([result], folder / "result.json")
    png_path = export_results([result], folder / "result.png")
    if json.loads(json_path.read_text(encoding="utf-8"))["id"] != result.id:
        raise AssertionError("the JSON export does not hold the result")
    if not png_path.read_bytes().startswith(b"\x89PNG"):
        raise AssertionError("the PNG export is not a PNG")
    agreement = result.fusion.agreement
    return (
        f"fused {result.fusion.label}, agreement {agreement.score:.2f} ({agreement.level}); "
        f"JSON {json_path.stat().st_size} B, PNG {png_path.stat().st_size} B"
    )


CORE_CHECKS: list[tuple[str, Check]] = [
    ("resources", check_resources),
    ("text-lite", check_text_lite),
    ("local-faces", check_local_faces),
    ("fusion+export", check_pipeline_and_export),
]
