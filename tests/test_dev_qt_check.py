"""``scripts/dev.sh qt-check``: the one install line for the system libraries Qt's window needs.

``ldd`` and ``/etc/os-release`` are replaced by small stand-ins, so each case (Debian, Fedora,
unknown system, nothing missing, offscreen) runs the script's real logic on any machine.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
pytestmark = pytest.mark.skipif(sys.platform != "linux", reason="the check runs on Linux only")


def run_check(
    tmp_path: Path, missing: list[str], os_id: str, **env: str
) -> subprocess.CompletedProcess:
    venv = tmp_path / "venv"
    platforms = venv / "lib/python3.11/site-packages/PySide6/Qt/plugins/platforms"
    platforms.mkdir(parents=True)
    (platforms / "libqxcb.so").write_bytes(b"")
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    lines = "".join(f"\\t{name} => not found\\n" for name in missing)
    ldd = bin_dir / "ldd"
    ldd.write_text(f"#!/bin/sh\nprintf '\\tlibc.so.6 => /lib/libc.so.6\\n{lines}'\n")
    ldd.chmod(0o755)
    ldconfig = bin_dir / "ldconfig"  # libxcb-cursor is there unless the case says otherwise
    ldconfig.write_text("#!/bin/sh\necho '\tlibxcb-cursor.so.0 (libc6,x86-64) => /x'\n")
    ldconfig.chmod(0o755)
    release = tmp_path / "os-release"
    release.write_text(f"ID={os_id}\n")
    environ = {
        **{k: v for k, v in os.environ.items() if k != "QT_QPA_PLATFORM"},
        "PATH": f"{bin_dir}:{os.environ['PATH']}",
        "VSA_VENV": str(venv),
        "VSA_OS_RELEASE": str(release),
        **env,
    }
    return subprocess.run(
        ["bash", str(ROOT / "scripts" / "dev.sh"), "qt-check"],
        env=environ,
        capture_output=True,
        text=True,
        timeout=60,
    )


def _env_of(tmp_path: Path) -> dict[str, str]:
    return {
        **{k: v for k, v in os.environ.items() if k != "QT_QPA_PLATFORM"},
        "PATH": f"{tmp_path / 'bin'}:{os.environ['PATH']}",
        "VSA_VENV": str(tmp_path / "venv"),
        "VSA_OS_RELEASE": str(tmp_path / "os-release"),
    }


def install_lines(stderr: str) -> list[str]:
    return [line.strip() for line in stderr.splitlines() if "install -y" in line]


def test_debian_gets_one_apt_line_for_the_missing_libraries(tmp_path):
    done = run_check(tmp_path, ["libxcb-icccm.so.4", "libxcb-keysyms.so.1"], "debian")
    assert done.returncode == 1
    (line,) = install_lines(done.stderr)
    assert line.endswith("apt-get install -y libxcb-icccm4 libxcb-keysyms1")
    assert "libxcb-icccm.so.4, libxcb-keysyms.so.1" in done.stderr
    assert "Qt platform plugin" not in done.stderr and done.stdout == ""


def test_ubuntu_is_debian_like_and_fedora_gets_dnf(tmp_path):
    ubuntu = run_check(tmp_path / "u", ["libxkbcommon-x11.so.0"], "ubuntu")
    assert install_lines(ubuntu.stderr)[0].endswith("apt-get install -y libxkbcommon-x11-0")
    fedora = run_check(
        tmp_path / "f", ["libxcb-icccm.so.4", "libxcb-image.so.0", "libxcb-keysyms.so.1"], "fedora"
    )
    (line,) = install_lines(fedora.stderr)
    assert line.endswith("dnf install -y xcb-util-image xcb-util-keysyms xcb-util-wm")


def test_unknown_system_gets_both_lines(tmp_path):
    done = run_check(tmp_path, ["libxcb-render-util.so.0", "libfoo-new.so.9"], "arch")
    lines = install_lines(done.stderr)
    assert len(lines) == 2
    assert "libxcb-render-util0" in lines[0] and "xcb-util-renderutil" in lines[1]
    assert "package unknown: libfoo-new.so.9" in done.stderr


def test_libxcb_cursor_is_checked_although_ldd_cannot_see_it(tmp_path):
    done = run_check(tmp_path, [], "debian")
    (tmp_path / "bin" / "ldconfig").write_text("#!/bin/sh\necho 'libc.so.6 (x) => /x'\n")
    again = subprocess.run(done.args, env=_env_of(tmp_path), capture_output=True, text=True)
    assert again.returncode == 1
    assert install_lines(again.stderr)[0].endswith("apt-get install -y libxcb-cursor0")


def test_no_venv_yet_says_nothing(tmp_path):
    env = {**os.environ, "VSA_VENV": str(tmp_path / "nothing")}
    env.pop("QT_QPA_PLATFORM", None)
    done = subprocess.run(
        ["bash", str(ROOT / "scripts" / "dev.sh"), "qt-check"], env=env, capture_output=True
    )
    assert done.returncode == 0 and done.stderr == b""


def test_nothing_missing_or_offscreen_says_nothing(tmp_path):
    done = run_check(tmp_path / "a", [], "debian")
    assert (done.returncode, done.stderr) == (0, "")
    offscreen = run_check(
        tmp_path / "b", ["libxcb-icccm.so.4"], "debian", QT_QPA_PLATFORM="offscreen"
    )
    assert (offscreen.returncode, offscreen.stderr) == (0, "")
    wayland = run_check(tmp_path / "c", ["libxcb-icccm.so.4"], "debian", QT_QPA_PLATFORM="wayland")
    assert (wayland.returncode, wayland.stderr) == (0, "")
