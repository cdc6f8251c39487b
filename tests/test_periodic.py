"""The background loop behind the window's watchers: passes, pokes, failures and stopping."""

from __future__ import annotations

import threading
import time

from twinviewer.core.periodic import Periodic


def test_a_poke_runs_a_pass_long_before_the_period() -> None:
    p = Periodic("test-poke", period=60.0)
    ran = threading.Semaphore(0)
    p.start(lambda stop: ran.release())
    assert ran.acquire(timeout=5)  # the first pass runs at once
    t0 = time.monotonic()
    p.poke()
    assert ran.acquire(timeout=5)
    assert time.monotonic() - t0 < 5  # not the 60 s period
    p.stop()
    assert not p.running


def test_a_failing_pass_is_logged_and_the_loop_goes_on(caplog) -> None:
    p = Periodic("test-fail", period=0.01)
    calls: list[int] = []

    def work(stop: threading.Event) -> None:
        calls.append(1)
        if len(calls) == 1:
            raise OSError("segment unreadable")

    p.start(work)
    deadline = time.monotonic() + 5
    while len(calls) < 3 and time.monotonic() < deadline:
        time.sleep(0.01)
    p.stop()
    assert len(calls) >= 3
    assert "test-fail: a pass failed" in caplog.text
    assert "segment unreadable" in caplog.text


def test_stop_reaches_a_long_pass() -> None:
    p = Periodic("test-stop", period=0.01)
    p.start(lambda stop: stop.wait(30))
    time.sleep(0.05)
    t0 = time.monotonic()
    p.stop()
    assert time.monotonic() - t0 < 2
    assert not p.running
