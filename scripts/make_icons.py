"""Render resources/icons/vsa-desktop.svg to PNGs (16..256 px), a Windows .ico and a macOS .icns.

Run: ``python scripts/make_icons.py`` (needs PySide6 with QtSvg and Pillow; works offscreen).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

ICONS = Path(__file__).resolve().parents[1] / "resources" / "icons"
SVG = ICONS / "vsa-desktop.svg"
SIZES = (16, 24, 32, 48, 64, 128, 256)


def render_pngs() -> list[Path]:
    """Render the SVG at every size with Qt's SVG renderer; return the PNG paths."""
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtCore import Qt
    from PySide6.QtGui import QGuiApplication, QImage, QPainter
    from PySide6.QtSvg import QSvgRenderer

    app = QGuiApplication.instance() or QGuiApplication(sys.argv[:1])
    renderer = QSvgRenderer(str(SVG))
    if not renderer.isValid():
        raise SystemExit(f"cannot read {SVG}")
    written = []
    for size in SIZES:
        image = QImage(size, size, QImage.Format.Format_ARGB32_Premultiplied)
        image.fill(Qt.GlobalColor.transparent)
        painter = QPainter(image)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        renderer.render(painter)
        painter.end()
        path = ICONS / f"vsa-desktop-{size}.png"
        image.save(str(path))
        written.append(path)
    del app
    return written


def write_ico_icns(pngs: list[Path]) -> None:
    """Pack the PNG renders into ``vsa-desktop.ico`` and ``vsa-desktop.icns`` with Pillow."""
    from PIL import Image

    largest = Image.open(pngs[-1])
    largest.save(ICONS / "vsa-desktop.ico", sizes=[(s, s) for s in SIZES])
    try:
        largest.save(ICONS / "vsa-desktop.icns")
    except (OSError, ValueError) as exc:  # .icns is optional
        print(f"skipped .icns: {exc}")


def main() -> int:
    """Render all icon files and list them."""
    pngs = render_pngs()
    write_ico_icns(pngs)
    for path in sorted(ICONS.iterdir()):
        print(f"{path.stat().st_size:>8}  {path.name}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
