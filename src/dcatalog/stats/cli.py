"""``dcatalog stats``: the dashboard's rollup and snapshot, for operators."""

from __future__ import annotations

from typing import Annotated

import typer

stats_app = typer.Typer(
    help="The programme dashboard's figures: rollup and snapshot.", no_args_is_help=True
)


@stats_app.command("rebuild")
def stats_rebuild() -> None:
    """Recompute the rollup of verified deeds from the deeds (then refresh everything)."""
    from dcatalog.config import get_settings
    from dcatalog.console import out
    from dcatalog.db import Database, transaction
    from dcatalog.stats import rollups

    with (
        Database.opened(get_settings()) as database,
        database.write_session() as session,
        transaction(session),
    ):
        rows = rollups.rebuild(session)
    out.print(f"Rollup rebuilt: {rows} rows. Run `dcatalog stats refresh` for the dashboard.")


@stats_app.command("check")
def stats_check(
    limit: Annotated[int, typer.Option(help="Show at most this many differences.")] = 20,
) -> None:
    """Compare the rollup with the deeds; exits 1 when they differ."""
    from dcatalog.config import get_settings
    from dcatalog.console import err, out
    from dcatalog.db import Database
    from dcatalog.stats import rollups

    with Database.opened(get_settings()) as database, database.session() as session:
        found = rollups.differences(session)
    if not found:
        out.print("The rollup matches the deeds.")
        return
    for d in found[:limit]:
        month, province, virtue, code, agency = d.key
        err.print(
            f"  {month:%Y-%m} {province} {virtue} {code} {agency}: "
            f"expected {d.expected}, found {d.found}",
            highlight=False,
        )
    err.print(
        f"[bold red]{len(found)} rollup rows differ from the deeds[/]; "
        "run `dcatalog stats rebuild`."
    )
    raise typer.Exit(1)


@stats_app.command("refresh")
def stats_refresh(
    everything: Annotated[
        bool, typer.Option("--all", help="Every fiscal year, changed or not.")
    ] = False,
) -> None:
    """Recompute the dashboard's figures (citizens, claims, suppression) of the fiscal
    years that changed; run it from a timer (e.g. every 15 minutes)."""
    from dcatalog.config import get_settings
    from dcatalog.console import out
    from dcatalog.db import Database
    from dcatalog.stats import snapshot

    with Database.opened(get_settings()) as database:
        summary = snapshot.refresh(database, "cli", everything=everything)
    if summary.skipped:
        out.print(f"Nothing refreshed: {summary.skipped}.")
        if summary.skipped == snapshot.BUSY:
            raise typer.Exit(1)
        return
    years = ", ".join(str(y) for y in summary.refreshed) or "none"
    removed = f"; removed {summary.removed}" if summary.removed else ""
    out.print(
        f"Refreshed fiscal years {years}: {summary.cells} cells in {summary.seconds:.1f} s{removed}."
    )
