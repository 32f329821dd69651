"""Reading the Groq / OpenAI-compatible service: error bodies, retry hints, user words, URLs."""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit, urlunsplit

from vsa_desktop.core.errors import VisionError

if TYPE_CHECKING:
    import groq
    import httpx

NO_KEY = "No Groq API key: set GROQ_API_KEY or add it in Settings."
AUTH = "The Groq API key was rejected: check it in Settings."
FORBIDDEN = "The Groq API key may not use this model or service: check your Groq account."
NETWORK = "Cannot reach the vision service: check the network connection and the base URL."
SERVER = "The vision service had a server error; try again in a few minutes."
BAD_RESPONSE = "The vision service's reply was not understood; check the base URL in Settings."
GAVE_UP = "The vision service kept failing; try again in a few minutes."
TOO_LARGE = (
    "The image was too large for the vision service even after shrinking it; lower the "
    "image size sent to the cloud in Settings."
)
TOO_MANY_TOKENS = (
    "The request went over the Groq plan's tokens-per-minute limit even with a smaller "
    "image; wait a minute and try again."
)
HIDDEN = "[hidden]"
_BEARER = re.compile(r"(?i)(bearer\s+)[^\s'\"]+")
_GROQ_KEY = re.compile(r"gsk_[A-Za-z0-9]{8,}")


def scrub(text: str, api_key: str | None) -> str:
    """Return ``text`` with the API key (and anything that looks like a key) removed."""
    if api_key:
        text = text.replace(api_key, HIDDEN)
    text = _BEARER.sub(r"\1" + HIDDEN, text)
    return _GROQ_KEY.sub(HIDDEN, text)


def scrubbed(exc: VisionError, api_key: str | None) -> VisionError:
    """Return a copy of ``exc`` whose message and detail cannot contain the key."""
    return VisionError(scrub(exc.message, api_key), scrub(exc.detail, api_key), kind=exc.kind)


def error_field(exc: Any, name: str) -> str:
    """Return ``error.<name>`` from the JSON error body as text ("" when absent)."""
    body = getattr(exc, "body", None)
    if isinstance(body, dict):
        body = body.get("error", body)
    value = body.get(name) if isinstance(body, dict) else None
    return str(value) if value is not None else ""


def is_model_gone(exc: Exception) -> bool:
    """True for 404 ``model_not_found`` and 400 ``model_decommissioned``."""
    status = getattr(exc, "status_code", None)
    code = error_field(exc, "code")
    return (status == 404 and code == "model_not_found") or (
        status == 400 and code == "model_decommissioned"
    )


def failed_generation(exc: Exception) -> str | None:
    """The text JSON mode refused (400 ``json_validate_failed``), to be read leniently."""
    if error_field(exc, "code") != "json_validate_failed":
        return None
    return error_field(exc, "failed_generation") or None


def refused_params(exc: Exception, sent: list[str]) -> list[str]:
    """Which of the optional request fields ``sent`` a 400 complains about.

    The field named in ``error.param`` or in the message; all of them when the message
    says a parameter is unsupported without naming one of ours.
    """
    param = error_field(exc, "param")
    message = error_field(exc, "message").lower() or str(exc).lower()
    named = [p for p in sent if p == param or p in message]
    if named:
        return named
    if re.search(r"unsupported|not supported|unrecognized|unknown (param|field|argument)", message):
        return list(sent)
    return []


def retry_after_s(exc: Exception) -> float | None:
    """Seconds the server asks to wait (``retry-after-ms`` or ``retry-after``), if any."""
    response = getattr(exc, "response", None)
    headers = getattr(response, "headers", None)
    if headers is None:
        return None
    for name, scale in (("retry-after-ms", 0.001), ("retry-after", 1.0)):
        try:
            return max(0.0, float(headers.get(name)) * scale)
        except (TypeError, ValueError):
            continue
    return None


def rate_limited(wait_s: float | None = None) -> VisionError:
    """The rate-limit error, with the wait the server asked for when known."""
    if wait_s:
        seconds = max(1, math.ceil(wait_s))
        when = f"try again in about {seconds} second{'s' if seconds != 1 else ''}"
    else:
        when = "wait a minute and try again"
    return VisionError(f"Groq's rate limit was reached; {when}.", kind="rate_limit")


def to_vision_error(
    exc: groq.APIError, model: str, timeout_s: float, api_key: str | None
) -> VisionError:
    """Map an SDK error onto a VisionError with user words; nothing in it shows the key."""
    import groq

    detail = scrub(f"{model}: {type(exc).__name__}: {exc}", api_key)[:2000]
    if isinstance(exc, groq.APITimeoutError):
        message = (
            f"The vision service did not answer within {timeout_s:g} s; try again or "
            "raise the timeout in Settings."
        )
        return VisionError(message, detail, kind="timeout")
    if isinstance(exc, groq.APIConnectionError):
        return VisionError(NETWORK, detail, kind="network")
    status = getattr(exc, "status_code", 0)
    if isinstance(exc, groq.AuthenticationError):
        return VisionError(AUTH, detail, kind="auth")
    if isinstance(exc, groq.PermissionDeniedError):
        return VisionError(FORBIDDEN, detail, kind="auth")
    if isinstance(exc, groq.RateLimitError):
        error = rate_limited(retry_after_s(exc))
        return VisionError(error.message, detail, kind="rate_limit")
    if status == 413:
        return VisionError(_too_large_message(exc), detail, kind="too_large")
    if is_model_gone(exc):
        message = f"Vision model {model} was retired; choose another vision model in Settings."
        return VisionError(message, detail, kind="model_gone")
    if status >= 500:
        return VisionError(SERVER, detail, kind="server")
    message = (
        f"The vision service refused the request (HTTP {status}); check the model and the "
        "base URL in Settings."
    )
    return VisionError(message, detail, kind="request")


def _too_large_message(exc: Exception) -> str:
    text = (error_field(exc, "message") + " " + error_field(exc, "code")).lower()
    if "token" in text or "rate_limit" in text:
        return TOO_MANY_TOKENS
    return TOO_LARGE


def resolve_base_url(base_url: str | None) -> tuple[str | None, str | None]:
    """Return the SDK's base URL and, for an OpenAI-style ``.../v1`` URL, its path.

    The groq SDK always requests ``<base>/openai/v1/...``: ``https://host/openai/v1`` is cut
    back to ``https://host``; ``https://host/v1`` (OpenAI style) is kept and the requests
    are rewritten to ``/v1/...``. None means "let the SDK decide" (``GROQ_BASE_URL``).
    """
    import os

    url = (base_url or os.environ.get("GROQ_BASE_URL") or "").strip().rstrip("/")
    if not url:
        return None, None
    parts = urlsplit(url)
    path = parts.path.rstrip("/")
    if path.endswith("/openai/v1"):
        return urlunsplit(parts._replace(path=path[: -len("/openai/v1")])), None
    if path.endswith("/v1"):
        return urlunsplit(parts._replace(path="")), path
    return url, None


def openai_path_hook(prefix: str) -> Callable[[httpx.Request], None]:
    """An httpx request hook that sends ``/openai/v1/x`` to ``<prefix>/x``."""

    def hook(request: httpx.Request) -> None:
        path = request.url.path
        if path.startswith("/openai/v1/"):
            request.url = request.url.copy_with(path=prefix + path[len("/openai/v1") :])

    return hook
