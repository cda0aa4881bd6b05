"""Cell-key perturbation: every shown figure is changed a little, the same way
for the same people, so that no figure of fewer than 10 people can be worked
out from the others (docs/design/disclosure-control.md).

- Every citizen has a **record key**, a secret 32-bit number: a keyed hash of
  the citizen key with a seed kept in the database (``instance_meta``), so it
  needs no table of its own and covers people who never signed in.
- A cell's **cell key** is the sum of the record keys of the distinct people
  in it, modulo 2³². The same people give the same key, whatever filter or
  file the cell is read through; one person more or less gives an unrelated one.
- The **ptable** (``PTABLE``, public: only the keys are secret) maps a count
  and the cell key to a change of at most ``MAX_DEVIATION`` people, zero on
  average, never making a count of 10 or more look smaller than 10.
- An **amount** (deeds, quantity, hours, donations, credits, claims) moves by a
  second draw from the cell key times the cell's amount per person, in small
  cells too: a difference of figures, or a sum of deed types' quantities,
  recovers a small group's amount only to within about two people's worth.

Counts under ``THRESHOLD`` are not shown at all ("<10"), as before.
"""

from __future__ import annotations

import hashlib
import secrets
from decimal import ROUND_HALF_UP, Decimal
from typing import TypeVar

from sqlalchemy import select
from sqlalchemy.orm import Session

from dcatalog.identity.models import InstanceMeta
from dcatalog.stats.suppression import THRESHOLD

KEY_SPACE = 2**32
MAX_DEVIATION = 2
SEED_META = "stats.record_key_seed"
SQLITE_FUNCTION = "dcatalog_record_key"

# change → probability. Zero mean in every row; a count of 10 or 11 cannot drop
# under 10 (which would read as a small cell), so those rows are narrower.
_WIDE = {-2: 0.05, -1: 0.20, 0: 0.50, 1: 0.20, 2: 0.05}
PTABLE: dict[int, dict[int, float]] = {
    THRESHOLD: {0: 1.0},
    THRESHOLD + 1: {-1: 0.25, 0: 0.55, 1: 0.15, 2: 0.05},
}
AMOUNT_TABLE = _WIDE  # amounts move by this many people's worth


def row(count: int) -> dict[int, float]:
    """The ptable's row for a true count of 10 or more."""
    return PTABLE.get(count, _WIDE)


def _draw(table: dict[int, float], uniform: float) -> int:
    """The change where ``uniform`` (in [0, 1)) falls in the table's cumulative
    distribution."""
    reached = 0.0
    for change in sorted(table):
        reached += table[change]
        if uniform < reached:
            return change
    return max(table)


def _uniforms(cell_key: int) -> tuple[float, float]:
    """Two independent draws in [0, 1) from one cell key: one for the count, one for
    the amounts (hashed, so that nearby keys give unrelated draws)."""
    digest = hashlib.blake2b((cell_key % KEY_SPACE).to_bytes(4, "big"), digest_size=8).digest()
    return (
        int.from_bytes(digest[:4], "big") / KEY_SPACE,
        int.from_bytes(digest[4:], "big") / KEY_SPACE,
    )


def count_change(count: int, cell_key: int) -> int:
    """How much a count of distinct people is moved (0 for a count not shown)."""
    if count < THRESHOLD:
        return 0
    return _draw(row(count), _uniforms(cell_key)[0])


def count(count: int, cell_key: int) -> int:
    """A count of distinct people as published."""
    return count + count_change(count, cell_key)


N = TypeVar("N", int, Decimal)


def amount(value: N, people: int, cell_key: int) -> N:
    """An additive figure of a cell of ``people`` distinct people as published:
    moved by a draw of at most ``MAX_DEVIATION`` times its amount per person, and
    by at least one unit per step of the draw, in whole units (hours stay as
    precise as they were: 12.5 h may read 13.5 h).
    Never negative. A small cell's amounts move too: they are never shown as
    such, but a quantity per unit is added up from the cells of each deed type,
    small ones included."""
    if people < 1 or not value:
        return value
    change = _draw(AMOUNT_TABLE, _uniforms(cell_key)[1])
    # At least one unit per step of the draw: an amount few of a cell's many people
    # add to (4 donations among 200 people) would otherwise round to no change, and
    # be published exact.
    size = (abs(Decimal(value) * change) / people).quantize(Decimal(1), ROUND_HALF_UP)
    step = (1 if change > 0 else -1) * max(abs(change), int(size)) if change else 0
    if isinstance(value, Decimal):
        return max(value + step, Decimal(0))
    return max(value + step, 0)


# --- record keys ---------------------------------------------------------------------------


def seed(session: Session) -> int:
    """The secret seed of the record keys, made once per database (63 bits). Made in
    the caller's transaction; the refresh holds its lock (PostgreSQL) or the write
    lock (SQLite), so two refreshes cannot make two."""
    found = session.scalar(select(InstanceMeta.value).where(InstanceMeta.key == SEED_META))
    if found is None:
        found = str(secrets.randbits(63))
        session.add(InstanceMeta(key=SEED_META, value=found))
        session.flush()
    return int(found)


def record_key(citizen_key: str, seed: int) -> int:
    """A citizen's record key as SQLite computes it (PostgreSQL uses its own
    ``hashtextextended``: keys need only agree within one database)."""
    digest = hashlib.blake2b(
        citizen_key.encode("utf-8"), key=seed.to_bytes(8, "big"), digest_size=4
    ).digest()
    return int.from_bytes(digest, "big")


SEED_PARAMETER = "record_seed"  # the statement's bound parameter: never in its text or logs


def record_key_sql(session: Session, column: str, seed: int) -> str:
    """SQL for the record key of the citizen key in ``column``. On PostgreSQL it
    reads the seed from the bound parameter ``:record_seed`` (pass ``seed`` as
    it), so the seed never appears in a statement's text, a slow-query log or
    ``pg_stat_activity``; on SQLite this registers the function, with the seed
    inside, on the session's connection first."""
    if session.get_bind().dialect.name == "postgresql":
        return f"(hashtextextended({column}, CAST(:{SEED_PARAMETER} AS bigint)) & {KEY_SPACE - 1})"
    raw = session.connection().connection.dbapi_connection
    assert raw is not None
    raw.create_function(SQLITE_FUNCTION, 1, lambda key: record_key(key, seed), deterministic=True)
    return f"{SQLITE_FUNCTION}({column})"
