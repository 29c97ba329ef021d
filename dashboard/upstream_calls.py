"""The dashboard's calls to the provider, counted in the shared cache as the client makes them,
for /metrics (dashboard.metrics) to read at scrape time.

`record_exchange` is the client's `on_exchange` hook, installed by dashboard.upstream; vmclient
knows nothing of this. Counting in the cache, not in a process's memory, lets any web process
answer a scrape with what every process (web, worker, beat) counted.
"""

from __future__ import annotations

import logging
import threading

from django.core.cache import cache

from vmclient.client import CallRecord

logger = logging.getLogger(__name__)

_CALLS_INDEX = "xds:metrics:upstream:index"
_CALL_PREFIX = "xds:metrics:upstream:"
# Label sets this process has seen in the shared index (it adds the ones it has not).
_indexed: set[tuple[str, ...]] = set()
# One count at a time per process: the sync's threads call at once, and the demo's file cache has
# no atomic increment (Redis has: processes do not lose counts there).
_counting = threading.Lock()


def _incr(key: str, amount: int) -> None:
    cache.add(key, 0, timeout=None)
    try:
        cache.incr(key, amount)
    except ValueError:  # evicted between add and incr
        cache.add(key, amount, timeout=None)


def record_exchange(record: CallRecord) -> None:
    """Count one exchange with the upstream (the client's `on_exchange` hook). Never raises: a
    cache that is down loses the count, not the call."""
    code = "none" if record.code is None else str(record.code)
    labels = (record.method, record.endpoint, code, record.outcome)
    try:
        with _counting:
            _count(labels, record.duration_seconds)
    except Exception as exc:
        logger.warning("metrics: cannot count an upstream call: %s", exc)


def _count(labels: tuple[str, ...], seconds: float) -> None:
    _incr(_CALL_PREFIX + "n:" + "|".join(labels), 1)
    _incr(_CALL_PREFIX + "ms:" + "|".join(labels), round(seconds * 1000))
    if labels not in _indexed:
        index = cache.get(_CALLS_INDEX) or []
        if list(labels) in index:
            _indexed.add(labels)
        else:  # two processes adding at once may lose one: it is added again next call
            cache.set(_CALLS_INDEX, [*index, list(labels)], timeout=None)


def counted_calls() -> dict[tuple[str, ...], tuple[int, float]]:
    """Each label set (method, endpoint, code, outcome) counted so far: calls, and seconds."""
    index = [tuple(labels) for labels in cache.get(_CALLS_INDEX) or []]
    names = {labels: "|".join(labels) for labels in index}
    counts = cache.get_many([_CALL_PREFIX + "n:" + name for name in names.values()])
    millis = cache.get_many([_CALL_PREFIX + "ms:" + name for name in names.values()])
    return {
        labels: (
            counts[_CALL_PREFIX + "n:" + name],
            millis.get(_CALL_PREFIX + "ms:" + name, 0) / 1000,
        )
        for labels, name in names.items()
        if _CALL_PREFIX + "n:" + name in counts
    }
