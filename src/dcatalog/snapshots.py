"""Short-lived in-process copies of rows that change rarely but are read by every
request on the hot path: the deed types in force, agencies, API keys, milestones.

Why: recording one deed over the API used to read each of them again (a database
round trip each, about a third of the request). A copy is a plain, immutable
value (never an ORM object, which belongs to one session).

Freshness: any flush in this process that writes one of the watched tables
clears the copies of its database at once, so a worker sees its own changes
immediately; other worker processes see a change within ``ttl`` seconds
(``DCATALOG_SNAPSHOT_SECONDS``, default 5; 0 turns the copies off). Failures
(an unknown key, a missing row) are never kept, so guessing keys fills nothing.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Hashable
from typing import Any, TypeVar

from sqlalchemy import event
from sqlalchemy.orm import Session

T = TypeVar("T")
WATCHED_TABLES = frozenset({"agency", "api_key", "benefit", "deed_type", "deed_type_version"})
_MAX_ENTRIES = 10_000


class TtlCache:
    """Values kept for ``ttl`` seconds in this process (none when ``ttl`` is 0).
    The one cache of the code base: snapshots and the public figures use it."""

    def __init__(self, ttl: float) -> None:
        self.ttl = ttl
        self._items: dict[Hashable, tuple[float, Any]] = {}
        self._lock = threading.Lock()

    def peek(self, key: Hashable) -> Any | None:
        """The value under ``key`` if it is still fresh."""
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

    def get(self, key: Hashable, load: Callable[[], T | None]) -> T | None:
        """The copy under ``key``, loaded (and kept unless None) when missing or old."""
        if self.ttl <= 0:
            return load()
        hit: T | None = self.peek(key)
        if hit is not None:
            return hit
        loaded = load()
        if loaded is not None:
            self.put(key, loaded)
        return loaded

    def clear(self) -> None:
        with self._lock:
            self._items.clear()


class Snapshots(TtlCache):
    """The copies of one database, cleared when this process writes a watched
    table; with companion caches of their own lifetime (the public figures),
    which live and die with the database's registry."""

    def __init__(self, ttl: float) -> None:
        super().__init__(ttl)
        self._companions: dict[str, TtlCache] = {}

    def companion(self, name: str, ttl: float) -> TtlCache:
        """A cache for this database with its own lifetime (none when copies are off)."""
        with self._lock:
            found = self._companions.get(name)
            if found is None:
                found = self._companions[name] = TtlCache(ttl if self.ttl > 0 else 0)
            return found


_NONE = Snapshots(0)


def of(session: Session) -> Snapshots:
    """The copies of the session's database (none for a session made elsewhere)."""
    found = session.info.get("snapshots")
    return found if isinstance(found, Snapshots) else _NONE


@event.listens_for(Session, "after_flush")
def _forget_changed(session: Session, _context: Any) -> None:
    snapshots = session.info.get("snapshots")
    if not isinstance(snapshots, Snapshots):
        return
    for obj in (*session.new, *session.dirty, *session.deleted):
        if getattr(type(obj), "__tablename__", None) in WATCHED_TABLES:
            snapshots.clear()
            # Again after the commit: another request may have copied the old row
            # between this flush and the commit.
            session.info["snapshots_stale"] = True
            return


@event.listens_for(Session, "after_commit")
def _forget_after_commit(session: Session) -> None:
    if session.info.pop("snapshots_stale", False):
        of(session).clear()
