"""Making progress reports in the background, for the dashboard's button.

A report takes seconds (the figures are the dashboard's snapshot; typesetting
the PDF is most of it), too long to hold a request. The page starts a job and
polls it. A job is a small JSON file beside its results in the instance folder
(``<instance>/progress-reports/``, private to the service's user), so every
worker process of the machine sees the same job; files older than a day are
removed when a new report starts. The reports hold aggregate, suppressed
figures only — no citizen's data.
"""

from __future__ import annotations

import json
import os
import time
import uuid
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from dcatalog.accounts.permissions import Scope
from dcatalog.actors import Actor
from dcatalog.config import Settings
from dcatalog.db import Database, new_id, utcnow
from dcatalog.jobs import Background
from dcatalog.logs import get_logger
from dcatalog.problems import Forbidden, NotFound
from dcatalog.stats import progress_report

log = get_logger(__name__)

FOLDER = "progress-reports"
KEEP_SECONDS = 24 * 3600
FORMATS = ("pdf", "xlsx")
UNEXPECTED = "An unexpected error stopped the report. Please try again."


@dataclass
class JobState:
    id: str
    period: str  # the dashboard's key, e.g. q:2570-1
    lang: str
    status: str  # running | done | failed
    step: str  # figures | pdf | xlsx | done
    done: int
    of: int
    created_by: str
    created_at: str
    failure: str = ""
    file_stem: str = ""

    @property
    def percent(self) -> int:
        return round(100 * self.done / self.of) if self.of else 0


def folder(settings: Settings) -> Path:
    return settings.instance_dir / FOLDER


def _write(base: Path, state: JobState) -> None:
    """Replace the job's file whole (readers never see half of it)."""
    base.mkdir(mode=0o700, parents=True, exist_ok=True)
    part = base / f"{state.id}.json.part"
    descriptor = os.open(part, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
        json.dump(asdict(state), handle, ensure_ascii=False)
    part.replace(base / f"{state.id}.json")


def _check(actor: Actor) -> None:
    if not actor.can(Scope.AUDIT_READ) or actor.agency_id is not None:
        raise Forbidden("Progress reports are made by the programme office.")


def start(
    database: Database,
    settings: Settings,
    actor: Actor,
    period: str,
    *,
    lang: str = "th",
    background: Background,
) -> JobState:
    """Check the request and start the report in the background."""
    _check(actor)
    key = progress_report.period_key(period)
    base = folder(settings)
    remove_expired(base)
    state = JobState(
        id=str(new_id()),
        period=key,
        lang=lang if lang in ("th", "en") else "th",
        status="running",
        step="figures",
        done=0,
        of=3,
        created_by=actor.label,
        created_at=utcnow().isoformat(timespec="seconds"),
    )
    _write(base, state)
    log.info("progress report started", job_id=state.id, period=key, actor=actor.label)
    background(lambda: run(database, base, state))
    return state


def run(database: Database, base: Path, state: JobState) -> None:
    """Make the report's files, writing the job's progress at each step."""

    def progress(step: str, done: int, of: int) -> None:
        state.step, state.done, state.of = step, done, of
        _write(base, state)

    try:
        with database.session() as session:
            report, pdf, xlsx = progress_report.build(session, state.period, state.lang, progress)
        for fmt, data in (("pdf", pdf), ("xlsx", xlsx)):
            path = base / f"{state.id}.{fmt}"
            descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(descriptor, "wb") as handle:
                handle.write(data)
        state.status, state.file_stem = "done", report.file_stem
    except Exception:
        log.exception("progress report failed", job_id=state.id)
        state.status, state.failure = "failed", UNEXPECTED
    _write(base, state)


def view(settings: Settings, actor: Actor, job_id: uuid.UUID) -> JobState:
    _check(actor)
    path = folder(settings) / f"{job_id}.json"
    try:
        data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        raise NotFound("No such progress report (reports are kept for a day).") from None
    return JobState(**data)


def result(settings: Settings, actor: Actor, job_id: uuid.UUID, fmt: str) -> tuple[Path, str]:
    """The file of a finished report and the name to download it as."""
    state = view(settings, actor, job_id)
    if fmt not in FORMATS or state.status != "done":
        raise NotFound("This report is not ready.")
    return folder(settings) / f"{state.id}.{fmt}", f"{state.file_stem}.{fmt}"


def remove_expired(base: Path, now: float | None = None) -> int:
    """Forget reports older than a day."""
    if not base.exists():
        return 0
    cutoff = (now if now is not None else time.time()) - KEEP_SECONDS
    removed = 0
    for path in base.iterdir():
        if path.stat().st_mtime < cutoff:
            path.unlink(missing_ok=True)
            removed += 1
    return removed
