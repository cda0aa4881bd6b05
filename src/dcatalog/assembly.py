"""Where the domains built on recording are connected to it, in one place.

Lower layers never import higher ones (docs/development.md, "Layers"), so the
follow-ups of a counted deed are registered here, at the top, by every process
that can count deeds: the web application, the CLI and the worker (and the test
suite). Order matters: the rollup first, then credential revocation, then
awards (whose withdrawal revokes the award's own credential)."""

from __future__ import annotations

from dcatalog.benefits import awards
from dcatalog.credentials import service as credentials
from dcatalog.deeds import counted
from dcatalog.stats import rollups


def assemble() -> None:
    """Register every follower (harmless to call more than once)."""
    counted.follow("stats.rollup", rollups.after_counted)
    counted.follow("credentials.revocation", credentials.after_counted)
    counted.follow("benefits.awards", awards.after_counted)
