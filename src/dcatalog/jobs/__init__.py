"""Background work: one job record, one queue (huey 3), any number of workers.

A domain defines a ``JobKind`` (its ``run`` does the work and returns the result)
and registers it in ``dcatalog.assembly``. To start a job, a service creates it
in its transaction (``create``, audited there) and, once committed, wakes it
(``Jobs.wake``); a worker claims it, runs it and ends it in the record, which
is all that pages and the API read. Files that jobs take or make live in the
database (``files``). How delivery becomes at-least-once: ``record``; the
queue and the workers: ``queue``; operating them: docs/operations.md.
"""

from dcatalog.jobs import files, views
from dcatalog.jobs.kinds import JobKind, UnknownKind, agency_results, register
from dcatalog.jobs.models import ACTIVE, Job, JobStatus, StoredFile
from dcatalog.jobs.queue import Jobs
from dcatalog.jobs.record import Context, JobFailed, Stopping, create, done_shown, get
from dcatalog.jobs.views import ShownProgress

__all__ = [
    "ACTIVE",
    "Context",
    "Job",
    "JobFailed",
    "JobKind",
    "JobStatus",
    "Jobs",
    "ShownProgress",
    "Stopping",
    "StoredFile",
    "UnknownKind",
    "agency_results",
    "create",
    "done_shown",
    "files",
    "get",
    "register",
    "views",
]
