"""The "Batch…" dialog (run, cancel, resume) and the batch report view (charts, export)."""

# ruff: noqa: F811  (pytest fixtures imported from tests.gui_support are redefined as args)

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

pytest.importorskip("PySide6")

from tests.gui_support import GUI_MARKS, gui_guard, wait_for  # noqa: F401
from vsa_desktop.core.settings import Settings
from vsa_desktop.gui.batch_dialog import BatchDialog, default_output
from vsa_desktop.gui.report_view import ReportView

pytestmark = GUI_MARKS
WAIT_MS = 120_000


def posts(folder: Path, n: int) -> Path:
    source = folder / "posts.csv"
    with source.open("w", encoding="utf-8", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["id", "account", "text"])
        writer.writerows(
            [f"p{i}", f"@a{i % 3}", f"post {i}: {'so happy' if i % 2 else 'this is awful'}"]
            for i in range(n)
        )
    return source


def keys(path: Path) -> list[str]:
    return [json.loads(x)["batch"]["key"] for x in path.read_text(encoding="utf-8").splitlines()]


def test_the_batch_dialog_runs_cancels_and_resumes(qtbot, gui_guard, tmp_path: Path) -> None:
    source = posts(tmp_path, 400)
    dialog = BatchDialog(Settings(text_model="builtin:lite", vision_backend="none"))
    qtbot.addWidget(dialog)
    dialog.set_paths(source)
    out = default_output(source)
    assert dialog.output_edit.text() == str(out) and dialog.start_button.text() == "Start"
    with qtbot.waitSignal(dialog.run_finished, timeout=WAIT_MS) as stopped:
        dialog.start()
        qtbot.waitUntil(lambda: dialog.progress.value() > 0, timeout=WAIT_MS)
        dialog.cancel()
    first = stopped.args[0]
    assert first.cancelled and 0 < first.done < 400
    qtbot.waitUntil(lambda: dialog.start_button.isEnabled(), timeout=WAIT_MS)
    assert dialog.start_button.text() == "Resume" and "Resume" in dialog.status.text()
    with qtbot.waitSignal(dialog.run_finished, timeout=WAIT_MS) as finished:
        dialog.start()
    second = finished.args[0]
    assert second.skipped == len(keys(out)) - second.done and not second.cancelled
    assert sorted(keys(out)) == sorted(set(keys(out))) and len(keys(out)) == 400
    assert dialog.progress.value() == 100 and "Analysed" in dialog.status.text()
    qtbot.waitUntil(lambda: dialog.open_button.isEnabled(), timeout=WAIT_MS)
    with qtbot.waitSignal(dialog.results_opened) as opened:
        dialog.open_button.click()
    assert opened.args == [out]
    dialog.reject()


def test_the_report_view_shows_the_charts_and_exports(qtbot, gui_guard, tmp_path: Path) -> None:
    from vsa_desktop.core.batch import BatchOutputs, RequestTemplate, read_items, run_batch
    from vsa_desktop.core.pipeline import AnalysisRequest

    items, extra = read_items(posts(tmp_path, 60))
    jsonl = tmp_path / "r.jsonl"
    run_batch(
        items,
        BatchOutputs(jsonl, None, extra),
        RequestTemplate(AnalysisRequest(text_model="builtin:lite", vision="none")),
    )
    view = ReportView(jsonl)
    qtbot.addWidget(view)
    qtbot.waitUntil(lambda: view.data is not None, timeout=WAIT_MS)
    assert view.data is not None and view.data.results == 60
    titles = [view.tabs.tabText(i) for i in range(view.tabs.count())]
    assert titles == ["Fused labels", "Per channel", "Agreement", "Channels disagree"]
    boxes = [view.group_box.itemText(i) for i in range(view.group_box.count())]
    assert boxes == ["(none)", "account", "id"] and view.group_box.isEnabled()
    with qtbot.waitSignal(view.loaded, timeout=WAIT_MS) as again:
        view.group_box.setCurrentText("account")  # the user picks a breakdown: read again
    assert sorted(again.args[0].by_group) == ["@a0", "@a1", "@a2"]
    assert sum(sum(c.values()) for c in again.args[0].by_group.values()) == 60
    titles = [view.tabs.tabText(i) for i in range(view.tabs.count())]
    assert titles == ["Fused labels", "Per channel", "Agreement", "By account", "Channels disagree"]
    assert view.group_box.currentText() == "account" and view.time_box.currentText() == "(none)"
    assert "60 readings" in view.summary.text()
    with wait_for(qtbot, view.exported, fails=(view.failed,)):
        view.export_to(tmp_path / "r.html")
    page = (tmp_path / "r.html").read_text(encoding="utf-8")
    assert 'id="group-counts"' in page and "@a1" in page
    with wait_for(qtbot, view.exported, fails=(view.failed,)):
        view.export_to(tmp_path / "r.pdf")
    assert (tmp_path / "r.pdf").read_bytes().startswith(b"%PDF-")
    view.reject()


def test_the_report_view_says_why_a_file_cannot_be_read(qtbot, gui_guard, tmp_path: Path) -> None:
    bad = tmp_path / "notes.jsonl"
    bad.write_text("not json\n", encoding="utf-8")
    view = ReportView(bad)
    qtbot.addWidget(view)
    qtbot.waitUntil(lambda: "holds no vsa batch rows" in view.summary.text(), timeout=WAIT_MS)
    assert not view.html_button.isEnabled()
    view.reject()


def test_images_outside_the_folder_need_the_tick_box(qtbot, gui_guard, tmp_path: Path) -> None:
    from tests.gui_support import ASTRONAUT

    source = tmp_path / "photos.csv"
    source.write_text(f"text,image\nso happy,{ASTRONAUT}\nso sad,{ASTRONAUT}\n", encoding="utf-8")
    dialog = BatchDialog(Settings(text_model="builtin:lite", vision_backend="local"))
    qtbot.addWidget(dialog)
    dialog.set_paths(source)
    with qtbot.waitSignal(dialog.run_finished, timeout=WAIT_MS) as refused:
        dialog.start()
    assert len(refused.args[0].failures) == 2
    said = dialog.status.text()
    assert "Most failures (2)" in said and "tick “Images may lie outside" in said
    assert "--allow" not in said
    dialog.outside_box.setChecked(True)
    with qtbot.waitSignal(dialog.run_finished, timeout=WAIT_MS) as allowed:
        dialog.start()
    assert allowed.args[0].done == 2 and not allowed.args[0].failures
    assert "failed" not in json.dumps([json.loads(x)["batch"] for x in keys_lines(source)])
    dialog.reject()


def keys_lines(source: Path) -> list[str]:
    return default_output(source).read_text(encoding="utf-8").splitlines()


def test_the_status_line_follows_the_input(qtbot, gui_guard, tmp_path: Path) -> None:
    source = posts(tmp_path, 2)
    dialog = BatchDialog(Settings(text_model="builtin:lite", vision_backend="none"))
    qtbot.addWidget(dialog)
    assert dialog.status.text() == "Choose what to analyse."
    dialog.set_paths(source)
    assert dialog.status.text() == "Press Start to analyse it."
    default_output(source).write_text("", encoding="utf-8")
    dialog.set_paths(source)
    assert dialog.status.text() == "Press Resume to go on from where the last run stopped."
    dialog.input_edit.setText("")
    assert dialog.status.text() == "Choose what to analyse."
    dialog.reject()


def test_a_companion_text_outside_the_folder_names_the_tick_box(
    qtbot, gui_guard, tmp_path: Path
) -> None:
    from tests.gui_support import ASTRONAUT

    folder = tmp_path / "photos"
    folder.mkdir()
    (folder / "a.png").write_bytes(ASTRONAUT.read_bytes())
    secret = tmp_path / "secret.txt"
    secret.write_text("not for the batch", encoding="utf-8")
    (folder / "a.txt").symlink_to(secret)
    dialog = BatchDialog(Settings(text_model="builtin:lite", vision_backend="none"))
    qtbot.addWidget(dialog)
    dialog.set_paths(folder, tmp_path / "out.jsonl")
    dialog.start()
    qtbot.waitUntil(lambda: "outside" in dialog.status.text(), timeout=WAIT_MS)
    said = dialog.status.text()
    assert "tick “Images may lie outside the table's folder”" in said and "--allow" not in said
    dialog.reject()


def test_a_refused_input_names_the_tick_box_not_the_option(
    qtbot, gui_guard, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from vsa_desktop.core import batch
    from vsa_desktop.core.errors import InputError

    def refuse(_source: Path, _allow: bool = False) -> None:
        raise InputError(f"The image x.png lies outside the input's folder; {batch.OUTSIDE_HINT}.")

    monkeypatch.setattr(batch, "read_items", refuse)  # the whole input refused, not one row
    dialog = BatchDialog(Settings(text_model="builtin:lite", vision_backend="none"))
    qtbot.addWidget(dialog)
    dialog.set_paths(posts(tmp_path, 1))
    dialog.start()
    qtbot.waitUntil(lambda: "outside" in dialog.status.text(), timeout=WAIT_MS)
    said = dialog.status.text()
    assert "tick “Images may lie outside the table's folder”" in said and "--allow" not in said
    dialog.reject()
