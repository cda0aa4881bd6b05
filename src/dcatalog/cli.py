"""The ``dcatalog`` command (also ``python -m dcatalog``).

Every command reads the same settings (``DCATALOG_*``, see ``dcatalog config``),
prints what it did, and exits non-zero with a one-line reason when it fails.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from pydantic import ValidationError
from rich.table import Table
from sqlalchemy.engine import make_url
from sqlalchemy.exc import SQLAlchemyError

from dcatalog import __version__, assembly, schema
from dcatalog.config import Settings, get_settings
from dcatalog.console import CommandError, err, fail, out
from dcatalog.db import Database
from dcatalog.deeds.importing import FileProblem  # the same class as tabular.FileProblem
from dcatalog.identity.citizen_key import CitizenKeyer, load_pepper
from dcatalog.identity.service import PepperMismatch, bind_pepper
from dcatalog.instance import SecretUnavailable, instance_secret
from dcatalog.problems import Problem
from dcatalog.stats.cli import stats_app

if TYPE_CHECKING:
    from rich.progress import Progress

app = typer.Typer(
    name="dcatalog",
    help="D-Catalog (ศูนย์รวมพฤติกรรมความดี): run, migrate and look after the service.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


@app.callback()
def _start() -> None:
    # Every command that may count deeds (demo, import, …) needs what follows them.
    assembly.assemble()


def _safe_url(settings: Settings) -> str:
    return make_url(settings.resolved_database_url).render_as_string(hide_password=True)


@app.command()
def version() -> None:
    """Print the version of D-Catalog."""
    out.print(f"dcatalog {__version__}", highlight=False)


@app.command()
def migrate(
    revision: Annotated[str, typer.Option(help="Target revision.")] = "head",
) -> None:
    """Create or upgrade the database schema to the current version."""
    settings = get_settings()
    with Database.opened(settings) as database, database.engine.begin() as connection:
        before = schema.current_revisions(connection)
        schema.upgrade(connection, revision)
        after = schema.current_revisions(connection)
    if before == after:
        out.print(f"Database {_safe_url(settings)} is already at {_revisions(after)}.")
    else:
        out.print(
            f"Migrated {_safe_url(settings)} from {_revisions(before)} to {_revisions(after)}."
        )


def _revisions(revisions: frozenset[str]) -> str:
    return ", ".join(sorted(revisions)) or "an empty schema"


def _typed_be(iso: str) -> str:
    """A demo birth date as the sign-in form takes it: day/month/year BE (and ISO)."""
    from datetime import date

    from dcatalog.calendars.buddhist_era import format_date

    return f"{format_date(date.fromisoformat(iso), 'th', 'short')} ({iso})"


@app.command()
def demo() -> None:
    """Load or refresh the demo data (migrating first), then say how to look at it."""
    from dcatalog.demo.data import DEMO_PASSWORD
    from dcatalog.demo.service import load_demo

    settings = get_settings()
    migrate()
    keyer = CitizenKeyer(load_pepper(settings))
    with Database.opened(settings) as database, database.write_session() as session:
        bind_pepper(session, keyer)
        summary = load_demo(
            session,
            with_accounts=settings.demo,
            keyer=keyer,
            academic_start=settings.academic_year_start_month_day,
        )
    out.print(
        f"Demo data ready: {summary.agencies_created} partner agencies added, "
        f"{summary.agencies_updated} refreshed; {summary.deed_types_created} deed types "
        f"added, {summary.deed_types_updated} updated."
    )
    url = f"http://{settings.host}:{settings.port}"
    out.print(f"Start the service with [bold]dcatalog serve[/] and open {url}", highlight=False)
    if summary.accounts:
        out.print(f"Staff sign-in at {url}/login, password {DEMO_PASSWORD!r} for:", highlight=False)
        for email in summary.accounts:
            out.print(f"  {email}", highlight=False)
    if summary.student:
        national_id, born = summary.student
        out.print(
            f"Citizens' demo sign-in at {url}/me/sign-in: national ID {national_id}, "
            f"born {_typed_be(born)} (a made-up student with 30 volunteer hours).",
            highlight=False,
        )
    if summary.donor:
        national_id, born = summary.donor
        out.print(
            f"  or national ID {national_id}, born {_typed_be(born)} (a made-up blood donor with "
            "Red Cross milestones).",
            highlight=False,
        )
    else:
        out.print(
            "No demo sign-ins were made: set DCATALOG_DEMO=true to create them "
            "(never on a real service), or create an administrator with "
            "`dcatalog admin create`.",
            highlight=False,
        )


admin_app = typer.Typer(help="Programme-office accounts.", no_args_is_help=True)
keys_app = typer.Typer(help="Agency API keys.", no_args_is_help=True)
app.add_typer(admin_app, name="admin")
app.add_typer(keys_app, name="keys")


@admin_app.command("create")
def admin_create(
    email: Annotated[str, typer.Option(help="Email address; it is the sign-in name.")],
    name: Annotated[str, typer.Option(help="The person's name.")],
    password: Annotated[
        str,
        typer.Option(
            prompt=True,
            hide_input=True,
            confirmation_prompt=True,
            help="At least 12 characters (asked for when not given).",
        ),
    ],
) -> None:
    """Create a programme-office administrator (the first one, or another)."""
    from dcatalog.accounts import service as accounts
    from dcatalog.accounts.permissions import Role
    from dcatalog.actors import SYSTEM

    settings = get_settings()
    with Database.opened(settings) as database, database.write_session() as session:
        account = accounts.create_account(
            session,
            SYSTEM,
            email=email,
            display_name=name,
            role=Role.PROGRAM_ADMIN,
            password=password,
        )
    out.print(f"Programme administrator {account.email} created. Sign in at /login.")


@keys_app.command("create")
def keys_create(
    agency: Annotated[str, typer.Option(help="Code of the agency the key acts for.")],
    scope: Annotated[
        list[str], typer.Option(help="A scope, e.g. deeds:write; repeat for several.")
    ],
    name: Annotated[str, typer.Option(help="Which system uses the key.")] = "created with the CLI",
) -> None:
    """Create an API key; the key alone is printed on the last line (shown only once)."""
    from dcatalog.accounts import service as accounts
    from dcatalog.actors import SYSTEM
    from dcatalog.agencies.service import get_agency

    settings = get_settings()
    with Database.opened(settings) as database, database.write_session() as session:
        key, plain = accounts.create_api_key(
            session, SYSTEM, get_agency(session, agency), name, scope
        )
    err.print(
        f"API key dck_{key.prefix} for {agency} with {', '.join(key.scopes)}. "
        "Store it now: it is not shown again.",
        highlight=False,
    )
    print(plain)


@keys_app.command("revoke")
def keys_revoke(
    prefix: Annotated[str, typer.Argument(help="The key's prefix (dck_<prefix> or <prefix>).")],
    reason: Annotated[str, typer.Option(help="Why; kept in the audit trail.")] = "",
) -> None:
    """Revoke an API key at once."""
    from dcatalog.accounts import service as accounts
    from dcatalog.actors import SYSTEM

    settings = get_settings()
    with Database.opened(settings) as database, database.write_session() as session:
        key = accounts.revoke_api_key(session, SYSTEM, prefix.removeprefix("dck_"), reason=reason)
    out.print(f"API key dck_{key.prefix} ({key.name}) is revoked.")


import_app = typer.Typer(help="Import bulk files.", no_args_is_help=True)
tallies_app = typer.Typer(help="Tallies of verified deeds.", no_args_is_help=True)
app.add_typer(import_app, name="import")
app.add_typer(tallies_app, name="tallies")
app.add_typer(stats_app, name="stats")


@import_app.command("deeds")
def import_deeds(
    file: Annotated[
        Path, typer.Argument(exists=True, dir_okay=False, help="A .csv or .xlsx file.")
    ],
    agency: Annotated[str, typer.Option(help="Code of the agency recording the deeds.")],
    errors: Annotated[
        Path | None, typer.Option(help="Write the rows not imported to this CSV file.")
    ] = None,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print the summary as one JSON object.")
    ] = False,
    all_or_nothing: Annotated[
        bool, typer.Option("--all-or-nothing", help="Import nothing unless every row is fine.")
    ] = False,
) -> None:
    """Import a file of deeds for an agency; exits 1 when rows were refused."""
    import json

    from dcatalog import tabular
    from dcatalog.actors import operator_for
    from dcatalog.agencies.service import get_agency
    from dcatalog.deeds.importing import ErrorReport, import_file
    from dcatalog.deeds.service import Rules

    settings = get_settings()
    keyer = CitizenKeyer(load_pepper(settings))
    database = Database.from_settings(settings)
    total = _count_lines(file)
    try:
        with (
            database.write_session() as session,
            _rows_bar(disable=as_json) as bar,
            # Every refused row, written as the import goes (the operator's own file).
            (
                errors.open("w", encoding="utf-8", newline="")
                if errors is not None
                else contextlib.nullcontext()
            ) as handle,
        ):
            bind_pepper(session, keyer)
            task = bar.add_task(f"Importing {file.name}", total=total)
            summary = import_file(
                session,
                operator_for(get_agency(session, agency).id),
                keyer,
                Rules.from_settings(settings),
                file,
                all_or_nothing=all_or_nothing,
                progress=lambda rows: bar.update(task, completed=rows),
                limits=tabular.Limits.of(settings),
                report=(
                    ErrorReport(handle, limit=sys.maxsize, redacted=False, bom=True)
                    if handle is not None
                    else None
                ),
            )
            bar.update(task, completed=summary.rows, total=summary.rows)
    finally:
        database.dispose()
    if as_json:
        print(json.dumps({**summary.as_dict(), "errors_file": str(errors) if errors else None}))
    else:
        out.print(
            f"{summary.rows} rows: {summary.imported} imported, {summary.unchanged} unchanged "
            f"(sent before), {summary.rejected} refused."
            + (" Nothing was imported (all or nothing)." if summary.rolled_back else "")
        )
        for error in summary.errors[:10]:
            err.print(f"  row {error.row}, {error.column}: {error.reason}", highlight=False)
        if summary.error_count > 10:
            hint = f" see {errors}" if errors else " use --errors FILE for all of them"
            err.print(f"  … {summary.error_count - 10:,} more;{hint}", highlight=False)
    if summary.rejected:
        raise typer.Exit(1)


def _rows_bar(*, disable: bool = False) -> Progress:
    """Progress over the rows of a file, on stderr (stdout stays the command's answer)."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn())
    return Progress(*columns, TimeElapsedColumn(), console=err, disable=disable)


def _count_lines(path: Path) -> int | None:
    if path.suffix.lower() != ".csv":
        return None
    with path.open("rb") as handle:
        return max(sum(1 for _ in handle) - 1, 0)


@tallies_app.command("rebuild")
def tallies_rebuild() -> None:
    """Recompute every tally from the verified deeds."""
    from dcatalog.db import transaction
    from dcatalog.deeds import tallies

    settings = get_settings()
    with (
        Database.opened(settings) as database,
        database.write_session() as session,
        transaction(session),
    ):
        rows = tallies.rebuild(session, settings.academic_year_start_month_day)
    out.print(f"Tallies rebuilt: {rows} rows.")


@tallies_app.command("check")
def tallies_check(
    limit: Annotated[int, typer.Option(help="Show at most this many differences.")] = 20,
) -> None:
    """Compare the tallies with the deeds; exits 1 when they differ."""
    from dcatalog.deeds import tallies

    settings = get_settings()
    with Database.opened(settings) as database, database.session() as session:
        found = tallies.differences(session, settings.academic_year_start_month_day)
    if not found:
        out.print("Tallies match the deeds.")
        return
    for d in found[:limit]:
        err.print(
            f"  {d.citizen_key[:12]}… {d.subject} {d.period}: expected {d.expected}, found {d.found}",
            highlight=False,
        )
    err.print(
        f"[bold red]{len(found)} tallies differ from the deeds[/]; run `dcatalog tallies rebuild`."
    )
    raise typer.Exit(1)


report_app = typer.Typer(
    help="Reports: for partner agencies, and the national progress report.", no_args_is_help=True
)
app.add_typer(report_app, name="report")


@report_app.command("eligibility")
def report_eligibility(
    file: Annotated[
        Path,
        typer.Argument(
            exists=True, dir_okay=False, help="A .csv or .xlsx file: national_id [, reference]."
        ),
    ],
    agency: Annotated[str, typer.Option(help="Code of the agency asking (it owns the benefit).")],
    benefit: Annotated[str, typer.Option(help="The agency's benefit, e.g. kys.loan_renewal.")],
    academic_year: Annotated[
        int, typer.Option(help="Buddhist Era year whose deeds count, e.g. 2568.")
    ],
    output: Annotated[
        Path, typer.Option("--out", help="Where to write the report: .csv or .xlsx.")
    ],
    purpose: Annotated[
        str, typer.Option(help="Why (each citizen reads it in their access log).")
    ] = "",
    lang: Annotated[str, typer.Option(help="Language of the report: th or en.")] = "th",
) -> None:
    """Which of the listed citizens meet a benefit's rule for an academic year (with
    their consent; every look-up is in their access log)."""

    from dcatalog import tabular
    from dcatalog.accounts.permissions import Scope
    from dcatalog.actors import Actor
    from dcatalog.agencies.service import get_agency
    from dcatalog.calendars.buddhist_era import today_in_thailand
    from dcatalog.reports import service as reports

    if output.suffix.lower() not in (".csv", ".xlsx"):
        fail("--out must end in .csv or .xlsx")
    settings = get_settings()
    keyer = CitizenKeyer(load_pepper(settings))
    database = Database.from_settings(settings)
    today, start = today_in_thailand(), settings.academic_year_start_month_day
    try:
        with database.write_session() as session:
            bind_pepper(session, keyer)
            found = get_agency(session, agency)
            # The operator at the console, acting for the agency with its read permission.
            actor = Actor(
                "system", "cli", "cli", found.id, None, frozenset({Scope.ELIGIBILITY_READ}), "CLI"
            )
            spec = reports.prepare(
                session,
                actor,
                benefit_code=benefit,
                academic_year_be=academic_year,
                purpose=purpose,
                language=lang,
                today=today,
                academic_start=start,
            )
            sink = reports.sink_for(output)
            try:
                with _rows_bar() as bar:
                    limits = tabular.Limits.of(settings)
                    task = bar.add_task(
                        f"Answering {file.name}", total=tabular.inspect(file, limits)
                    )
                    summary = reports.build(
                        session,
                        actor,
                        keyer,
                        spec,
                        file,
                        [sink],
                        today=today,
                        academic_start=start,
                        progress=lambda rows: bar.update(task, completed=rows),
                        limits=limits,
                    )
                    bar.update(task, completed=summary.rows, total=summary.rows)
            except BaseException:
                sink.close()
                output.unlink(missing_ok=True)  # never half a report
                raise
            sink.close()
    finally:
        database.dispose()
    out.print(
        f"{summary.rows} rows: {summary.met} met, {summary.not_met} not met, "
        f"{summary.refused} without consent, {summary.invalid} invalid IDs "
        f"(evaluated as on {spec.as_of.isoformat()}); written to {output}."
    )


credentials_app = typer.Typer(
    help="Verifiable credentials: the issuer's keys.", no_args_is_help=True
)
app.add_typer(credentials_app, name="credentials")


@credentials_app.command("rotate-key")
def credentials_rotate_key() -> None:
    """Make a new issuer signing key; older keys stay published, so what they
    signed stays valid."""
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    from dcatalog.actors import SYSTEM
    from dcatalog.audit import service as audit
    from dcatalog.credentials import keystore
    from dcatalog.credentials.multikey import encode_public_key, encode_secret_key
    from dcatalog.db import transaction

    settings = get_settings()
    in_file = settings.issuer_key is None and settings.is_sqlite
    old: Ed25519PrivateKey | None = None
    if settings.issuer_key is not None or (settings.instance_dir / keystore.KEY_FILE).exists():
        old = keystore.load_private_key(settings)
    new = keystore.new_private_key()
    with (
        Database.opened(settings) as database,
        database.write_session() as session,
        transaction(session),
    ):
        if old is not None:  # published before it is retired, whether it signed or not
            keystore.publish(session, old.public_key())
        row = keystore.publish(session, new.public_key())
        audit.record(session, SYSTEM, "issuer_key.rotate", row)
        if in_file:
            keystore.write_key_file(settings, new)
    public = encode_public_key(new.public_key())
    if in_file:
        out.print(
            f"New issuer key {public} in {settings.instance_dir / keystore.KEY_FILE}; "
            "older keys stay published. Restart the service to sign with it.",
            highlight=False,
        )
        return
    err.print(
        f"New issuer key {public}, published now (older keys stay published). Set "
        "DCATALOG_ISSUER_KEY to the secret on the last line, on every app process, and "
        "restart them. Store it now: it is not shown again.",
        highlight=False,
    )
    print(encode_secret_key(new))


# `dcatalog verify` exit codes (docs/credentials.md); 2 is Typer's own for a usage error.
VERIFY_EXIT = {"valid": 0, "invalid": 1, "revoked": 3, "unknown": 4}
VERIFY_EXIT_UNREADABLE = 5


@app.command("verify")
def verify_credential(
    source: Annotated[str, typer.Argument(help="A credential file (JSON or PDF), or its URL.")],
    key: Annotated[
        list[str] | None,
        typer.Option(
            "--key",
            help="Trust this issuer key: a public Multikey (z6Mk…, zDn…) or a did.json file; "
            "repeat for several. Without it the key is looked up from its name (did:key, "
            "did:web, https).",
        ),
    ] = None,
    offline: Annotated[
        bool,
        typer.Option(
            "--offline",
            help="Use no network; without --status-list the revocation status is unknown.",
        ),
    ] = False,
    status_list: Annotated[
        list[str] | None,
        typer.Option(
            "--status-list",
            help="A status list credential saved as a file (matched by its id); repeatable.",
        ),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the result as JSON.")] = False,
) -> None:
    """Check a credential (signature, issuer, data model, dates, revocation).

    Exits 0 valid, 1 invalid, 3 revoked, 4 unknown (a check could not be made),
    5 the credential, a key or a status list file cannot be read."""
    import json

    from dcatalog.credentials.errors import CredentialError
    from dcatalog.credentials.limits import Limits
    from dcatalog.credentials.offline import verify_source

    try:
        check = verify_source(
            source,
            key or [],
            offline=offline,
            status_lists=status_list or [],
            limits=Limits.from_settings(get_settings()),
        )
    except CredentialError as exc:
        fail(str(exc), VERIFY_EXIT_UNREADABLE)
    if as_json:
        print(json.dumps(check.as_dict(), ensure_ascii=False, indent=2))
    else:
        colour = "green" if check.valid else "red"
        out.print(f"[bold {colour}]{check.outcome.value}[/]: {check.reason}", highlight=False)
        for line in check.checks:
            out.print(
                f"  {line.name}: {line.result.value} ({line.detail})", highlight=False, markup=False
            )
        a = check.attestation
        if a is not None:
            out.print(f"  {a.name or a.achievement}", highlight=False, markup=False)
            if a.achievement_en:
                out.print(f"  {a.achievement_en}", highlight=False, markup=False)
            for result in a.results:
                out.print(f"  {result.value} {result.label}", highlight=False, markup=False)
            out.print(
                f"  issued by {a.issuer_name or '?'} ({a.issuer_id or '?'}) at {a.valid_from or '?'}",
                highlight=False,
                markup=False,
            )
    raise typer.Exit(VERIFY_EXIT[check.outcome.value])


@app.command()
def serve(
    host: Annotated[str | None, typer.Option(help="Address to listen on.")] = None,
    port: Annotated[int | None, typer.Option(help="Port to listen on.")] = None,
    workers: Annotated[int | None, typer.Option(min=1, help="Worker processes.")] = None,
) -> None:
    """Run the web service (pages and API)."""
    import uvicorn

    settings = get_settings()
    host = host or settings.host
    port = port or settings.port
    workers = workers or settings.workers
    # Fail here, clearly, rather than in every worker.
    load_pepper(settings)
    instance_secret(settings, "secret_key", settings.secret_key)
    _require_current_schema(settings)
    if workers > 1:
        # Each worker counts its own requests; this folder lets /metrics add them up.
        metrics_dir = settings.instance_dir / "prometheus"
        shutil.rmtree(metrics_dir, ignore_errors=True)
        metrics_dir.mkdir(parents=True)
        os.environ["PROMETHEUS_MULTIPROC_DIR"] = str(metrics_dir.resolve())
    out.print(f"D-Catalog {__version__} on http://{host}:{port} ({_safe_url(settings)})")
    uvicorn.run(
        "dcatalog.app:create_app",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        access_log=False,
        log_config=None,
        proxy_headers=True,
    )


@app.command()
def worker(
    threads: Annotated[
        int | None, typer.Option(min=1, max=64, help="Jobs run at once (default: jobs_threads).")
    ] = None,
) -> None:
    """Run background jobs (imports, reports, periodic work) until stopped with
    SIGTERM or Ctrl-C: any number of workers, on any hosts, share the queue.
    A stopping worker gives its running jobs back to the queue."""
    from dcatalog.jobs import Jobs
    from dcatalog.jobs.queue import Heartbeat

    settings = get_settings()
    _require_current_schema(settings)
    with Database.opened(settings) as database:
        jobs = Jobs(database, settings)
        if jobs.huey.immediate:
            fail(
                "jobs_queue = immediate runs jobs where they are asked: there is nothing to work on"
            )
        threads = threads or settings.jobs_threads
        found = jobs.recover()
        out.print(
            f"D-Catalog worker {__version__}: {threads} thread(s) on {_safe_url(settings)}, "
            f"{len(found.queued)} job(s) waiting"
        )
        with Heartbeat(jobs):
            jobs.consumer(threads).run()  # until SIGTERM or Ctrl-C


def _require_current_schema(settings: Settings) -> None:
    with Database.opened(settings) as database, database.engine.connect() as connection:
        if not schema.is_current(connection):
            fail(
                f"the database {_safe_url(settings)} is not at the current schema version; "
                "run `dcatalog migrate` (or `dcatalog demo`) first"
            )


@app.command("config")
def show_config(
    markdown: Annotated[
        bool, typer.Option("--markdown", help="Print the settings reference as a Markdown table.")
    ] = False,
) -> None:
    """Show the effective settings (secrets hidden), or document them all."""
    if markdown:
        out.print(settings_reference(), markup=False, highlight=False, soft_wrap=True)
        return
    settings = get_settings()
    table = Table("variable", "value", "description", show_lines=False)
    for name, field in Settings.model_fields.items():
        value = getattr(settings, name)
        shown = "(set, hidden)" if name == "pepper" and value is not None else str(value)
        if name == "database_url" and value:
            shown = _safe_url(settings)
        table.add_row(f"DCATALOG_{name.upper()}", shown, field.description or "")
    out.print(table)


def settings_reference() -> str:
    """The settings table of docs/configuration.md, generated from the code."""
    lines = ["| variable | default | meaning |", "| --- | --- | --- |"]
    for name, field in Settings.model_fields.items():
        default = field.default
        shown = "(empty)" if default is None else f"`{default}`"
        lines.append(f"| `DCATALOG_{name.upper()}` | {shown} | {field.description} |")
    return "\n".join(lines)


_KNOWN_FAILURES = (SecretUnavailable, PepperMismatch, CommandError, FileProblem)


def main() -> None:
    """Entry point: turns known failures into one clear line and exit code 1 (2 for
    bad configuration) instead of a traceback."""
    try:
        app()
    except ValidationError as exc:
        problems = "; ".join(
            f"DCATALOG_{'_'.join(str(p) for p in e['loc']).upper()}: {e['msg']}"
            for e in exc.errors()
        )
        err.print(f"[bold red]configuration error:[/] {problems}", highlight=False)
        sys.exit(2)
    except SQLAlchemyError as exc:
        reason = str(getattr(exc, "orig", None) or exc).strip().splitlines()[0]
        err.print(f"[bold red]database error:[/] {reason}", highlight=False)
        sys.exit(1)
    except _KNOWN_FAILURES as exc:
        err.print(f"[bold red]error:[/] {exc}", highlight=False)
        sys.exit(1)
    except Problem as problem:  # a service refused: say why, as the API would
        reasons = "; ".join(f"{e.pointer or e.parameter}: {e.detail}" for e in problem.errors)
        err.print(
            f"[bold red]error:[/] {problem.detail}" + (f" ({reasons})" if reasons else ""),
            highlight=False,
        )
        sys.exit(1)


@report_app.command("progress")
def report_progress(
    period: Annotated[
        str,
        typer.Option(help="2570 (a fiscal year), 2570-Q1 (a quarter) or 2569-11 (a month), B.E."),
    ],
    output: Annotated[
        Path | None, typer.Option("--out", help="The PDF to write (default: next to you).")
    ] = None,
    xlsx: Annotated[
        Path | None, typer.Option("--xlsx", help="The XLSX to write (default: beside the PDF).")
    ] = None,
    lang: Annotated[str, typer.Option(help="Language of the report: th or en.")] = "th",
) -> None:
    """The progress report for the Prime Minister's office: the dashboard's figures
    of a period as a PDF in Thai with charts and tables, and an XLSX."""
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

    from dcatalog.stats import progress_report

    key = progress_report.period_key(period)
    settings = get_settings()
    database = Database.from_settings(settings)
    names = {"figures": "Reading the figures", "pdf": "Typesetting the PDF", "xlsx": "XLSX"}
    columns = (TextColumn("{task.description}"), BarColumn(), TimeElapsedColumn())
    try:
        with database.session() as session, Progress(*columns, console=err) as bar:
            task = bar.add_task("Progress report", total=3)

            def step(name: str, done: int, of: int) -> None:
                bar.update(task, completed=done, total=of, description=names.get(name, name))

            report, pdf, sheet = progress_report.build(session, key, lang, step)
    finally:
        database.dispose()
    pdf_path = output or Path(f"{report.file_stem}.pdf")
    xlsx_path = xlsx or pdf_path.with_suffix(".xlsx")
    pdf_path.write_bytes(pdf)
    xlsx_path.write_bytes(sheet)
    out.print(f"Progress report {period} written to {pdf_path} and {xlsx_path}.")
