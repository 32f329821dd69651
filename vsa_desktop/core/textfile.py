"""Read text files safely: regular files only, size-capped, any common encoding.

Used for ``--text-file``, a folder batch's ``.txt`` companions and batch CSVs, so all
three accept the same files and say the same things about them:

* The path must name a regular file, checked before opening (a FIFO would block in
  ``open()`` forever, ``/dev/zero`` never ends) and again on the open descriptor.
* The size is checked before reading: a text of ``MAX_TEXT_CHARS`` characters takes at
  most 4 bytes a character in any encoding read here, so larger files are refused unread.
* Encodings: a BOM (UTF-8, UTF-16, UTF-32) wins; then strict UTF-8; then
  charset-normalizer's best guess, ties broken in favour of the most used legacy
  encodings. Bytes that decode as nothing are refused; nothing is read with replacement
  characters.
"""

from __future__ import annotations

import codecs
import errno
import os
import stat
from dataclasses import dataclass
from pathlib import Path

from vsa_desktop.core.errors import InputError
from vsa_desktop.core.text.base import MAX_TEXT_CHARS

BYTES_PER_CHAR = 4  # the most any encoding read here uses for one character
MAX_TEXT_BYTES = MAX_TEXT_CHARS * BYTES_PER_CHAR + 4  # + a BOM
_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)
# Ties between equally plausible legacy encodings go to the more widely used one.
_PREFERRED = (
    "gb18030",
    "cp1252",
    "cp1251",
    "cp932",
    "big5",
    "cp949",
    "cp1250",
    "cp1253",
    "cp1254",
    "cp1255",
    "cp1256",
    "cp1257",
    "cp874",
    "koi8_r",
    "latin_1",
)
_TIE = 0.02  # chaos/coherence differences smaller than this are ties


@dataclass(frozen=True)
class DecodedText:
    """A text file's contents and the encoding they were read with.

    Attributes:
        text: the decoded text (a BOM is not part of it).
        encoding: the Python codec used, e.g. ``utf-8``, ``utf-16`` or ``gb18030``.
    """

    text: str
    encoding: str

    @property
    def is_utf8(self) -> bool:
        """True for UTF-8 with or without a BOM (nothing worth a note)."""
        return self.encoding in ("utf-8", "utf-8-sig")

    def note(self, name: str) -> str | None:
        """One sentence saying which encoding ``name`` was read with, when not UTF-8."""
        if self.is_utf8:
            return None
        return f"{name} is not UTF-8; it was read as {self.encoding.upper()}."


def read_text_file(path: Path, label: str = "The text file") -> DecodedText:
    """Read a text of at most ``MAX_TEXT_CHARS`` characters from a regular file.

    Args:
        path: the file.
        label: how messages name it, e.g. "The text file" (followed by the path).

    Raises:
        InputError: not a regular file, missing, unreadable, too long, or not text.
    """
    data = read_capped(path, MAX_TEXT_BYTES, label, unit_hint="characters")
    decoded = decode(data, f"{label} {path}")
    if len(decoded.text) > MAX_TEXT_CHARS:
        raise InputError(
            f"{label} {path} holds {len(decoded.text):,} characters; the limit is "
            f"{MAX_TEXT_CHARS:,}."
        )
    return decoded


def read_capped(path: Path, max_bytes: int, label: str, unit_hint: str = "bytes") -> bytes:
    """Return the bytes of the regular file ``path``, refusing anything over ``max_bytes``.

    The file type and size are checked before opening; the open never blocks (a FIFO
    swapped in after the check is opened non-blocking and refused on its descriptor).

    Raises:
        InputError: with one sentence naming ``label`` and ``path``.
    """
    where = f"{label} {path}"
    info = _stat(path, where)
    _check_regular(info, where)
    _check_size(info.st_size, max_bytes, where, unit_hint)
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0)
    try:
        fd = os.open(path, flags | getattr(os, "O_CLOEXEC", 0))
    except OSError as exc:
        raise _os_error(exc, where) from None
    with os.fdopen(fd, "rb") as stream:
        _check_regular(os.fstat(fd), where)
        try:
            data = stream.read(max_bytes + 1)
        except OSError as exc:
            raise _os_error(exc, where) from None
    _check_size(len(data), max_bytes, where, unit_hint)
    return data


def decode(data: bytes, where: str) -> DecodedText:
    """Decode ``data`` (see the module notes for the order of guesses).

    Raises:
        InputError: when no encoding reads it as text.
    """
    for bom, encoding in _BOMS:
        if data.startswith(bom):
            try:
                return DecodedText(data.decode(encoding), encoding)
            except UnicodeDecodeError:
                break  # a BOM followed by junk: let the detector judge the bytes
    try:
        return DecodedText(data.decode("utf-8"), "utf-8")
    except UnicodeDecodeError:
        pass
    guess = _detect(data)
    if guess is None:
        raise InputError(
            f"{where} is not text in any encoding this app reads (UTF-8, UTF-16 or a "
            "common legacy encoding); save it as UTF-8.",
            kind="text_encoding",
        )
    return DecodedText(data.decode(guess), guess)


def _detect(data: bytes) -> str | None:
    from charset_normalizer import from_bytes

    matches = [m for m in from_bytes(data) if _decodes(data, m.encoding)]
    if not matches:
        return None
    best = min(matches, key=lambda m: (m.chaos, -m.coherence))
    ties = [
        m for m in matches if m.chaos - best.chaos < _TIE and best.coherence - m.coherence < _TIE
    ]
    ranked = sorted(_rank(data, m.could_be_from_charset, m.encoding) for m in ties)
    return ranked[0][1]


def _rank(data: bytes, charsets: list[str], encoding: str) -> tuple[int, str]:
    """(rank, codec) of one match: its most used preferred charset, BOM-less UTF-16/32 last."""
    if encoding.startswith(("utf_16", "utf_32")):
        return len(_PREFERRED) + 1, encoding
    ranks = [_PREFERRED.index(c) for c in charsets if c in _PREFERRED and _decodes(data, c)]
    if not ranks:
        return len(_PREFERRED), encoding
    return min(ranks), _PREFERRED[min(ranks)]


def _decodes(data: bytes, encoding: str) -> bool:
    try:
        data.decode(encoding)
    except (UnicodeDecodeError, LookupError):
        return False
    return True


def _stat(path: Path, where: str) -> os.stat_result:
    try:
        return os.stat(path)
    except OSError as exc:
        raise _os_error(exc, where) from None


def _check_regular(info: os.stat_result, where: str) -> None:
    if stat.S_ISDIR(info.st_mode):
        raise InputError(f"{where} is a folder, not a file.", kind="not_a_file")
    if not stat.S_ISREG(info.st_mode):
        kind = "a FIFO" if stat.S_ISFIFO(info.st_mode) else "a device or socket"
        raise InputError(f"{where} is {kind}, not a regular file.", kind="not_a_file")


def _check_size(size: int, max_bytes: int, where: str, unit_hint: str) -> None:
    if size <= max_bytes:
        return
    if unit_hint == "characters":
        raise InputError(
            f"{where} is {_size(size)}, more than a text of {MAX_TEXT_CHARS:,} characters can be.",
            kind="too_large",
        )
    raise InputError(f"{where} is {_size(size)}; the limit is {_size(max_bytes)}.")


def _size(n: int) -> str:
    for unit, scale in (("GB", 2**30), ("MB", 2**20), ("kB", 2**10)):
        if n >= scale:
            return f"{n / scale:.1f} {unit}"
    return f"{n} bytes"


def _os_error(exc: OSError, where: str) -> InputError:
    if exc.errno == errno.ENOENT:
        return InputError(f"{where} does not exist.")
    if exc.errno == errno.ELOOP:
        return InputError(f"{where} is a loop of symbolic links.")
    if exc.errno in (errno.EACCES, errno.EPERM):
        return InputError(f"{where} cannot be read (permission denied).")
    if exc.errno == errno.EISDIR:
        return InputError(f"{where} is a folder, not a file.")
    reason = (exc.strerror or type(exc).__name__).rstrip(".")
    return InputError(f"{where} cannot be read ({reason}).", detail=str(exc))
