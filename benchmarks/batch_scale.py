"""Batch scale: the local engine against Ray Data with 1 and 2 workers, lite and ONNX int8 text.

Run ``python -m benchmarks.batch_scale [--texts 20000] [--work DIR]``. Each run is the real
``vsa batch INPUT --jsonl OUT --vision none --no-history`` in a fresh process group on the
first ``--texts`` GoEmotions train texts (text only). Measured per run:

* items/s: rows written per second after the first row appeared (the steady rate);
* start-up: seconds from the command's start to its first output row (imports, Ray's
  start, actors loading their models);
* wall: the whole command;
* peak memory: the most resident memory the run's processes held at once (driver, Ray's
  own processes and the workers, sampled every 0.2 s from /proc), and the driver's alone.

The ONNX int8 model has the exact shape of j-hartmann/emotion-english-distilroberta-base
with seeded random weights (``benchmarks.text_speed.build_model``; weights cannot be
downloaded here), converted by the app's own converter (``ensure_onnx``): its labels are
meaningless, its speed is real. The runtime used is read back from the results.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TRAIN = ROOT.parent / "shared" / "data" / "goemotions-ekman" / "train.tsv"
PAGE_KB = os.sysconf("SC_PAGE_SIZE") // 1024


@dataclass
class Run:
    """One measured command."""

    label: str
    engine: str
    workers: int
    rows: int = 0
    wall_s: float = 0.0
    startup_s: float = 0.0
    steady_per_s: float = 0.0
    peak_mb: float = 0.0
    driver_mb: float = 0.0
    runtime: str = ""


def write_input(path: Path, n: int) -> int:
    with TRAIN.open(encoding="utf-8") as f:
        texts = [line.split("\t")[0] for _, line in zip(range(n), f, strict=False)]
    with path.open("w", encoding="utf-8", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["id", "text"])
        writer.writerows([f"t{i}", t] for i, t in enumerate(texts))
    return len(texts)


def group_rss_kb(pgid: int) -> tuple[int, dict[int, int]]:
    """Total resident KB of the processes in group ``pgid``, and per pid."""
    per: dict[int, int] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
            fields = stat[stat.rfind(")") + 2 :].split()
            if int(fields[2]) != pgid:  # field 5 of stat: the process group
                continue
            per[int(entry)] = int(fields[21]) * PAGE_KB  # field 24: rss in pages
        except (OSError, ValueError, IndexError):
            continue
    return sum(per.values()), per


def lines(path: Path) -> int:
    try:
        with path.open("rb") as f:
            return sum(chunk.count(b"\n") for chunk in iter(lambda: f.read(1 << 20), b""))
    except FileNotFoundError:
        return 0


def measure(run: Run, source: Path, model: str, runtime: str, work: Path, n: int) -> Run:
    out = work / f"out-{run.label}-{run.engine}{run.workers}.jsonl"
    out.unlink(missing_ok=True)
    args = [
        sys.executable, "-m", "vsa_desktop.cli", "batch", str(source), "--jsonl", str(out),
        "--vision", "none", "--no-history", "--text-model", model, "--runtime", runtime,
        "--engine", run.engine,
    ]  # fmt: skip
    if run.engine == "ray":
        args += ["--workers", str(run.workers)]
    env = {**os.environ, "VSA_HOME": str(work / "home"), "TOKENIZERS_PARALLELISM": "false"}
    started = time.perf_counter()
    child = subprocess.Popen(
        args,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    first_at = None
    try:
        while child.poll() is None:
            total, per = group_rss_kb(child.pid)
            run.peak_mb = max(run.peak_mb, total / 1024)
            run.driver_mb = max(run.driver_mb, per.get(child.pid, 0) / 1024)
            if first_at is None and out.exists() and out.stat().st_size > 0:
                first_at = time.perf_counter()
            time.sleep(0.2)
    finally:
        ended = time.perf_counter()
        _, err = child.communicate()
        for _ in range(20):  # Ray's own processes of this run, if any are left
            try:
                os.killpg(child.pid, signal.SIGKILL)
            except ProcessLookupError:
                break
            time.sleep(0.1)
    if child.returncode != 0:
        raise RuntimeError(f"{run.label} {run.engine}: exit {child.returncode}\n{err[-2000:]}")
    run.rows = lines(out)
    assert run.rows == n, f"{run.rows} rows written for {n} texts"
    first_at = first_at or ended
    first_rows = 32  # the first write is one group (local) or one block (Ray)
    run.wall_s = ended - started
    run.startup_s = first_at - started
    run.steady_per_s = (run.rows - first_rows) / max(1e-9, ended - first_at)
    with out.open(encoding="utf-8") as f:
        run.runtime = json.loads(f.readline())["text"]["runtime"]
    print(
        f"  {run.label:10} {run.engine:5} x{run.workers}: {run.steady_per_s:7.1f} items/s, "
        f"start-up {run.startup_s:5.1f} s, wall {run.wall_s:6.1f} s, peak {run.peak_mb:6.0f} MB "
        f"(driver {run.driver_mb:.0f} MB), runtime {run.runtime}",
        flush=True,
    )
    return run


def driver_rates(source: Path, results: Path, work: Path) -> tuple[float, float]:
    """Rows/s of the two things only the driver does: reading the input, writing outputs.

    The writer is timed on the records of a finished run, handed over as Ray workers hand
    them (JSON blocks of 64 records), written to a new JSONL and CSV.
    """
    from vsa_desktop.core.batch_input import read_items
    from vsa_desktop.core.batch_output import (
        BatchOutputs,
        Record,
        make_record,
        outcome_from_doc,
    )

    t0 = time.perf_counter()
    items, extra = read_items(source)
    read_rate = len(items) / (time.perf_counter() - t0)
    docs = [json.loads(line) for line in results.read_text(encoding="utf-8").splitlines()]
    blocks = [
        json.dumps([make_record(outcome_from_doc(d), extra).to_list() for d in docs[i : i + 64]])
        for i in range(0, len(docs), 64)
    ]
    jsonl, out_csv = work / "writer.jsonl", work / "writer.csv"
    jsonl.unlink(missing_ok=True)
    out_csv.unlink(missing_ok=True)
    outputs = BatchOutputs(jsonl, out_csv, extra)
    t0 = time.perf_counter()
    for block in blocks:
        outputs.write_records([Record.from_list(r) for r in json.loads(block)])
    write_rate = len(docs) / (time.perf_counter() - t0)
    print(
        f"  driver: reads the input at {read_rate:,.0f} rows/s, writes JSONL+CSV at "
        f"{write_rate:,.0f} rows/s",
        flush=True,
    )
    return read_rate, write_rate


def onnx_model(work: Path) -> str:
    """The DistilRoBERTa-shaped model (random weights), converted by the app's converter."""
    os.environ["VSA_HOME"] = str(work / "home")
    from benchmarks.text_speed import build_model
    from vsa_desktop.core.text.convert import ensure_onnx

    model = work / "distilroberta-random"
    if not (model / "config.json").is_file():
        print("building the DistilRoBERTa-shaped model (random weights)...", flush=True)
        build_model(model)
    report = ensure_onnx(str(model))
    print(
        f"ONNX copies {'reused' if report.reused else f'built in {report.seconds:.0f} s'}; "
        f"int8 {'passed' if report.int8_passed else 'did not pass'} its fidelity check "
        f"({report.reason or 'ok'})",
        flush=True,
    )
    return str(model)


def print_table(runs: list[Run], n: int) -> None:
    print(f"\nvsa batch, {n:,} GoEmotions train texts, text only, {os.cpu_count()} cores\n")
    print(
        "| text model (runtime) | engine | workers | items/s (steady) | vs local | start-up s "
        "| wall s | peak memory MB (all / driver) |"
    )
    print("|---|---|---:|---:|---:|---:|---:|---:|")
    base: dict[str, float] = {}
    for r in runs:
        if r.engine == "local":
            base[r.label] = r.steady_per_s
        ratio = r.steady_per_s / base[r.label] if base.get(r.label) else float("nan")
        print(
            f"| {r.label} ({r.runtime}) | {r.engine} | {r.workers} | {r.steady_per_s:.0f} | "
            f"{ratio:.2f}x | {r.startup_s:.1f} | {r.wall_s:.1f} | "
            f"{r.peak_mb:.0f} / {r.driver_mb:.0f} |"
        )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--texts", type=int, default=20_000)
    parser.add_argument(
        "--work", type=Path, default=Path(tempfile.gettempdir()) / "vsa-batch-scale"
    )
    parser.add_argument("--only", choices=("lite", "onnx-int8"), help="one text runtime only")
    args = parser.parse_args(argv)
    args.work.mkdir(parents=True, exist_ok=True)
    source = args.work / "texts.csv"
    n = write_input(source, args.texts)
    plans = []
    if args.only in (None, "lite"):
        plans.append(("lite", "builtin:lite", "auto"))
    if args.only in (None, "onnx-int8"):
        plans.append(("onnx-int8", onnx_model(args.work), "onnx-int8"))
    runs = []
    started = time.perf_counter()
    for label, model, runtime in plans:
        for engine, workers in (("local", 1), ("ray", 1), ("ray", 2)):
            runs.append(measure(Run(label, engine, workers), source, model, runtime, args.work, n))
    print_table(runs, n)
    read_rate, write_rate = driver_rates(
        source, args.work / f"out-{runs[0].label}-local1.jsonl", args.work
    )
    print(
        f"\nDriver-side work (one process, whatever the cluster): reading the input "
        f"{read_rate:,.0f} rows/s; writing JSONL + CSV {write_rate:,.0f} rows/s."
    )
    print(
        f"\n(total {time.perf_counter() - started:.0f} s, load average "
        f"{os.getloadavg()[0]:.1f} at the end)"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
