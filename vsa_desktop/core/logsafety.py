"""Keep credentials out of every log line, the app's and third-party libraries' alike.

``install()`` wraps the logging module's record factory: every record, from any logger,
has its message (with the arguments filled in), its traceback and its stack text scrubbed
before any handler sees it. A filter on the root *logger* would not do: records that
child loggers propagate reach the root's handlers without passing the root's filters.
"""

from __future__ import annotations

import logging
import re
from urllib.parse import urlsplit

HIDDEN = "[hidden]"
# scheme://user:password@host or scheme://token@host
_URL_USERINFO = re.compile(r"(?i)\b([a-z][a-z0-9+.\-]*://)[^/\s@'\"<>]+@")
# An Authorization header's value, in a header dump or a repr ('authorization': 'Bearer x')
_AUTH_HEADER = re.compile(
    r"(?i)((?:proxy-)?authorization['\"]?\s*[:=,]\s*['\"]?(?:(?:basic|bearer|token|digest)\s+)?)"
    r"[A-Za-z0-9._~+/=\-]{4,}"
)
# A credential on its own: "Basic dXNlcjpw..." / "Bearer eyJ..." (as HTTP writes them)
_AUTH_VALUE = re.compile(r"\b((?:Basic|Bearer)\s+)[A-Za-z0-9._~+/=\-]{8,}")
_GROQ_KEY = re.compile(r"gsk_[A-Za-z0-9]{8,}")
_installed = False


def scrub(text: str) -> str:
    """Return ``text`` without URL user-info, Authorization values or Groq keys."""
    text = _URL_USERINFO.sub(r"\1" + HIDDEN + "@", text)
    text = _AUTH_HEADER.sub(r"\1" + HIDDEN, text)
    text = _AUTH_VALUE.sub(r"\1" + HIDDEN, text)
    return _GROQ_KEY.sub(HIDDEN, text)


def has_credentials(url: str) -> bool:
    """True when ``url`` carries a user name or password (``scheme://user:pw@host``)."""
    try:
        parts = urlsplit(url.strip())
    except ValueError:
        return False
    return bool(parts.username or parts.password)


def _scrub_record(record: logging.LogRecord) -> None:
    try:
        message = record.getMessage()
    except Exception:  # a bad format string: let the handler report it as usual
        return
    record.msg, record.args = scrub(message), ()
    if record.exc_info and not record.exc_text:
        record.exc_text = logging.Formatter().formatException(record.exc_info)
    if record.exc_text:
        record.exc_text = scrub(record.exc_text)
    if record.stack_info:
        record.stack_info = scrub(record.stack_info)


def install() -> None:
    """Scrub every log record from now on (safe to call more than once)."""
    global _installed
    if _installed:
        return
    previous = logging.getLogRecordFactory()

    def factory(*args: object, **kwargs: object) -> logging.LogRecord:
        record = previous(*args, **kwargs)
        _scrub_record(record)
        return record

    logging.setLogRecordFactory(factory)
    _installed = True
