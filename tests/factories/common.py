"""What the factories share: fresh names, the test keyer and secret, today's
recording rules, and a ``Database`` on the test's own connection (for the
services that open sessions of their own: jobs, the dashboard refresh)."""

from __future__ import annotations

import itertools
import tempfile
from datetime import date
from pathlib import Path

from sqlalchemy.orm import Session

from dcatalog.calendars.buddhist_era import today_in_thailand
from dcatalog.calendars.periods import DEFAULT_ACADEMIC_START
from dcatalog.config import Settings
from dcatalog.db import Database
from dcatalog.deeds.service import Rules
from dcatalog.identity.citizen_key import CitizenKeyer
from dcatalog.identity.national_id import with_check_digit
from dcatalog.jobs import Jobs

_NUMBERS = itertools.count(1)
# The factories' own series of national IDs (a test file keeps to its own: see nid()).
SERIES = "86"


def unique(prefix: str) -> str:
    """``prefix`` and a number no other factory call of this process used: codes,
    names and e-mails that never collide, whatever the test made before."""
    return f"{prefix}{next(_NUMBERS)}"


def new_national_id() -> str:
    """A valid national ID nobody else in the suite uses."""
    number = next(_NUMBERS)
    return with_check_digit(f"{SERIES}{number:0{12 - len(SERIES)}d}")


def keyer() -> CitizenKeyer:
    """The keyer of the test settings' pepper (the app under test keys IDs the same)."""
    from tests.conftest import TEST_PEPPER

    return CitizenKeyer(TEST_PEPPER.encode())


def secret_key() -> bytes:
    """The test settings' secret key (claim codes are derived with it)."""
    from tests.conftest import TEST_SECRET_KEY

    return TEST_SECRET_KEY.encode()


def rules(today: date | None = None) -> Rules:
    """Recording rules as the default settings make them, for today in Thailand."""
    return Rules(
        today=today or today_in_thailand(),
        max_age_days=730,
        academic_start=DEFAULT_ACADEMIC_START,
    )


def database_of(session: Session) -> Database:
    """A ``Database`` whose sessions join the test session's connection, as the
    ``database`` fixture's do: what a job writes is the test's, rolled back after."""
    connection = session.connection()
    return Database(connection.engine, connection=connection)


def immediate_jobs(database: Database) -> Jobs:
    """A queue that runs each job at once, in the caller (``jobs_queue=immediate``)."""
    from tests.conftest import TEST_PEPPER

    settings = Settings(
        jobs_queue="immediate",
        instance_dir=scratch_folder("jobs"),
        pepper=TEST_PEPPER,  # type: ignore[arg-type]
    )
    return Jobs(database, settings)


# Where jobs keep their files when the caller gives no folder: removed at exit.
_SCRATCH = tempfile.TemporaryDirectory(prefix="dcatalog-factories-")


def scratch_folder(what: str) -> Path:
    """A folder of its own for a job's files (under one removed when the run ends)."""
    return Path(_SCRATCH.name) / unique(what)
