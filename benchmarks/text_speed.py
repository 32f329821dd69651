"""Text runtime speed: the seed's transformers pipeline vs our torch, ONNX fp32 and ONNX int8.

Run ``python -m benchmarks.text_speed [--quick]``. The model has the exact shape of
j-hartmann/emotion-english-distilroberta-base (RoBERTa, hidden 768, 6 layers, 12 heads,
intermediate 3072, vocab 50265, 514 positions, 7 labels; ~82M parameters) with seeded random
weights, since weights cannot be downloaded here. Its tokenizer is a byte-level BPE trained on
the spot on the GoEmotions train texts with a 50265 target (the corpus runs out of merges
earlier; the embedding table keeps all 50265 rows). Model, ONNX copies and tokenizer are kept in
``--work`` (default: a folder in the temp dir) and reused by the next run.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT.parent / "shared" / "data" / "goemotions-ekman"
LABELS = ["anger", "disgust", "fear", "joy", "neutral", "sadness", "surprise"]
LENGTHS = (16, 64, 128, 512)
RUNTIMES = ("a", "b", "c", "d")
NAMES = {
    "a": "(a) seed: transformers pipeline, torch fp32",
    "b": "(b) ours: torch",
    "c": "(c) ours: ONNX fp32",
    "d": "(d) ours: ONNX int8",
}


def build_model(folder: Path) -> Path:
    """Write a DistilRoBERTa-shaped emotion classifier (random, seeded weights) to ``folder``."""
    import torch
    from tokenizers import ByteLevelBPETokenizer
    from transformers import RobertaConfig, RobertaForSequenceClassification, RobertaTokenizerFast

    folder.mkdir(parents=True, exist_ok=True)
    bpe = ByteLevelBPETokenizer()
    bpe.train_from_iterator(
        _texts("train.tsv"),
        vocab_size=50265,
        min_frequency=2,
        show_progress=False,
        special_tokens=["<s>", "<pad>", "</s>", "<unk>", "<mask>"],
    )
    tok_dir = folder / "_bpe"
    tok_dir.mkdir(exist_ok=True)
    bpe.save_model(str(tok_dir))
    tokenizer = RobertaTokenizerFast(
        vocab=str(tok_dir / "vocab.json"), merges=str(tok_dir / "merges.txt"), model_max_length=512
    )
    shutil.rmtree(tok_dir)
    torch.manual_seed(0)
    config = RobertaConfig(
        vocab_size=50265,
        hidden_size=768,
        num_hidden_layers=6,
        num_attention_heads=12,
        intermediate_size=3072,
        max_position_embeddings=514,
        type_vocab_size=1,
        pad_token_id=tokenizer.pad_token_id,
        num_labels=len(LABELS),
        id2label=dict(enumerate(LABELS)),
        label2id={k: i for i, k in enumerate(LABELS)},
    )
    model = RobertaForSequenceClassification(config).eval()
    model.save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    return folder


def _texts(split: str) -> list[str]:
    rows = (DATA / split).read_text(encoding="utf-8").splitlines()
    return [row.split("\t")[0] for row in rows if row.strip()]


def sized_texts(tokenizer_file: Path) -> dict[int, str]:
    """Texts that encode to exactly n tokens including the two special tokens."""
    from tokenizers import Tokenizer

    tok = Tokenizer.from_file(str(tokenizer_file))
    words = " ".join(_texts("dev.tsv")[:400]).split()
    out = {}
    for n in LENGTHS:
        count = n
        while True:
            text = " ".join(words[:count])
            got = len(tok.encode(text, add_special_tokens=False).ids) + 2
            if got <= n:
                break
            count -= 1
        while len(tok.encode(text, add_special_tokens=False).ids) + 2 < n:
            text += " ."
        out[n] = text
    return out


def percentile(values: list[float], q: float) -> float:
    """The q-th percentile (nearest rank) of ``values``."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q / 100 * (len(ordered) - 1)))]


def make_runners(model: Path) -> dict[str, tuple[Callable[[str], Any], Any]]:
    """(one-text call, batch call) per runtime."""
    from transformers import pipeline
    from transformers.utils import logging as hf_logging

    from vsa_desktop.core.text.convert import cached_report
    from vsa_desktop.core.text.onnx_backend import OnnxTextAnalyzer
    from vsa_desktop.core.text.transformers_backend import TransformersTextAnalyzer

    hf_logging.set_verbosity_error()
    hf_logging.disable_progress_bar()
    pipe = pipeline("text-classification", model=str(model), tokenizer=str(model), top_k=None)
    report = cached_report(str(model))
    assert report is not None
    ours = {
        "b": TransformersTextAnalyzer(str(model)),
        "c": OnnxTextAnalyzer(report.folder, str(model), int8=False),
        "d": OnnxTextAnalyzer(report.folder, str(model), int8=True),
    }
    runners: dict[str, tuple[Callable[[str], Any], Any]] = {"a": (pipe, None)}
    for key, analyzer in ours.items():
        runners[key] = (analyzer.analyze, analyzer.analyze_batch)
    return runners


def latency(runners: dict[str, Any], texts: dict[int, str], reps: int) -> dict[Any, Any]:
    """p50/p95 milliseconds per runtime and input length.

    Each runtime runs its calls in blocks (one warm-up call per block), and the blocks of the
    runtimes take turns twice, so a busy machine slows them all alike. Calls are not
    interleaved one by one: ONNX Runtime's idle threads spin for a moment after each run and
    would slow a torch call that follows at once.
    """
    out: dict[Any, Any] = {}
    for n, text in texts.items():
        ms: dict[str, list[float]] = {key: [] for key in runners}
        block = max(3, (reps if n < 512 else reps // 3) // 2)
        for _round in range(2):
            for key, (one, _) in runners.items():
                one(text)
                for _ in range(block):
                    start = time.perf_counter()
                    one(text)
                    ms[key].append((time.perf_counter() - start) * 1000)
        for key, values in ms.items():
            out[key, n] = (statistics.median(values), percentile(values, 95))
        print(
            f"  latency {n:>3} tokens: "
            + ", ".join(f"{key} {out[key, n][0]:.1f} ms" for key in runners),
            flush=True,
        )
    return out


def throughput(runners: dict[str, Any], texts: list[str]) -> dict[str, float]:
    """Texts per second, one call per text and (ours) one analyze_batch call."""
    out = {}
    for key, (one, batch) in runners.items():
        start = time.perf_counter()
        for text in texts:
            one(text)
        out[f"{key} one-by-one"] = len(texts) / (time.perf_counter() - start)
        if batch is not None:
            start = time.perf_counter()
            batch(texts)
            out[f"{key} analyze_batch"] = len(texts) / (time.perf_counter() - start)
        print(f"  throughput {key} done", flush=True)
    return out


CHILD = """
import sys
model, runtime = sys.argv[1], sys.argv[2]
texts = sys.argv[3:]
if runtime == "a":
    from transformers import pipeline
    from transformers.utils import logging
    logging.set_verbosity_error(); logging.disable_progress_bar()
    run = pipeline("text-classification", model=model, tokenizer=model, top_k=None)
else:
    from vsa_desktop.core.text.loader import load_text_analyzer
    run = load_text_analyzer(model, {"b": "torch", "c": "onnx", "d": "auto"}[runtime]).analyze
run(texts[0])
print("READY", flush=True)
for _ in range(3):
    for text in texts:
        run(text)
# VmHWM, not ru_maxrss: Linux carries ru_maxrss over from the (large) parent across exec.
status = open("/proc/self/status").read().split("VmHWM:")[1].split()[0]
print(status, flush=True)
"""


def child_run(model: Path, key: str, texts: list[str], env: dict[str, str]) -> tuple[float, float]:
    """(seconds from process start to first result, peak RSS in MB) of a fresh process."""
    start = time.perf_counter()
    proc = subprocess.Popen(
        [sys.executable, "-c", CHILD, str(model), key, *texts],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        env=env,
        cwd=ROOT,
    )
    assert proc.stdout is not None
    ready = proc.stdout.readline()
    cold = time.perf_counter() - start
    rss = proc.stdout.readline()
    proc.wait(timeout=300)
    if not ready.startswith("READY") or not rss.strip():
        raise RuntimeError(f"benchmark child {key} failed")
    return cold, int(rss) / 1024


def processes(model: Path, texts: list[str], reps: int) -> dict[str, tuple[float, float]]:
    """Cold start (median of ``reps`` for a and d) and peak RSS per runtime."""
    env = {**os.environ, "TOKENIZERS_PARALLELISM": "false"}
    out = {}
    for key in RUNTIMES:
        runs = [child_run(model, key, texts, env) for _ in range(reps if key in "ad" else 1)]
        out[key] = (statistics.median(r[0] for r in runs), max(r[1] for r in runs))
        print(f"  process {key}: cold {out[key][0]:.2f} s, rss {out[key][1]:.0f} MB", flush=True)
    return out


def print_report(
    lat: dict[Any, Any], thr: dict[str, float], proc: dict[str, Any], report: Any, n_texts: int
) -> None:
    """Print the tables, ratios against (a), targets and fidelity."""
    print("\nLatency per text, ms (p50 / p95); ratio = (a) p50 / this p50")
    print(f"{'runtime':46}" + "".join(f"{f'{n} tok':>22}" for n in LENGTHS))
    for key in RUNTIMES:
        cells = []
        for n in LENGTHS:
            p50, p95 = lat[key, n]
            cells.append(f"{p50:7.1f} /{p95:7.1f} x{lat['a', n][0] / p50:4.1f}")
        print(f"{NAMES[key]:46}" + "".join(f"{c:>22}" for c in cells))
    print(f"\nThroughput on {n_texts} GoEmotions dev texts, texts/s (ratio vs (a))")
    base = thr["a one-by-one"]
    for name, value in thr.items():
        print(f"  {name:24} {value:8.1f}   x{value / base:4.1f}")
    print("\nFresh process: seconds to first result, peak RSS (MB)")
    for key in RUNTIMES:
        cold, rss = proc[key]
        print(
            f"  {NAMES[key]:46} {cold:6.2f} s {rss:8.0f} MB  "
            f"(cold x{proc['a'][0] / cold:4.1f}, rss x{rss / proc['a'][1]:4.2f})"
        )
    fid = report.fidelity
    print(
        f"\nint8 fidelity check ({fid.probes} probes): top-1 agreement {fid.agreement:.1%}, "
        f"mean |dp| {fid.mean_abs_diff:.5f}, max |dp| {fid.max_abs_diff:.4f}, "
        f"passed {report.int8_passed} {report.reason}"
    )
    print(
        f"fp32 ONNX vs torch: agreement {fid.fp32_agreement:.1%}, "
        f"max |dp| {fid.fp32_max_abs_diff:.2e}"
    )
    speedup = lat["a", 16][0] / lat["d", 16][0]
    print(
        "\nTargets: "
        f"16-token p50 >= 4x (a): x{speedup:.1f} {'met' if speedup >= 4 else 'NOT met'}; "
        f"cold start (d) < 1.5 s: {proc['d'][0]:.2f} s "
        f"{'met' if proc['d'][0] < 1.5 else 'NOT met'}; "
        f"peak RSS (d) < (a): {proc['d'][1]:.0f} vs {proc['a'][1]:.0f} MB "
        f"{'met' if proc['d'][1] < proc['a'][1] else 'NOT met'}"
    )


def main(argv: list[str] | None = None) -> int:
    """Build (or reuse) the model, convert it, measure and print the tables."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer repetitions and texts")
    parser.add_argument("--work", type=Path, default=Path(tempfile.gettempdir()) / "vsa-text-speed")
    args = parser.parse_args(argv)
    os.environ["VSA_HOME"] = str(args.work / "home")
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    model = args.work / "model"
    started = time.perf_counter()
    if not (model / "config.json").is_file():
        print("building the DistilRoBERTa-shaped model...", flush=True)
        build_model(model)
    from vsa_desktop.core.text.convert import ensure_onnx

    report = ensure_onnx(str(model))
    print(
        f"ONNX copies {'reused' if report.reused else f'built in {report.seconds:.0f} s'}: "
        f"{report.folder}",
        flush=True,
    )
    reps, n_texts, cold_reps = (10, 200, 1) if args.quick else (20, 1000, 3)
    sized = sized_texts(model / "tokenizer.json")
    dev = _texts("dev.tsv")[:n_texts]
    proc = processes(model, [sized[16], sized[64], sized[128]], cold_reps)
    runners = make_runners(model)
    lat = latency(runners, sized, reps)
    thr = throughput(runners, dev)
    print_report(lat, thr, proc, report, n_texts)
    print(
        f"\n(total {time.perf_counter() - started:.0f} s, {os.cpu_count()} cores, "
        f"load average {os.getloadavg()[0]:.1f})"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
