"""The console's failed-login counts: bounded memory, the rate limit kept."""

from __future__ import annotations

import pytest

from accord.exceptions import TooManyLogins
from accord.settings import load_settings
from accord.web._session import SWEEP_AT, WINDOW, Sessions


class Clock:
    def __init__(self) -> None:
        self.now = 1_000_000.0

    def __call__(self) -> float:
        return self.now


def test_failed_logins_of_the_past_are_forgotten_and_the_limit_holds() -> None:
    clock = Clock()
    sessions = Sessions(load_settings({}), clock)
    attempts = sessions.settings.web_login_attempts
    for n in range(SWEEP_AT):  # a spray of names from many addresses
        sessions.failed(f"user{n}", f"2001:db8::{n:x}")
    for _ in range(attempts):
        sessions.failed("alice", "192.0.2.1")
    with pytest.raises(TooManyLogins):
        sessions.check_rate("alice", "192.0.2.9")
    clock.now += WINDOW + 1
    late = max(attempts, 10)
    for n in range(late):  # enough new keys to pass the next sweep's mark
        sessions.failed(f"late{n}", "192.0.2.2")
    # Older than the window: gone from memory; the recent ones stay counted.
    assert len(sessions._failures) <= late + 1
    with pytest.raises(TooManyLogins):
        sessions.check_rate("someone", "192.0.2.2")
    sessions.check_rate("alice", "192.0.2.1")  # alice's failures have expired
