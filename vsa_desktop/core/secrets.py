"""The Groq API key: from the environment, else the OS keyring (never the settings file)."""

from __future__ import annotations

import logging
import os

from vsa_desktop.core.errors import VsaError

log = logging.getLogger(__name__)

ENV_VAR = "GROQ_API_KEY"
KEYRING_SERVICE = "vsa-desktop"
KEYRING_USER = "groq"
NO_KEYRING = "No system keyring is available here; set GROQ_API_KEY in the environment instead."


def get_api_key() -> str | None:
    """Return the API key: ``GROQ_API_KEY`` first, else the OS keyring, else None.

    A missing or failing keyring backend gives None; this function never raises.
    """
    key = os.environ.get(ENV_VAR, "").strip()
    if key:
        return key
    try:
        import keyring

        stored = keyring.get_password(KEYRING_SERVICE, KEYRING_USER)
    except Exception as exc:  # any backend failure (no backend, D-Bus, locked...) means "no key"
        log.debug("keyring lookup failed: %s", type(exc).__name__)
        return None
    return (stored or "").strip() or None


def keyring_available() -> bool:
    """True when a usable OS keyring backend exists (not the "fail" or "null" backend)."""
    try:
        import keyring
        from keyring.backends import fail, null

        backend = keyring.get_keyring()
    except Exception as exc:
        log.debug("keyring unavailable: %s", type(exc).__name__)
        return False
    if isinstance(backend, fail.Keyring | null.Keyring):
        return False
    try:
        return float(backend.priority) > 0
    except Exception:
        return False


def set_api_key(key: str) -> None:
    """Store ``key`` in the OS keyring; an empty key removes the stored one.

    Raises:
        VsaError: (kind ``no_keyring``) when no keyring backend exists, or (kind
            ``keyring``) when the keyring refuses to store or remove the key.
    """
    if not keyring_available():
        raise VsaError(NO_KEYRING, kind="no_keyring")
    import keyring
    from keyring.errors import PasswordDeleteError

    key = key.strip()
    try:
        if key:
            keyring.set_password(KEYRING_SERVICE, KEYRING_USER, key)
        else:
            keyring.delete_password(KEYRING_SERVICE, KEYRING_USER)
    except PasswordDeleteError:
        return  # nothing was stored: removing it is already done
    except Exception as exc:
        raise VsaError(
            "The system keyring refused the API key; set GROQ_API_KEY in the environment instead.",
            detail=type(exc).__name__,  # never the exception text: it might quote the key
            kind="keyring",
        ) from None
