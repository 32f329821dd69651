"""One request-rate limit shared by every worker of a batch run (local threads or Ray actors).

A token bucket: ``per_minute`` requests a minute on average, at most ``burst`` at once.
A worker calls ``acquire()`` before each cloud request and waits its turn; when the service
answers 429 anyway (another client shares the key, or the plan's limit is lower than
configured), the worker calls ``hold_off(seconds)`` with the service's ``retry-after`` and
every worker of the run pauses until then. A run that meets the limit slows down; its rows
do not fail.

The cloud vision backend asks ``current()`` for the run's limiter; batch runs install one
with ``installed(...)`` (the local engine) or in each Ray worker (``batch_ray``).
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Callable, Iterator
from typing import Protocol

from vsa_desktop.core.cancel import CancelToken, check

MAX_STEP_S = 0.1  # sleeping steps, so a cancel is honoured quickly


class RateLimiter(Protocol):
    """What the cloud backend needs from a limiter."""

    def acquire(self, cancel: CancelToken | None = None) -> float:
        """Wait until a request may go; return the seconds waited."""
        ...

    def hold_off(self, seconds: float) -> None:
        """No request from any worker before ``seconds`` from now."""
        ...


class TokenBucket:
    """A thread-safe token bucket that hands out waiting times (the GCRA form).

    ``reserve()`` takes the next slot and says how long its holder must wait before using
    it, so waiters are served in order and none is starved. Each request moves the
    "theoretical arrival time" on by ``60 / per_minute`` seconds; a request may go when
    that time is at most ``(burst - 1)`` intervals ahead of now.
    """

    def __init__(
        self,
        per_minute: float,
        burst: int = 1,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if not per_minute > 0:
            raise ValueError("per_minute must be above 0")
        self.per_minute = float(per_minute)
        self.interval = 60.0 / self.per_minute
        self.tolerance = self.interval * (max(1, int(burst)) - 1)
        self._clock = clock
        self._lock = threading.Lock()
        self._tat = clock()

    def reserve(self) -> float:
        """Take a slot; return the seconds to wait before using it (0 when at once)."""
        with self._lock:
            now = self._clock()
            tat = max(self._tat, now)
            self._tat = tat + self.interval
            return max(0.0, tat - self.tolerance - now)

    def hold_off(self, seconds: float) -> None:
        """No slot is usable before ``seconds`` from now (a 429's ``retry-after``)."""
        with self._lock:
            until = self._clock() + max(0.0, float(seconds))
            self._tat = max(self._tat, until + self.tolerance)

    def acquire(self, cancel: CancelToken | None = None) -> float:
        """Wait for a slot (interruptible); return the seconds waited."""
        wait = self.reserve()
        sleep_checked(wait, cancel)
        return wait


def sleep_checked(seconds: float, cancel: CancelToken | None = None) -> None:
    """Sleep in small steps so a cancel is honoured quickly."""
    deadline = time.monotonic() + max(0.0, seconds)
    while (left := deadline - time.monotonic()) > 0:
        check(cancel)
        time.sleep(min(MAX_STEP_S, left))
    check(cancel)


_current: RateLimiter | None = None
_current_lock = threading.Lock()


def current() -> RateLimiter | None:
    """The limiter of the batch run in progress in this process, if any."""
    return _current


def install(limiter: RateLimiter | None) -> None:
    """Make ``limiter`` the process's limiter (None removes it)."""
    global _current
    with _current_lock:
        _current = limiter


@contextlib.contextmanager
def installed(limiter: RateLimiter | None) -> Iterator[RateLimiter | None]:
    """Install ``limiter`` for the duration of a ``with`` block."""
    before = current()
    install(limiter)
    try:
        yield limiter
    finally:
        install(before)
