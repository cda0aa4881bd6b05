"""Deeds over the API: record (one or up to 1,000), read your own, verify."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Body, File, Form, Query, Request, UploadFile, status
from fastapi.responses import JSONResponse
from pydantic import ValidationError

from dcatalog import tabular
from dcatalog.access import require
from dcatalog.accounts.permissions import Scope
from dcatalog.actors import Actor
from dcatalog.deeds import jobs, service
from dcatalog.deeds.importing import FileProblem
from dcatalog.deeds.models import DeedStatus
from dcatalog.deeds.schemas import (
    BatchOut,
    DeedBatchIn,
    DeedIn,
    DeedOut,
    DeedPage,
    ImportError_,
    ImportJobOut,
    ImportOut,
    ItemResult,
    ReasonIn,
    VerifyIn,
)
from dcatalog.identity.deps import KeyerDep
from dcatalog.problems import Conflict, ValidationProblem
from dcatalog.web.deps import DatabaseDep, JobsDep, SessionDep, SettingsDep
from dcatalog.web.errors import field_errors

router = APIRouter(prefix="/api/v1/deeds", tags=["deeds"])
WRITE = require(Scope.DEEDS_WRITE)
READ = require(Scope.DEEDS_WRITE, Scope.DEEDS_VERIFY)
VERIFY = require(Scope.DEEDS_VERIFY)


def to_input(item: DeedIn) -> service.DeedInput:
    return service.DeedInput(**item.model_dump())


def out(deed: Any) -> DeedOut:
    view = service.deed_view(deed)
    view["deed_type"] = view.pop("deed_type_code")
    return DeedOut.model_validate(view)


def _parse(payload: Any) -> tuple[list[DeedIn], bool]:
    batch = isinstance(payload, dict) and "deeds" in payload
    try:
        if batch:
            return DeedBatchIn.model_validate(payload).deeds, True
        return [DeedIn.model_validate(payload)], False
    except ValidationError as exc:
        raise ValidationProblem(
            'The request is not a deed (or {"deeds": [...]}, up to 1,000); see errors.',
            errors=field_errors(
                [{**e, "loc": ("body", *e["loc"])} for e in exc.errors(include_input=False)]
            ),
        ) from exc


@router.post(
    "",
    summary='Record one deed, or up to 1,000 as {"deeds": [...]}',
    responses={
        201: {"description": "One deed recorded", "model": DeedOut},
        200: {
            "description": "Already recorded (the same deed sent again), or a batch's results",
            "model": BatchOut,
        },
        409: {"description": "The external_id was used for a different deed"},
        422: {"description": "The deed is not valid or not plausible; nothing was recorded"},
    },
)
def record(
    request: Request,
    keyer: KeyerDep,
    database: DatabaseDep,
    settings: SettingsDep,
    actor: Annotated[Actor, WRITE],
    payload: Annotated[Any, Body(description='A deed, or {"deeds": [...]}')],
) -> Any:
    items, batch = _parse(payload)
    with database.write_session() as session:
        outcomes = service.record(
            session,
            actor,
            keyer,
            service.Rules.from_settings(settings),
            [to_input(i) for i in items],
        )
    if batch:
        results = [
            ItemResult(
                index=o.index,
                result=o.result,
                deed=out(o.deed) if o.deed else None,
                errors=[e.as_dict() for e in o.errors],
            )
            for o in outcomes
        ]
        counts = {
            kind: sum(1 for o in outcomes if o.result == kind)
            for kind in ("created", "unchanged", "rejected", "conflict")
        }
        return BatchOut(results=results, **counts)
    (outcome,) = outcomes
    if outcome.result == "rejected":
        raise ValidationProblem("The deed was not recorded; see errors.", errors=outcome.errors)
    if outcome.result == "conflict":
        raise Conflict(outcome.errors[0].detail, errors=outcome.errors)
    code = status.HTTP_201_CREATED if outcome.result == "created" else status.HTTP_200_OK
    assert outcome.deed is not None
    return JSONResponse(out(outcome.deed).model_dump(mode="json"), status_code=code)


@router.post(
    "/import",
    status_code=202,
    summary="Import a CSV or XLSX file of deeds (a background job); every row accounted for",
    response_model=ImportJobOut,
    responses={
        200: {
            "description": "With `wait=true`: the import ended within the wait",
            "model": ImportJobOut,
        },
        202: {"description": "The import is queued or running: follow `Location`"},
        413: {"description": "The file is too big or has too many rows; nothing imported"},
        422: {"description": "The file cannot be read; nothing imported"},
    },
)
def import_deeds(
    keyer: KeyerDep,
    database: DatabaseDep,
    queue: JobsDep,
    settings: SettingsDep,
    actor: Annotated[Actor, WRITE],
    file: Annotated[UploadFile, File(description="A .csv (UTF-8) or .xlsx file")],
    all_or_nothing: Annotated[bool, Form()] = False,
    wait: Annotated[
        bool,
        Query(
            description=(
                "Answer when the import ends (200), if it ends within "
                "DCATALOG_IMPORT_WAIT_SECONDS; otherwise 202 as without it."
            )
        ),
    ] = False,
) -> JSONResponse:
    try:
        job = jobs.start(
            database,
            queue,
            keyer,
            actor,
            file.file,
            file.filename or "",
            all_or_nothing=all_or_nothing,
            limits=tabular.Limits.of(settings),
        )
    except FileProblem as problem:
        raise problem.problem("The file cannot be imported") from problem
    if wait:
        job = jobs.wait(database, actor, job.id, settings.import_wait_seconds)
    listed = settings.import_errors_listed
    body = _import_out(jobs.view(database, actor, job.id, keyer, listed=listed))
    ended = wait and body.status in ("done", "failed")
    return JSONResponse(
        body.model_dump(mode="json"),
        status_code=status.HTTP_200_OK if ended else status.HTTP_202_ACCEPTED,
        headers={"Location": f"/api/v1/deeds/imports/{job.id}"},
    )


@router.get("/imports", summary="Your agency's latest imports, newest first")
def list_imports(database: DatabaseDep, actor: Annotated[Actor, WRITE]) -> list[ImportJobOut]:
    """The latest ten, each with its progress and counts; GET one for its errors."""
    return [_import_out(view) for view in jobs.recent(database, actor)]


@router.get("/imports/{job_id}", summary="An import's progress, then its result")
def import_status(
    job_id: uuid.UUID,
    keyer: KeyerDep,
    database: DatabaseDep,
    settings: SettingsDep,
    actor: Annotated[Actor, WRITE],
) -> ImportJobOut:
    listed = settings.import_errors_listed
    return _import_out(jobs.view(database, actor, job_id, keyer, listed=listed))


def _import_out(view: jobs.JobView) -> ImportJobOut:
    """The job as the API shows it; its errors are those ``view`` was read with."""
    result = None
    if view.status.value == "done":
        result = ImportOut(
            rows=view.rows_done,
            imported=view.imported,
            unchanged=view.unchanged,
            rejected=view.rejected,
            all_or_nothing=view.all_or_nothing,
            rolled_back=view.rolled_back,
            errors=[
                ImportError_(row=e.row, column=e.column, reason=e.reason, external_id=e.external_id)
                for e in view.errors
            ],
            errors_total=view.errors_total,
            errors_not_listed=view.errors_total - len(view.errors),
        )
    return ImportJobOut(
        id=view.id,
        status=view.status.value,
        file_name=view.file_name,
        all_or_nothing=view.all_or_nothing,
        rows_done=view.rows_done,
        rows_total=view.rows_total,
        created_at=view.started_at,
        finished_at=view.finished_at,
        failure=view.failure or None,
        result=result,
    )


@router.get("", summary="Your agency's deeds, filtered, oldest first")
def list_deeds(
    session: SessionDep,
    actor: Annotated[Actor, READ],
    external_id: str | None = None,
    deed_type: str | None = None,
    status_: Annotated[DeedStatus | None, Query(alias="status")] = None,
    occurred_from: Annotated[date | None, Query(alias="from")] = None,
    occurred_to: Annotated[date | None, Query(alias="to")] = None,
    cursor: uuid.UUID | None = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> DeedPage:
    deeds = service.list_own(
        session,
        actor,
        external_id=external_id,
        deed_type=deed_type,
        status=status_,
        occurred_from=occurred_from,
        occurred_to=occurred_to,
        after=cursor,
        limit=limit,
    )
    return DeedPage(
        items=[out(d) for d in deeds], next_cursor=deeds[-1].id if len(deeds) == limit else None
    )


@router.get("/pending", summary="Deeds waiting for a verifier of your agency")
def pending(session: SessionDep, actor: Annotated[Actor, VERIFY]) -> list[DeedOut]:
    return [out(d) for d in service.pending_queue(session, actor)]


@router.get("/{deed_id}", summary="One of your agency's deeds")
def get_deed(deed_id: uuid.UUID, session: SessionDep, actor: Annotated[Actor, READ]) -> DeedOut:
    return out(service.get_own(session, actor, deed_id))


@router.post(
    "/verify",
    summary="Verify pending deeds (all or none)",
    responses={404: {"description": "One of the ids is not a deed of your agency."}},
)
def verify(
    body: VerifyIn, database: DatabaseDep, settings: SettingsDep, actor: Annotated[Actor, VERIFY]
) -> list[DeedOut]:
    with database.write_session() as session:
        return [
            out(d)
            for d in service.verify(session, actor, service.Rules.from_settings(settings), body.ids)
        ]


@router.post(
    "/{deed_id}/reject", summary="Reject a pending deed, with the reason the citizen reads"
)
def reject(
    deed_id: uuid.UUID, body: ReasonIn, database: DatabaseDep, actor: Annotated[Actor, VERIFY]
) -> DeedOut:
    with database.write_session() as session:
        return out(service.reject(session, actor, deed_id, body.reason))


@router.post(
    "/{deed_id}/revoke",
    summary="Revoke a verified deed (a correction), with a reason",
    responses={409: {"description": "A credential could not be revoked this time; try again."}},
)
def revoke(
    deed_id: uuid.UUID,
    body: ReasonIn,
    database: DatabaseDep,
    settings: SettingsDep,
    actor: Annotated[Actor, VERIFY],
) -> DeedOut:
    with database.write_session() as session:
        return out(
            service.revoke(
                session, actor, service.Rules.from_settings(settings), deed_id, body.reason
            )
        )
