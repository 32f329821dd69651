"""Make text safe to print on a terminal: control characters are shown, never obeyed.

Texts, file names and error messages come from files the user did not write. A raw ESC
(``\\x1b]0;PWNED\\x07`` sets the window title), a C1 control or a bidirectional override
(which reorders the rest of the line) must reach the terminal as visible escapes.
JSON output needs none of this: ``json.dumps`` escapes control characters itself.
"""

from __future__ import annotations

import re

# C0 controls but tab and newline, DEL, C1 controls, the bidi embeddings/overrides/isolates,
# and the line/paragraph separators that some terminals treat as new lines.
_UNSAFE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069\u2028\u2029]")
_UNSAFE_ONE_LINE = re.compile("[\x00-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069\u2028\u2029]")


def _escape(match: re.Match[str]) -> str:
    code = ord(match.group())
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def safe(text: object, one_line: bool = False) -> str:
    """Return ``text`` with every control character written as a visible escape.

    Args:
        text: anything; it is turned into a string first.
        one_line: escape tabs and newlines too (table cells, file names).
    """
    pattern = _UNSAFE_ONE_LINE if one_line else _UNSAFE
    return pattern.sub(_escape, str(text))


_BIDI_CONTROLS = re.compile("[\u202a-\u202e\u2066-\u2069]")


def inert_bidi(text: str) -> str:
    """``text`` with each bidi embedding, override or isolate replaced by U+FFFD.

    For a window showing text it did not write (a caption, a file name from a batch): an
    override (U+202E) makes ``evil`` read ``live``. One character for one, so offsets into
    the text (explanations) still hold.
    """
    return _BIDI_CONTROLS.sub("\ufffd", text)
