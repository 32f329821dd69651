"""Thumbnails for the report's list of readings whose text and image disagree.

JSONL rows do not carry pixels. An item's thumbnail comes from its image file when that
file is still at its path (relative to the images folder, confined to it like batch inputs,
and still the same bytes: its sha256 matches the result's), else from the history's
thumbnail of that result id when there is a history, else there is none.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import TYPE_CHECKING

from vsa_desktop.core.batch_input import inside
from vsa_desktop.core.batch_report import MixedItem
from vsa_desktop.core.errors import VsaError

if TYPE_CHECKING:
    from vsa_desktop.core.history import HistoryStore

log = logging.getLogger(__name__)
THUMB_SIDE = 128


def thumbnails(
    items: list[MixedItem],
    images_root: Path | None,
    allow_outside: bool = False,
    history_path: Path | None = None,
) -> dict[str, bytes]:
    """JPEG thumbnails by item key (items without one are left out)."""
    found: dict[str, bytes] = {}
    store = _open_history(history_path)
    try:
        for item in items:
            thumb = _from_file(item, images_root, allow_outside)
            if thumb is None and store is not None and item.result_id:
                try:
                    thumb = store.thumbnail(item.result_id)
                except VsaError as exc:
                    log.info("no history thumbnail for %s: %s", item.result_id, exc.message)
            if thumb:
                found[item.key] = thumb
    finally:
        if store is not None:
            store.close()
    return found


def _from_file(item: MixedItem, root: Path | None, allow_outside: bool) -> bytes | None:
    from vsa_desktop.core.history import make_thumbnail
    from vsa_desktop.core.imaging import load_image

    if root is None or not item.image_ref:
        return None
    path = root / item.image_ref
    if not allow_outside and not inside(path, root):
        log.info("report thumbnail %s refused: outside %s", item.image_ref, root)
        return None
    try:
        if not path.is_file():
            return None
        image = load_image(path)
    except (OSError, VsaError):
        return None
    if item.image_sha256 and image.info.sha256 != item.image_sha256:
        return None  # another picture is at that path now
    return make_thumbnail(image.pixels, THUMB_SIDE)


def _open_history(path: Path | None) -> HistoryStore | None:
    from vsa_desktop.core.history import HistoryStore

    if path is None or not path.is_file():
        return None
    try:
        return HistoryStore(path)
    except VsaError as exc:
        log.info("history not used for report thumbnails: %s", exc.message)
        return None
