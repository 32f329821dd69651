"""The PyInstaller spec, the Linux desktop entry and its install script."""

from __future__ import annotations

import ast
import configparser
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SPEC = ROOT / "build.spec"
DESKTOP = ROOT / "packaging" / "linux" / "vsa-desktop.desktop"
INSTALL = ROOT / "scripts" / "install_desktop_entry.sh"
PATH_PREFIXES = ("resources/", "packaging/", "scripts/")


def _spec_tree() -> ast.Module:
    return ast.parse(SPEC.read_text(encoding="utf-8"), filename=str(SPEC))


def _assigned(tree: ast.Module, name: str) -> object:
    """The literal value of a top-level ``name = ...`` in the spec."""
    for node in tree.body:
        if isinstance(node, ast.Assign) and any(
            isinstance(t, ast.Name) and t.id == name for t in node.targets
        ):
            return ast.literal_eval(node.value)
    raise AssertionError(f"build.spec has no top-level {name} = ...")


def _calls(tree: ast.Module, func: str) -> list[ast.Call]:
    return [
        n
        for n in ast.walk(tree)
        if isinstance(n, ast.Call) and isinstance(n.func, ast.Name) and n.func.id == func
    ]


def _keyword(call: ast.Call, name: str) -> object:
    for kw in call.keywords:
        if kw.arg == name:
            return ast.literal_eval(kw.value)
    raise AssertionError(f"{ast.unparse(call.func)}() has no {name}=")


def test_spec_parses_and_every_path_it_names_exists() -> None:
    tree = _spec_tree()
    named = {
        n.value
        for n in ast.walk(tree)
        if isinstance(n, ast.Constant)
        and isinstance(n.value, str)
        and n.value.startswith(PATH_PREFIXES)
    }
    assert named, "build.spec names no resource paths"
    missing = sorted(p for p in named if not (ROOT / p).exists())
    assert not missing, f"build.spec names paths that do not exist: {missing}"


def test_bundled_resource_folders_are_not_empty() -> None:
    tree = _spec_tree()
    for folder in _assigned(tree, "RESOURCE_DIRS"):  # type: ignore[union-attr]
        files = [p for p in (ROOT / folder).rglob("*") if p.is_file()]
        assert files, f"{folder} is bundled but holds no files"


def _resource_path_calls() -> set[tuple[str, ...]]:
    """The literal leading arguments of every ``resource_path("a", "b", ...)`` in the package."""
    found: set[tuple[str, ...]] = set()
    for path in (ROOT / "vsa_desktop").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if (
                isinstance(node, ast.Call)
                and getattr(node.func, "id", getattr(node.func, "attr", "")) == "resource_path"
                and node.args
                and isinstance(node.args[0], ast.Constant)
            ):
                leading = []
                for arg in node.args:
                    if not isinstance(arg, ast.Constant):
                        break  # e.g. f"vsa-desktop-{size}.png": its folder is still checked
                    leading.append(str(arg.value))
                found.add(tuple(leading))
    return found


def _resource_constants() -> set[tuple[str, ...]]:
    """Tuples like ``FER_PARTS = ("models", "fer", "x.onnx")`` passed as ``resource_path(*X)``."""
    from vsa_desktop.core.vision.groq_backend import PROMPT_FILE
    from vsa_desktop.core.vision.local import FER_PARTS, YUNET_PARTS

    return {tuple(PROMPT_FILE), FER_PARTS, YUNET_PARTS}


def test_every_resource_the_code_asks_for_is_inside_a_bundled_folder() -> None:
    tree = _spec_tree()
    bundled = [
        *_assigned(tree, "RESOURCE_DIRS"),  # type: ignore[misc]
        *_assigned(tree, "RESOURCE_FILES"),  # type: ignore[misc]
    ]
    wanted = _resource_path_calls() | _resource_constants()
    assert wanted, "found no resource_path() calls to check"
    for parts in wanted:
        relative = "/".join(("resources", *parts))
        assert any(relative == b or relative.startswith(b + "/") for b in bundled), (
            f"{relative} is used by the code but not bundled by build.spec"
        )


def test_executables_are_one_windowed_and_one_console_without_upx() -> None:
    tree = _spec_tree()
    exes = _calls(tree, "EXE")
    assert len(exes) == 2
    consoles = sorted(bool(_keyword(e, "console")) for e in exes)
    assert consoles == [False, True]
    exe_options = next(
        n for n in _calls(tree, "dict") if any(kw.arg == "exclude_binaries" for kw in n.keywords)
    )
    assert _keyword(exe_options, "upx") is False
    assert _keyword(exe_options, "exclude_binaries") is True  # one-folder mode
    (collect,) = _calls(tree, "COLLECT")
    assert _keyword(collect, "upx") is False
    assert sum(isinstance(a, ast.Name) and a.id.endswith("_exe") for a in collect.args) == 2


def test_spec_excludes_torch_tkinter_and_unused_qt() -> None:
    tree = _spec_tree()
    excludes = set(_assigned(tree, "EXCLUDES"))  # type: ignore[arg-type]
    assert {"tkinter", "_tkinter"} <= excludes
    source = SPEC.read_text(encoding="utf-8")
    for module in ("torch", "transformers", "QtWebEngineCore", "Qt3DCore", "QtQuick", "QtQml"):
        assert f'"{module}"' in source
    options = next(
        n for n in _calls(tree, "dict") if any(kw.arg == "hooksconfig" for kw in n.keywords)
    )
    backends = _keyword(options, "hooksconfig")["matplotlib"]["backends"]  # type: ignore[index]
    assert {b.lower() for b in backends} == {"agg", "qtagg", "svg", "pdf"}


# ---------------------------------------------------------------- the desktop entry


def _read_desktop(path: Path) -> configparser.SectionProxy:
    parser = configparser.ConfigParser(interpolation=None, strict=True)
    parser.optionxform = str  # type: ignore[assignment,method-assign]  # keys are case-sensitive
    parser.read(path, encoding="utf-8")
    return parser["Desktop Entry"]


def test_desktop_file_is_valid() -> None:
    validate = shutil.which("desktop-file-validate")
    if validate:
        subprocess.run([validate, str(DESKTOP)], check=True)
    entry = _read_desktop(DESKTOP)
    for key in ("Name", "Exec", "Icon", "Type", "Categories"):
        assert entry.get(key), f"the desktop entry has no {key}"
    assert entry["Type"] == "Application"
    assert entry["Categories"].endswith(";")
    assert entry["Terminal"] == "false"
    icon = entry["Icon"]
    assert (ROOT / "resources" / "icons" / f"{icon}.svg").is_file()
    assert (ROOT / "resources" / "icons" / f"{icon}-48.png").is_file()


def test_install_script_stages_entry_and_icons(tmp_path: Path) -> None:
    stage = tmp_path / "stage"
    exe = "/opt/VSA Desktop/vsa-desktop"
    subprocess.run(
        ["bash", str(INSTALL), "--prefix", "/usr", "--exec", exe],
        check=True,
        capture_output=True,
        env={"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "DESTDIR": str(stage)},
    )
    share = stage / "usr" / "share"
    entry = _read_desktop(share / "applications" / "vsa-desktop.desktop")
    assert entry["Exec"] == f'"{exe}"'
    assert entry["TryExec"] == exe
    for size in (16, 48, 256):
        icon = share / "icons" / "hicolor" / f"{size}x{size}" / "apps" / "vsa-desktop.png"
        assert icon.read_bytes().startswith(b"\x89PNG")
    assert (share / "icons" / "hicolor" / "scalable" / "apps" / "vsa-desktop.svg").is_file()

    subprocess.run(
        ["bash", str(INSTALL), "--prefix", "/usr", "--uninstall"],
        check=True,
        capture_output=True,
        env={"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "DESTDIR": str(stage)},
    )
    assert not any(p.is_file() for p in share.rglob("*"))


def test_install_script_rejects_unknown_options(tmp_path: Path) -> None:
    done = subprocess.run(
        ["bash", str(INSTALL), "--bogus"],
        capture_output=True,
        text=True,
        env={"PATH": "/usr/bin:/bin", "HOME": str(tmp_path)},
    )
    assert done.returncode == 2
    assert "unknown option --bogus" in done.stderr


@pytest.mark.parametrize("script", ["build_app.sh", "install_desktop_entry.sh"])
def test_shell_scripts_parse(script: str) -> None:
    subprocess.run(["bash", "-n", str(ROOT / "scripts" / script)], check=True)
