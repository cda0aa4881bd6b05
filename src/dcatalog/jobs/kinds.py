"""The kinds of job: what each does and the rules it runs under.

Domains above the foundation define their kinds (``JobKind(name, run, …)``) and
register them in ``dcatalog.assembly``, the one place that knows every domain;
this package runs them by name and never imports a domain.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from dcatalog.jobs.record import Context

from dcatalog.web.i18n import N_

INTERRUPTED = N_(
    "The job was interrupted several times (its worker stopped while it ran). "
    "Please start it again."
)
UNEXPECTED = N_("An unexpected error stopped the job. Please try again.")


@dataclass(frozen=True)
class JobKind:
    name: str  # "stats.progress_report": the domain, then what it makes
    # Does the work and returns the job's result (JSON). ``JobFailed`` ends it with
    # its message; any other error with ``unexpected``. It must be safe to run
    # again: a job whose worker died is run again from its last checkpoint.
    run: Callable[[Context], dict[str, Any]]
    # The job and its files, after it ends: a duration, or one from the settings.
    keep: timedelta | Callable[[Any], timedelta] = timedelta(days=1)
    max_attempts: int = 3  # runs started before an interrupted job is given up
    at_once: int | None = None  # of this kind running at once, over every worker
    interrupted: str = INTERRUPTED  # the failure once its attempts are used up
    unexpected: str = UNEXPECTED
    # How often the workers run it by themselves, from the settings (None: never).
    # A run missed while no worker ran is made up at the next minute.
    every: Callable[[Any], timedelta | None] | None = None

    def kept(self, settings: Any = None) -> timedelta:
        """How long the job is kept after it ends, under ``settings`` (the process's
        own when not given)."""
        if not callable(self.keep):
            return self.keep
        if settings is None:
            from dcatalog.config import get_settings

            settings = get_settings()
        return self.keep(settings)


class UnknownKind(RuntimeError):
    """A job of a kind this process has not registered: it never assembled
    (``dcatalog.assembly.assemble``), or runs an older version of the code."""


_KINDS: dict[str, JobKind] = {}


def register(*kinds: JobKind) -> None:
    for kind in kinds:
        _KINDS[kind.name] = kind


def get(name: str) -> JobKind:
    try:
        return _KINDS[name]
    except KeyError:
        raise UnknownKind(f"no job kind {name!r} is registered in this process") from None


def registered() -> list[JobKind]:
    return [_KINDS[name] for name in sorted(_KINDS)]


def agency_results(settings: Any) -> timedelta:
    """How long an agency's finished job is kept: its results, to come back to."""
    return timedelta(days=settings.job_results_keep_days)
