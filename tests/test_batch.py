"""Batch runs: CSV and folder inputs, outputs, resume, bad rows, and the CLI front."""

from __future__ import annotations

import csv
import json
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.cli_runner import run_vsa
from tests.conftest import DATA, SHARED
from vsa_desktop.core.batch import BatchOutputs, read_items, run_batch
from vsa_desktop.core.errors import InputError
from vsa_desktop.core.history import HistoryStore
from vsa_desktop.core.pipeline import AnalysisRequest

DEV_TSV = SHARED / "data" / "goemotions-ekman" / "dev.tsv"


def dev_texts(n: int) -> list[str]:
    if not DEV_TSV.exists():
        pytest.skip(f"{DEV_TSV} is not here")
    with DEV_TSV.open(encoding="utf-8") as f:
        return [line.split("\t")[0] for _, line in zip(range(n), f, strict=False)]


def write_csv(path: Path, rows: list[dict[str, str]]) -> Path:
    with path.open("w", encoding="utf-8", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    return path


@pytest.fixture
def batch_csv(tmp_path: Path) -> Path:
    shutil.copy(DATA / "astronaut.png", tmp_path / "astronaut.png")
    rows = [
        {"id": f"r{i}", "gold": "joy", "text": t, "image": ""} for i, t in enumerate(dev_texts(200))
    ]
    rows[3]["image"] = "astronaut.png"
    rows[7]["image"] = "astronaut.png"
    rows[11]["image"] = "missing.jpg"  # has text: read from the text alone, "partial"
    rows[12]["text"] = '=HYPERLINK("http://x")'
    rows[13].update(text="", image="later.png")  # no text, no image: a failed row
    return write_csv(tmp_path / "items.csv", rows)


def request_for(model: Path):
    return lambda item: AnalysisRequest(
        text=item.text, image=item.image, text_model=str(model), vision="local", offline=True
    )


def test_csv_items_keep_extra_columns_and_resolve_images(batch_csv: Path) -> None:
    items, extra = read_items(batch_csv)
    assert len(items) == 200 and extra == ["id", "gold"]
    assert items[3].image == batch_csv.parent / "astronaut.png"
    assert items[0].extra == {"id": "r0", "gold": "joy"}
    assert len({item.key for item in items}) == 200


def test_batch_of_200_completes_then_resumes(
    batch_csv: Path, tmp_path: Path, tiny_model_dir: Path
) -> None:
    items, extra = read_items(batch_csv)
    jsonl, out_csv = tmp_path / "out.jsonl", tmp_path / "out.csv"
    store = HistoryStore()
    seen: list[int] = []
    summary = run_batch(
        items,
        BatchOutputs(jsonl, out_csv, extra),
        request_for(tiny_model_dir),
        history=store,
        progress=lambda n, total, s: seen.append(n),
    )
    assert summary.done == 199 and summary.skipped == 0 and summary.partial == 1
    assert [key for key, _ in summary.failures] == [items[13].key]
    assert "later.png does not exist" in summary.failures[0][1]
    assert sum(summary.labels.values()) == 199 and seen[-1] == 200
    docs = [json.loads(line) for line in jsonl.read_text(encoding="utf-8").splitlines()]
    assert len(docs) == 200  # every row, the failed one too
    by_key = {d["batch"]["key"]: d for d in docs}
    assert by_key[items[3].key]["mode"] == "multimodal"
    assert by_key[items[3].key]["vision"]["label"] == "happy"
    assert by_key[items[0].key]["batch"]["extra"] == {"id": "r0", "gold": "joy"}
    assert by_key[items[0].key]["batch"]["status"] == "ok"
    partial = by_key[items[11].key]
    assert partial["batch"]["status"] == "partial" and partial["mode"] == "text-only"
    assert (
        "The image missing.jpg was not found; this reading is from the text alone."
        in (partial["warnings"])
    )
    failed = by_key[items[13].key]
    assert failed["schema"] == "vsa.batch-failure/1" and failed["batch"]["status"] == "failed"
    assert failed["batch"]["error"]["kind"] == "image"
    assert "later.png does not exist" in failed["batch"]["error"]["message"]
    with out_csv.open(encoding="utf-8-sig", newline="") as f:
        reader = csv.DictReader(f)
        header = list(reader.fieldnames or [])
        rows = list(reader)
    assert len(header) == len(set(header)), "a column name is there twice"
    assert header[-5:] == ["batch_item", "status", "error", "input.id", "gold"]
    assert len(rows) == 200 and rows[0]["input.id"] == "r0" and rows[0]["gold"] == "joy"
    assert rows[0]["id"] == by_key[items[0].key]["id"]  # the result's own id keeps its name
    assert next(r for r in rows if r["input.id"] == "r12")["text"].startswith("'=")
    bad = next(r for r in rows if r["input.id"] == "r13")
    assert bad["status"] == "failed" and "later.png does not exist" in bad["error"]
    assert bad["fused_label"] == "" and bad["image_name"] == "later.png"
    assert store.count() == 199

    again = run_batch(items, BatchOutputs(jsonl, out_csv, extra), request_for(tiny_model_dir))
    assert again.done == 0 and again.skipped == 199 and len(again.failures) == 1
    assert again.retried == 1  # the failed row is tried again, and fails again
    assert len(jsonl.read_text(encoding="utf-8").splitlines()) == 200


def test_a_rerun_retries_failed_and_partial_rows_once_their_images_appear(
    batch_csv: Path, tmp_path: Path, tiny_model_dir: Path
) -> None:
    items, extra = read_items(batch_csv)
    items = items[10:15]  # 11: text + missing image (partial), 13: image only, missing
    jsonl, out_csv = tmp_path / "o.jsonl", tmp_path / "o.csv"
    store = HistoryStore()
    first = run_batch(
        items, BatchOutputs(jsonl, out_csv, extra), request_for(tiny_model_dir), history=store
    )
    assert first.done == 4 and first.partial == 1 and len(first.failures) == 1
    untouched = run_batch(items, BatchOutputs(jsonl, out_csv, extra), request_for(tiny_model_dir))
    assert untouched.retried == 1 and untouched.skipped == 4  # the partial row waits for its image
    shutil.copy(DATA / "astronaut.png", tmp_path / "later.png")
    shutil.copy(DATA / "astronaut.png", tmp_path / "missing.jpg")
    second = run_batch(
        items, BatchOutputs(jsonl, out_csv, extra), request_for(tiny_model_dir), history=store
    )
    assert second.retried == 2 and second.done == 2 and not second.failures
    docs = [json.loads(x) for x in jsonl.read_text(encoding="utf-8").splitlines()]
    keys = [d["batch"]["key"] for d in docs]
    assert sorted(keys) == sorted(i.key for i in items)  # each row once
    by_key = {d["batch"]["key"]: d for d in docs}
    assert by_key[items[1].key]["mode"] == "multimodal"
    assert by_key[items[1].key]["batch"]["status"] == "ok"
    assert by_key[items[3].key]["mode"] == "image-only"
    with out_csv.open(encoding="utf-8-sig", newline="") as f:
        rows = list(csv.DictReader(f))
    assert sorted(r["batch_item"] for r in rows) == sorted(keys)
    assert {r["status"] for r in rows} == {"ok"}
    assert store.count() == 5  # the partial row's history copy was replaced, not doubled


def test_grouped_text_results_equal_single_analysis(
    batch_csv: Path, tmp_path: Path, tiny_model_dir: Path
) -> None:
    from vsa_desktop.core.pipeline import analyze

    items, extra = read_items(batch_csv)
    items = items[:20]
    jsonl = tmp_path / "o.jsonl"
    run_batch(items, BatchOutputs(jsonl, None, extra), request_for(tiny_model_dir))
    docs = [json.loads(x) for x in jsonl.read_text(encoding="utf-8").splitlines()]
    single = analyze(request_for(tiny_model_dir)(items[5]))
    assert single.text is not None
    assert docs[5]["text"]["scores"] == pytest.approx(single.text.scores, abs=1e-5)


def test_torn_last_line_and_csv_gap_are_repaired_on_resume(
    batch_csv: Path, tmp_path: Path, tiny_model_dir: Path
) -> None:
    items, extra = read_items(batch_csv)
    items = items[:6]
    jsonl, out_csv = tmp_path / "o.jsonl", tmp_path / "o.csv"
    run_batch(items[:4], BatchOutputs(jsonl, None, extra), request_for(tiny_model_dir))
    with jsonl.open("a", encoding="utf-8") as f:
        f.write('{"schema": "vsa.res')  # killed mid-write
    summary = run_batch(items, BatchOutputs(jsonl, out_csv, extra), request_for(tiny_model_dir))
    assert summary.skipped == 4 and summary.done == 2
    docs = [json.loads(x) for x in jsonl.read_text(encoding="utf-8").splitlines()]
    assert len(docs) == 6
    with out_csv.open(encoding="utf-8-sig", newline="") as f:
        assert len(list(csv.DictReader(f))) == 6  # 4 copied from the JSONL, 2 new


def test_folder_input_pairs_images_with_text(tmp_path: Path) -> None:
    shutil.copy(DATA / "astronaut.png", tmp_path / "a.png")
    shutil.copy(DATA / "astronaut.png", tmp_path / "b.jpg.png")
    (tmp_path / "a.txt").write_text("What a day!", encoding="utf-8")
    (tmp_path / "notes.md").write_text("ignored")
    items, extra = read_items(tmp_path)
    assert [i.key for i in items] == ["a.png", "b.jpg.png"] and extra == []
    assert items[0].text == "What a day!" and items[1].text is None


def test_bad_inputs_are_input_errors(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="does not exist"):
        read_items(tmp_path / "nope.csv")
    bad = write_csv(tmp_path / "bad.csv", [{"caption": "x"}])
    with pytest.raises(InputError, match="'text' and/or an 'image' column"):
        read_items(bad)
    with pytest.raises(InputError, match="output"):
        BatchOutputs(None, None, [])


def test_cli_batch_and_history_round_trip(
    tmp_path: Path, tiny_model_dir: Path, vsa_home: Path
) -> None:
    rows = [{"text": t} for t in dev_texts(12)]
    source = write_csv(tmp_path / "in.csv", rows)

    def vsa(*args: str) -> subprocess.CompletedProcess[str]:
        return run_vsa(vsa_home, *args)

    out = tmp_path / "out.jsonl"
    first = vsa("batch", str(source), "--jsonl", str(out), "--text-model", str(tiny_model_dir))
    assert first.returncode == 0, first.stderr
    assert "Analysed 12 of 12" in first.stderr
    second = vsa("batch", str(source), "--jsonl", str(out), "--text-model", str(tiny_model_dir))
    assert "12 already done" in second.stderr and "Analysed 0 of 12" in second.stderr
    listing = vsa("history", "list", "--json", "--limit", "100")
    assert len(listing.stdout.splitlines()) == 12


def test_adding_a_jsonl_to_a_csv_only_run_does_not_duplicate(
    batch_csv: Path, tmp_path: Path, tiny_model_dir: Path
) -> None:
    items, extra = read_items(batch_csv)
    items = items[:5]
    out_csv, jsonl = tmp_path / "o.csv", tmp_path / "o.jsonl"
    run_batch(items, BatchOutputs(None, out_csv, extra), request_for(tiny_model_dir))
    again = run_batch(items, BatchOutputs(jsonl, out_csv, extra), request_for(tiny_model_dir))
    assert again.skipped == 5 and again.done == 0
    with out_csv.open(encoding="utf-8-sig", newline="") as f:
        assert len(list(csv.DictReader(f))) == 5


def test_unusable_outputs_are_clear_errors(batch_csv: Path, tmp_path: Path) -> None:
    _, extra = read_items(batch_csv)
    folder = tmp_path / "d"
    folder.mkdir()
    with pytest.raises(InputError, match="is a folder"):
        BatchOutputs(folder, None, extra)
    latin = tmp_path / "latin.csv"
    latin.write_bytes("caf\xe9,x\n".encode("latin-1"))
    with pytest.raises(InputError, match="not UTF-8"):
        BatchOutputs(None, latin, extra)
    other = tmp_path / "other.csv"
    other.write_text("a,b\n1,2\n", encoding="utf-8")
    with pytest.raises(InputError, match="other columns"):
        BatchOutputs(None, other, extra)


def test_cancel_stops_a_batch_between_items(
    batch_csv: Path, tmp_path: Path, tiny_model_dir: Path
) -> None:
    from vsa_desktop.core.cancel import CancelToken

    items, extra = read_items(batch_csv)
    token = CancelToken()

    def progress(n: int, _total: int, _s: object) -> None:
        if n == 3:
            token.cancel()

    jsonl = tmp_path / "o.jsonl"
    summary = run_batch(
        items[:10],
        BatchOutputs(jsonl, None, extra),
        request_for(tiny_model_dir),
        progress=progress,
        cancel=token,
    )
    assert summary.cancelled and summary.done == 3
    assert len(jsonl.read_text(encoding="utf-8").splitlines()) == 3


@pytest.mark.parametrize("kind", ["csv", "jsonl"])
def test_an_output_that_is_the_input_is_refused_and_the_input_kept(
    tmp_path: Path, vsa_home: Path, kind: str
) -> None:
    """Writing results into the input appended them to it and read them back as rows."""
    rows = [{"text": t} for t in dev_texts(3)]
    if kind == "csv":
        source = write_csv(tmp_path / "in.csv", rows)
    else:
        source = tmp_path / "in.jsonl"
        source.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    before = source.read_bytes()
    same = run_vsa(vsa_home, "batch", str(source), "--jsonl", str(source), "--no-history")
    assert same.returncode == 2, same.stderr
    assert "is the input itself" in same.stderr and "Traceback" not in same.stderr
    assert source.read_bytes() == before
    out = tmp_path / "out.x"
    twice = run_vsa(
        vsa_home, "batch", str(source), "--jsonl", str(out), "--csv", str(out), "--no-history"
    )
    assert twice.returncode == 2 and "two outputs" in twice.stderr
