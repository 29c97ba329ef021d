"""Simulated time: the wall clock at start, running at real speed, plus whatever tests add.

Running at real speed keeps a demo alive (a host boots 30 seconds after you start it); the
explicit `advance` lets a test move 30 seconds on in no time instead of sleeping.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable


class Clock:
    def __init__(self, start: float | None = None) -> None:
        """`start`: epoch seconds the clock shows now (default: the real time)."""
        self._start = time.time() if start is None else float(start)
        self._origin = time.monotonic()
        self._offset = 0.0
        self._lock = threading.Lock()
        self._listeners: list[Callable[[], None]] = []

    def now(self) -> float:
        """Simulated epoch seconds."""
        with self._lock:
            return self._start + (time.monotonic() - self._origin) + self._offset

    def now_ms(self) -> int:
        """Simulated epoch milliseconds, the upstream's unit for times."""
        return int(self.now() * 1000)

    def advance(self, seconds: float) -> None:
        """Move simulated time on. Time never goes back, as the provider's would not."""
        if seconds < 0:
            raise ValueError("the clock only moves forward")
        with self._lock:
            self._offset += seconds
        for listener in list(self._listeners):
            listener()

    def on_advance(self, listener: Callable[[], None]) -> None:
        """Call `listener` after every advance (the fleet settles its hosts there)."""
        self._listeners.append(listener)
