"""Tests of the API key lookup: environment first, then the OS keyring, never raising on reads."""

from __future__ import annotations

from collections.abc import Iterator

import keyring
import pytest
from keyring.backend import KeyringBackend
from keyring.backends import fail
from keyring.errors import KeyringError, PasswordDeleteError

from vsa_desktop.core import secrets
from vsa_desktop.core.errors import VsaError


class MemoryKeyring(KeyringBackend):
    """A working keyring that keeps passwords in a dict."""

    priority = 1

    def __init__(self) -> None:
        super().__init__()
        self.store: dict[tuple[str, str], str] = {}

    def get_password(self, service: str, username: str) -> str | None:
        return self.store.get((service, username))

    def set_password(self, service: str, username: str, password: str) -> None:
        self.store[(service, username)] = password

    def delete_password(self, service: str, username: str) -> None:
        if (service, username) not in self.store:
            raise PasswordDeleteError("not stored")
        del self.store[(service, username)]


class BrokenKeyring(MemoryKeyring):
    """A keyring whose every call fails, like a locked or crashed Secret Service."""

    def get_password(self, service: str, username: str) -> str | None:
        raise KeyringError("D-Bus said no")

    def set_password(self, service: str, username: str, password: str) -> None:
        raise KeyringError(f"cannot store {password}")


@pytest.fixture
def use_keyring() -> Iterator[object]:
    """Install a keyring backend for one test and put the previous one back."""
    previous = keyring.get_keyring()
    installed: list[KeyringBackend] = []

    def install(backend: KeyringBackend) -> KeyringBackend:
        keyring.set_keyring(backend)
        installed.append(backend)
        return backend

    yield install
    keyring.set_keyring(previous)


def test_environment_wins(monkeypatch, use_keyring) -> None:
    memory = use_keyring(MemoryKeyring())
    memory.store[("vsa-desktop", "groq")] = "from-keyring"
    monkeypatch.setenv("GROQ_API_KEY", "  from-env  ")
    assert secrets.get_api_key() == "from-env"


def test_keyring_is_used_without_environment(use_keyring) -> None:
    memory = use_keyring(MemoryKeyring())
    assert secrets.keyring_available()
    assert secrets.get_api_key() is None
    secrets.set_api_key("  gsk_stored  ")
    assert memory.store[("vsa-desktop", "groq")] == "gsk_stored"
    assert secrets.get_api_key() == "gsk_stored"
    secrets.set_api_key("")  # removes it
    assert secrets.get_api_key() is None
    secrets.set_api_key("")  # removing twice is fine


def test_no_keyring_backend(use_keyring) -> None:
    use_keyring(fail.Keyring())
    assert secrets.get_api_key() is None
    assert not secrets.keyring_available()
    with pytest.raises(VsaError) as info:
        secrets.set_api_key("gsk_x")
    assert info.value.kind == "no_keyring"
    assert info.value.message == (
        "No system keyring is available here; set GROQ_API_KEY in the environment instead."
    )


def test_broken_keyring_never_raises_on_read_and_never_shows_the_key(use_keyring) -> None:
    use_keyring(BrokenKeyring())
    assert secrets.get_api_key() is None
    with pytest.raises(VsaError) as info:
        secrets.set_api_key("gsk_secret_value")
    assert info.value.kind == "keyring"
    assert "gsk_secret_value" not in info.value.message + info.value.detail + str(info.value)
    assert info.value.__cause__ is None


def test_conftest_default_has_no_keyring() -> None:
    # tests/conftest.py selects the "fail" backend, so no test can reach a real keyring.
    assert secrets.get_api_key() is None
