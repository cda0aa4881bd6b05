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

from sqlalchemy.orm import Session

from dcatalog import snapshots

FIGURE_SECONDS = 60.0


def figures(session: Session) -> snapshots.TtlCache:
    """The figure cache of the session's database."""
    return snapshots.of(session).companion("figures", FIGURE_SECONDS)
