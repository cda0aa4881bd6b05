"""A short-lived, process-local copy of the public figures (campaign progress,
national counters), so a busy public page does not count deeds on every visit.

Each figure carries the time it was counted ("as of", shown on the page). The
copies belong to one database: the cache is looked up through the database's
own snapshot registry (``dcatalog.snapshots``), so tests and processes with
several databases never mix them up, and a database whose snapshots are turned
off (``DCATALOG_SNAPSHOT_SECONDS=0``) gets no figure cache either.

Nothing personal is kept here: only totals.
"""

from __future__ import annotations

import threading
import time
import weakref
from collections.abc import Hashable
from typing import Any

from sqlalchemy.orm import Session

from dcatalog import snapshots

FIGURE_SECONDS = 60.0
_MAX_ENTRIES = 1_000


class FigureCache:
    def __init__(self, ttl: float) -> None:
        self.ttl = ttl
        self._items: dict[Hashable, tuple[float, Any]] = {}
        self._lock = threading.Lock()

    def get(self, key: Hashable) -> Any | None:
        hit = self._items.get(key)
        if hit is None or hit[0] <= time.monotonic():
            return None
        return hit[1]

    def put(self, key: Hashable, value: Any) -> None:
        if self.ttl <= 0:
            return
        with self._lock:
            if len(self._items) >= _MAX_ENTRIES:
                self._items.clear()
            self._items[key] = (time.monotonic() + self.ttl, value)

    def clear(self) -> None:
        with self._lock:
            self._items.clear()


_caches: weakref.WeakKeyDictionary[snapshots.Snapshots, FigureCache] = weakref.WeakKeyDictionary()
_lock = threading.Lock()


def figures(session: Session) -> FigureCache:
    """The figure cache of the session's database."""
    owner = snapshots.of(session)
    with _lock:
        found = _caches.get(owner)
        if found is None:
            found = _caches[owner] = FigureCache(FIGURE_SECONDS if owner.ttl > 0 else 0)
        return found
