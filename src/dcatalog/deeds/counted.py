"""The one point where what follows a change in what is counted registers itself.

Recording (``deeds.service``) sits low in the layers: it must not call the
domains built on it. When a transaction counts deeds (recorded as verified, or
verified later) or takes a counted deed out (revoked), it updates its own
tallies and then calls ``notify`` once with what changed; every follower —
milestone awards, the dashboard's rollup, credential revocation, and later
webhooks and ledger entries — runs in that same transaction, so a failure in
any of them rolls the whole change back.

Followers are registered by name (re-registering replaces, so assembling twice
is harmless) by ``dcatalog.assembly``, which the application, the CLI and the
worker call at start. A process that never assembled its followers refuses to
count anything rather than silently skip the awards.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from dcatalog.actors import Actor
from dcatalog.calendars.periods import MonthDay
from dcatalog.deeds.models import Deed


@dataclass(frozen=True, slots=True)
class CountedChange:
    """Deeds whose counting changed in one transaction.

    ``deeds`` are stored ``Deed`` rows or the rows a batch has just written (read
    them with ``field``); ``sign`` is +1 when they were just counted, -1 when they
    were taken out (then ``reason`` is the agency's, for the citizen)."""

    deeds: Sequence[Deed | dict[str, Any]]
    sign: int
    actor: Actor
    academic_start: MonthDay
    reason: str = ""


Follower = Callable[[Session, CountedChange], None]
_followers: dict[str, Follower] = {}


class NotAssembled(RuntimeError):
    """Deeds were counted in a process that registered no followers."""


def follow(name: str, follower: Follower) -> None:
    """Run ``follower`` after every counted change (in registration order)."""
    _followers[name] = follower


def followers() -> list[str]:
    return list(_followers)


def notify(session: Session, change: CountedChange) -> None:
    if not change.deeds:
        return
    if not _followers:
        raise NotAssembled(
            "nothing follows counted deeds in this process: call dcatalog.assembly.assemble() at start"
        )
    for follower in _followers.values():
        follower(session, change)


def field(deed: Deed | dict[str, Any], name: str) -> Any:
    """A deed's value, whether stored (a Deed) or just written in this batch (a row)."""
    return deed[name] if isinstance(deed, dict) else getattr(deed, name)
