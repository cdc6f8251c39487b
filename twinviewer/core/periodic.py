"""A pass of work repeated on a background thread: every period, or at once when poked.

The window keeps derived state up to date with the history off the GUI thread (alarm
intervals, prediction scores). Each such watcher is one :class:`Periodic`: a daemon thread
that runs its pass, waits ``period`` seconds (or until :meth:`Periodic.poke`), and stops
cleanly. A pass that raises is logged and the loop goes on: a damaged store must not stop the
watcher, or the application.

Examples
--------
>>> import threading
>>> ran = threading.Event()
>>> p = Periodic("example", period=10.0)
>>> p.start(lambda stop: ran.set())
>>> ran.wait(5.0)
True
>>> p.stop()
>>> p.passes >= 1
True
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

log = logging.getLogger(__name__)


class Periodic:
    """Runs ``work(stop)`` on a daemon thread named ``name`` every ``period`` seconds.

    ``work`` gets the thread's stop event so that a long pass can end early; :attr:`passes`
    counts the passes run (tests wait on it).
    """

    def __init__(self, name: str, period: float = 1.0, join_timeout: float = 5.0) -> None:
        self.name = name
        self.period = period
        self.join_timeout = join_timeout
        self.passes = 0
        self._thread: threading.Thread | None = None
        self._stop = threading.Event()
        self._poke = threading.Event()

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def start(self, work: Callable[[threading.Event], object]) -> None:
        """Stop a running loop, then run ``work`` in a new one."""
        self.stop()
        self._stop = threading.Event()
        self._thread = threading.Thread(
            target=self._run, args=(work, self._stop), name=self.name, daemon=True
        )
        self._thread.start()

    def poke(self) -> None:
        """Run a pass now instead of at the next period."""
        self._poke.set()

    def stop(self) -> None:
        """End the loop and wait (up to ``join_timeout``) for the pass in progress."""
        self._stop.set()
        self._poke.set()
        if self._thread is not None:
            self._thread.join(timeout=self.join_timeout)
        self._thread = None

    def _run(self, work: Callable[[threading.Event], object], stop: threading.Event) -> None:
        while not stop.is_set():
            try:
                work(stop)
            except Exception:
                log.exception("%s: a pass failed", self.name)
            self.passes += 1
            self._poke.wait(self.period)
            self._poke.clear()
