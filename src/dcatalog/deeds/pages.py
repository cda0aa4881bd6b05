"""Staff pages for deeds: record one, import a file (in the background), the
verification queue."""

from __future__ import annotations

import uuid
from typing import Annotated, Any
from urllib.parse import urlencode, urlsplit

from fastapi import APIRouter, Depends, File, Form, Request, UploadFile
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.orm import Session

from dcatalog import tabular
from dcatalog.access import public, require
from dcatalog.accounts.permissions import Scope
from dcatalog.actors import Actor
from dcatalog.agencies.service import agency_of
from dcatalog.catalog.models import DeedType
from dcatalog.catalog.service import get_public, may_record, search_public
from dcatalog.deeds import jobs, reasons, service
from dcatalog.deeds.importing import (
    CellError,
    FileProblem,
    RowError,
    parse_date,
    parse_quantity,
    template,
    template_xlsx,
)
from dcatalog.deeds.service import Rules
from dcatalog.geo.provinces import province_options
from dcatalog.identity.deps import KeyerDep
from dcatalog.problems import FieldError, Problem, ValidationProblem
from dcatalog.web.csrf import csrf_protect
from dcatalog.web.deps import DatabaseDep, JobsDep, SessionDep, SettingsDep
from dcatalog.web.i18n import current_language
from dcatalog.web.i18n import gettext as _
from dcatalog.web.templating import render

router = APIRouter(include_in_schema=False, dependencies=[Depends(csrf_protect)])
WRITE = require(Scope.DEEDS_WRITE)
VERIFY = require(Scope.DEEDS_VERIFY)


def deed_status_labels() -> dict[str, str]:
    return {
        "pending": _("waiting for verification"),
        "verified": _("verified"),
        "rejected": _("rejected"),
        "revoked": _("revoked"),
    }


def recordable(session: Any, actor: Actor) -> list[tuple[str, str]]:
    """The deed types the actor's agency may record: (code, name in the page's language)."""
    lang = current_language()
    agency = agency_of(session, actor)
    kinds: list[DeedType] = [
        t
        for t in search_public(session, limit=500)
        if t.in_force and may_record(t.in_force.recorders, t.owner_agency_id, agency)
    ]
    return [(t.code, t.in_force.name(lang)) for t in kinds if t.in_force]


def row_reason(error: RowError) -> str:
    """One error of an imported row, in the page's language."""
    return error.text()


def refused_row_reason(row: jobs.RefusedRow) -> str:
    """The reason cell of a refused row in the error file: its row in the file sent,
    each column as the template heads it and why."""
    parts = [reasons.with_column(e.column, e.text()) for e in row.errors]
    return _("Row %(row)s: %(reasons)s") % {"row": row.row, "reasons": "; ".join(parts)}


def _form_context(session: Any, actor: Actor, **extra: Any) -> dict[str, Any]:
    return {
        "type_options": recordable(session, actor),
        "province_options": province_options(current_language()),
        "form": {},
        "deed_status_labels": deed_status_labels(),
        **extra,
    }


@router.get("/staff/deeds/record", response_class=HTMLResponse)
def record_form(
    request: Request, session: SessionDep, actor: Annotated[Actor, WRITE]
) -> HTMLResponse:
    return render(request, "staff/record.html", _form_context(session, actor))


@router.post("/staff/deeds/record", response_class=HTMLResponse)
def record(
    request: Request,
    keyer: KeyerDep,
    database: DatabaseDep,
    settings: SettingsDep,
    actor: Annotated[Actor, WRITE],
    national_id: Annotated[str, Form()],
    deed_type: Annotated[str, Form()],
    quantity: Annotated[str, Form()],
    occurred_on: Annotated[str, Form()],
    province: Annotated[str, Form()],
    external_id: Annotated[str, Form()],
    evidence: Annotated[str, Form()] = "",
) -> Response:
    # The ID is never echoed back into the form, even when something else is wrong.
    form = {
        "deed_type": deed_type,
        "quantity": quantity,
        "occurred_on": occurred_on,
        "province": province,
        "external_id": external_id,
        "evidence": evidence,
    }
    with database.write_session() as session:
        try:
            try:
                item = service.DeedInput(
                    national_id=national_id,
                    deed_type=deed_type,
                    quantity=parse_quantity(quantity),
                    occurred_on=parse_date(occurred_on),
                    province=province,
                    evidence=evidence,
                    external_id=external_id,
                )
            except CellError as exc:
                column = "quantity" if exc.code == "not_a_number" else "occurred_on"
                error = FieldError(str(exc), pointer=f"#/{column}", code=exc.code)
                raise ValidationProblem(_("The deed was not recorded."), errors=[error]) from exc
            (outcome,) = service.record(
                session, actor, keyer, Rules.from_settings(settings), [item]
            )
            if outcome.result in ("rejected", "conflict"):
                raise ValidationProblem(_("The deed was not recorded."), errors=outcome.errors)
        except Problem as problem:
            context = _form_context(session, actor, form=form, problem=problem)
            return render(request, "staff/record.html", context, status_code=problem.status)
    assert outcome.deed is not None
    # A fresh reading session: reusing the closed write session would begin another
    # write transaction (on SQLite, the write lock) that nothing ends.
    with database.session() as session:
        context = _form_context(session, actor, recorded=outcome.deed, result=outcome.result)
        return render(
            request,
            "staff/record.html",
            context,
            status_code=201 if outcome.result == "created" else 200,
        )


# An htmx event: the upload page then reloads its list of recent imports.
IMPORTS_CHANGED = "imports-changed"


def import_status_labels() -> dict[str, str]:
    return {
        "queued": _("waiting to start"),
        "running": _("importing"),
        "done": _("done"),
        "failed": _("failed"),
    }


def import_failure(message: str) -> str:
    """A failed import's message in the page's language."""
    known = {
        jobs.INTERRUPTED: _(
            "The import was interrupted: the server stopped while it ran. Import the same file again: rows recorded already come back as sent before, never twice."
        ),
        jobs.UNEXPECTED: _(
            "An unexpected error stopped the import. Import the same file again: rows recorded already come back as sent before, never twice."
        ),
    }
    return known.get(message) or _("The file cannot be imported: %(reason)s") % {"reason": message}


def file_problem(problem: FileProblem) -> ValidationProblem:
    """A refused file, for the page: all in Thai when the page is (with the reason's
    own Thai), the status an API client would get (413 too large, 422 bad)."""
    if problem.thai and current_language() == "th":
        reason = _("The file cannot be imported: %(reason)s") % {"reason": problem.thai}
    else:
        reason = import_failure(str(problem))
    return ValidationProblem(reason, status=problem.status)


def _import_context(settings: Any, **extra: Any) -> dict[str, Any]:
    return {
        "import_status_labels": import_status_labels(),
        "import_failure": import_failure,
        "row_reason": row_reason,
        "column_label": reasons.column_label,
        "shown_errors": jobs.SHOWN_ERRORS,
        "reported_cap": settings.import_errors_reported,
        **extra,
    }


@router.get("/staff/deeds/import", response_class=HTMLResponse)
def import_page(
    request: Request,
    database: DatabaseDep,
    session: SessionDep,
    settings: SettingsDep,
    actor: Annotated[Actor, WRITE],
) -> HTMLResponse:
    context = _import_context(
        settings, imports=jobs.recent(database, actor), templates=recordable(session, actor)
    )
    return render(request, "staff/import.html", context)


@router.post("/staff/deeds/import", response_class=HTMLResponse)
def import_upload(
    request: Request,
    keyer: KeyerDep,
    database: DatabaseDep,
    queue: JobsDep,
    settings: SettingsDep,
    actor: Annotated[Actor, WRITE],
    file: Annotated[UploadFile, File()],
    all_or_nothing: Annotated[bool, Form()] = False,
) -> Response:
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
        refused = file_problem(problem)
        failed = _import_context(settings, problem=refused)
        return render(request, "staff/_import_result.html", failed, status_code=refused.status)
    if "hx-request" not in request.headers:  # a browser without scripts: the job's page
        return RedirectResponse(f"/staff/deeds/imports/{job.id}", status_code=303)
    context = _import_context(settings, job=jobs.view(database, actor, job.id, keyer))
    response = render(request, "staff/_import_result.html", context, status_code=202)
    response.headers["HX-Trigger"] = IMPORTS_CHANGED
    return response


@router.get("/staff/deeds/imports/{job_id}", response_class=HTMLResponse)
def import_job(
    request: Request,
    keyer: KeyerDep,
    job_id: uuid.UUID,
    database: DatabaseDep,
    settings: SettingsDep,
    actor: Annotated[Actor, WRITE],
) -> HTMLResponse:
    job = jobs.view(database, actor, job_id, keyer)
    context = _import_context(settings, job=job)
    if "hx-request" not in request.headers:
        return render(request, "staff/import_job.html", context)
    response = render(request, "staff/_import_result.html", context)  # the page polling
    if not job.active:
        response.headers["HX-Trigger"] = IMPORTS_CHANGED
    return response


@router.get("/staff/deeds/imports/{job_id}/errors.csv")
def import_errors(
    request: Request,
    keyer: KeyerDep,
    job_id: uuid.UUID,
    database: DatabaseDep,
    actor: Annotated[Actor, WRITE],
) -> Response:
    report = jobs.error_report(
        database,
        actor,
        job_id,
        keyer,
        reason_heading=_("Why refused"),
        reason_of=refused_row_reason,
        more_note=lambda count: (
            _(
                "… and %(count)s more refused rows not in this file: fix these, import this file, then import the original file again (rows recorded already come back as sent before)"
            )
            % {"count": f"{count:,}"}
        ),
    )
    return Response(
        report,
        media_type="text/csv; charset=utf-8",
        headers={
            "Content-Disposition": f'attachment; filename="refused-rows-{job_id}.csv"',
            "Cache-Control": "no-store",
        },
    )


# --- file templates (linked from each deed type's public page) --------------------------


def _template_options(session: Session, code: str) -> tuple[str, dict[str, Any]]:
    entry = get_public(session, code)
    version = entry.in_force
    return entry.code, {
        "lang": current_language(),
        "max_per_record": version.max_per_record if version else None,
    }


@router.get("/catalog/{code}/template.csv", dependencies=[public])
def import_template(code: str, session: SessionDep) -> Response:
    """A CSV to fill in for a bulk import of this deed type (headings in the page's
    language, an example row the import accepts and never records)."""
    code, options = _template_options(session, code)
    return Response(
        template(code, **options),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{code}-template.csv"'},
    )


@router.get("/catalog/{code}/template.xlsx", dependencies=[public])
def import_template_xlsx(code: str, session: SessionDep) -> Response:
    """The same template as an XLSX workbook."""
    code, options = _template_options(session, code)
    return Response(
        template_xlsx(code, **options),
        media_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        headers={"Content-Disposition": f'attachment; filename="{code}-template.xlsx"'},
    )


QUEUE_PAGE = 50  # deeds on one page of the verification queue


@router.get("/staff/deeds/queue", response_class=HTMLResponse)
def queue(
    request: Request,
    session: SessionDep,
    actor: Annotated[Actor, VERIFY],
    deed_type: str = "",
    occurred_from: str = "",
    occurred_to: str = "",
    page: int = 1,
) -> HTMLResponse:
    filters = {"deed_type": deed_type, "occurred_from": occurred_from, "occurred_to": occurred_to}
    problem = None
    try:
        start = parse_date(occurred_from) if occurred_from.strip() else None
        end = parse_date(occurred_to) if occurred_to.strip() else None
    except CellError as exc:
        start = end = None
        problem = ValidationProblem(
            _("The date filter was not used."),
            errors=[FieldError(str(exc), code=exc.code)],
        )
    result = service.queue_page(
        session,
        actor,
        deed_type=deed_type.strip() or None,
        occurred_from=start,
        occurred_to=end,
        page=max(page, 1),
        size=QUEUE_PAGE,
    )
    names = service.type_names(session, result.types, current_language())
    return render(
        request,
        "staff/queue.html",
        {
            "queue": result,
            "deeds": result.deeds,
            "type_names": names,
            "filters": filters,
            "problem": problem,
            "rejection_reasons": reasons.REJECTION_REASONS,
            "decided": request.query_params.get("decided"),
            "page_link": lambda n: _queue_link(filters, n),
        },
    )


def _queue_link(filters: dict[str, str], page: int) -> str:
    query = {k: v for k, v in filters.items() if v}
    if page > 1:
        query["page"] = str(page)
    return "/staff/deeds/queue" + (f"?{urlencode(query)}" if query else "")


@router.post("/staff/deeds/queue/verify")
async def verify_selected(
    request: Request, database: DatabaseDep, settings: SettingsDep, actor: Annotated[Actor, VERIFY]
) -> Response:
    form = await request.form()
    ids = [uuid.UUID(str(value)) for value in form.getlist("ids")]
    if ids:
        with database.write_session() as session:
            service.verify(session, actor, Rules.from_settings(settings), ids)
    back = str(form.get("back") or "")
    return RedirectResponse(_back_to_queue(back, len(ids)), status_code=303)


def _back_to_queue(back: str, decided: int) -> str:
    """The queue page the decision was made on (only ever the queue)."""
    query = urlsplit(back).query if back.startswith("/staff/deeds/queue") else ""
    query = "&".join(p for p in query.split("&") if p and not p.startswith("decided="))
    return f"/staff/deeds/queue?{query + '&' if query else ''}decided={decided}"


@router.post("/staff/deeds/{deed_id}/reject")
def reject(
    deed_id: uuid.UUID,
    database: DatabaseDep,
    actor: Annotated[Actor, VERIFY],
    reason: Annotated[str, Form()] = "",
    reason_code: Annotated[str, Form()] = "",
    back: Annotated[str, Form()] = "",
) -> Response:
    # A reason from the list is stored as its English text (its msgid), so that
    # the citizen reads it in their own language; anything else stays as typed.
    chosen = reasons.REJECTION_REASONS.get(reason_code)
    with database.write_session() as session:
        service.reject(session, actor, deed_id, chosen or reason)
    return RedirectResponse(_back_to_queue(back, 1), status_code=303)
