"""Catalog pages: the public catalog, agencies' drafting, the programme office's review."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.orm import Session

from dcatalog.access import public, require
from dcatalog.accounts.permissions import Scope
from dcatalog.actors import Actor
from dcatalog.agencies.service import agency_of, list_active_agencies
from dcatalog.catalog import service
from dcatalog.catalog.labels import policy_labels, unit_label, virtue_options
from dcatalog.catalog.models import DeedType, DeedTypeVersion
from dcatalog.catalog.schemas import UNITS, DeedTypeFields, NewDeedType
from dcatalog.problems import Problem
from dcatalog.review import status_labels as review_status_labels
from dcatalog.web.csrf import csrf_protect
from dcatalog.web.deps import DatabaseDep, SessionDep
from dcatalog.web.errors import validate_form
from dcatalog.web.i18n import current_language
from dcatalog.web.i18n import gettext as _
from dcatalog.web.templating import render

router = APIRouter(include_in_schema=False, dependencies=[Depends(csrf_protect)])
WRITE = require(Scope.CATALOG_WRITE)
APPROVE = require(Scope.CATALOG_APPROVE)


def field_labels() -> dict[str, str]:
    return {
        "virtue": _("Virtue"),
        "unit": _("Unit"),
        "credits_per_unit": _("Credits per unit"),
        "verification_policy": _("How it is verified"),
        "evidence_required": _("Evidence is required"),
        "max_per_record": _("At most per record"),
        "max_per_day": _("At most per citizen per day"),
        "min_days_between": _("At least days between two records"),
        "yearly_cap": _("At most per citizen per year"),
        "health_related": _("Health-related (sensitive data: explicit consent needed)"),
        "recorders": _("Other agencies that may record it"),
        "name_th": _("Name in Thai"),
        "name_en": _("Name in English"),
        "description_th": _("What counts, in Thai"),
        "description_en": _("What counts, in English"),
        "evidence_th": _("Evidence, in Thai"),
        "evidence_en": _("Evidence, in English"),
    }


def shown(field: str, value: Any) -> str:
    """A version's value as a person reads it in a comparison."""
    if value is None or value == [] or value == "":
        return "—"
    if isinstance(value, bool):
        return _("Yes") if value else _("No")
    if field == "verification_policy":
        return policy_labels().get(str(value), str(value))
    if field == "unit":
        return unit_label(str(value))
    if isinstance(value, list):
        return ", ".join(value)
    if isinstance(value, Decimal):
        return format(value.normalize(), "f")
    return str(value)


def _recorder_names(session: Session, deed_type: DeedType, tokens: list[str]) -> list[str]:
    lang = current_language()
    kinds = {
        "kind:school": _("any school or university"),
        "kind:government": _("any government agency"),
        "kind:ngo": _("any non-profit organisation"),
        "kind:business": _("any business partner"),
    }
    agencies = {a.code: a.name(lang) for a in list_active_agencies(session)}
    names = [deed_type.owner.name(lang)]
    names += [kinds.get(token) or agencies.get(token, token) for token in tokens]
    return names


def _labels() -> dict[str, Any]:
    return {
        "policy_labels": policy_labels(),
        "status_labels": review_status_labels(),
        "unit_label": unit_label,
    }


# --- the public catalog ---------------------------------------------------------------


@router.get("/catalog", response_class=HTMLResponse, dependencies=[public])
def catalog(
    request: Request,
    session: SessionDep,
    q: Annotated[str, Query(max_length=100)] = "",
    virtue: str = "",
    agency: str = "",
) -> HTMLResponse:
    entries = service.search_public(
        session, virtue=virtue or None, agency=agency or None, text=q or None, limit=200
    )
    lang = current_language()
    context = {
        "entries": entries,
        "virtue_options": virtue_options(session),
        "agency_options": [(a.code, a.name(lang)) for a in list_active_agencies(session)],
        "query": {"q": q, "virtue": virtue, "agency": agency},
        **_labels(),
    }
    template = (
        "catalog/_results.html" if request.headers.get("hx-request") else "catalog/index.html"
    )
    return render(request, template, context)


# What the domains above add to a deed type's public page (the benefits it leads
# to), registered by name in dcatalog.assembly: the catalog never imports them.
EntryExtra = Callable[[Session, DeedType, DeedTypeVersion], dict[str, Any]]
entry_extras: dict[str, EntryExtra] = {}


@router.get("/catalog/{code}", response_class=HTMLResponse, dependencies=[public])
def catalog_entry(request: Request, code: str, session: SessionDep) -> HTMLResponse:
    entry = service.get_public(session, code)
    version = entry.in_force
    assert version is not None
    context = {
        "entry": entry,
        "version": version,
        "recorders": _recorder_names(session, entry, version.recorders),
        **_labels(),
    }
    for extra in entry_extras.values():
        context.update(extra(session, entry, version))
    return render(request, "catalog/detail.html", context)


# --- agencies draft and submit ----------------------------------------------------------


def _form_fields(form: dict[str, Any], *, new: bool) -> DeedTypeFields:
    """The form as the API's body model: one set of rules for both."""
    data: dict[str, Any] = {k: v for k, v in form.items() if k != "csrf_token"}
    for name in ("max_per_record", "max_per_day", "min_days_between", "yearly_cap"):
        if not str(data.get(name, "")).strip():
            data[name] = None
    for name in ("evidence_required", "health_related"):
        data[name] = name in form
    data["recorders"] = [t for t in str(data.get("recorders", "")).replace(",", " ").split() if t]
    if new:
        return validate_form(NewDeedType, data)
    data.pop("name", None)
    return validate_form(DeedTypeFields, data)


def _form_context(session: Session, **extra: Any) -> dict[str, Any]:
    return {
        "virtue_options": virtue_options(session),
        "units": [(code, unit_label(code)) for code in UNITS],
        "policies": list(policy_labels().items()),
        **_labels(),
        **extra,
    }


@router.get("/staff/deed-types", response_class=HTMLResponse)
def staff_deed_types(
    request: Request, session: SessionDep, actor: Annotated[Actor, WRITE]
) -> HTMLResponse:
    context = {"entries": service.list_for_agency(session, actor), **_labels()}
    return render(request, "staff/deed_types.html", context)


@router.get("/staff/deed-types/new", response_class=HTMLResponse)
def new_deed_type_form(
    request: Request, session: SessionDep, actor: Annotated[Actor, WRITE]
) -> HTMLResponse:
    owner = agency_of(session, actor)
    context = _form_context(session, form={}, owner=owner, entry=None)
    return render(request, "staff/deed_type_form.html", context)


@router.post("/staff/deed-types/new", response_class=HTMLResponse)
async def create_deed_type(
    request: Request, database: DatabaseDep, actor: Annotated[Actor, WRITE]
) -> Response:
    form = dict((await request.form()).items())
    with database.write_session() as session:
        owner = agency_of(session, actor)
        try:
            fields = _form_fields(form, new=True)
            assert isinstance(fields, NewDeedType)
            entry = service.create_deed_type(session, actor, owner, fields)
        except Problem as problem:
            session.rollback()
            context = _form_context(session, form=form, owner=owner, entry=None, problem=problem)
            return render(request, "staff/deed_type_form.html", context, problem.status)
    return RedirectResponse(f"/staff/deed-types/{entry.code}", status_code=303)


@router.get("/staff/deed-types/{code}", response_class=HTMLResponse)
def staff_deed_type(
    request: Request, code: str, session: SessionDep, actor: Annotated[Actor, WRITE]
) -> HTMLResponse:
    entry = service.get_own(session, actor, code)
    base = entry.open_version or entry.in_force or entry.versions[-1]
    form = _version_form(base)
    context = _form_context(session, entry=entry, form=form, owner=entry.owner)
    return render(request, "staff/deed_type.html", context)


def _version_form(version: Any) -> dict[str, Any]:
    form = {
        name: getattr(version, name) for name in DeedTypeFields.model_fields if name != "virtue"
    }
    form["virtue"] = version.virtue_code
    form["recorders"] = " ".join(version.recorders)
    return {k: ("" if v is None else v) for k, v in form.items()}


@router.post("/staff/deed-types/{code}", response_class=HTMLResponse)
async def save_deed_type(
    request: Request, code: str, database: DatabaseDep, actor: Annotated[Actor, WRITE]
) -> Response:
    form = dict((await request.form()).items())
    with database.write_session() as session:
        entry = service.get_own(session, actor, code)
        try:
            service.save_draft(session, actor, entry, _form_fields(form, new=False))
        except Problem as problem:
            session.rollback()
            context = _form_context(
                session, entry=entry, form=form, owner=entry.owner, problem=problem
            )
            return render(request, "staff/deed_type.html", context, problem.status)
    return RedirectResponse(f"/staff/deed-types/{code}?saved=1", status_code=303)


@router.post("/staff/deed-types/{code}/submit")
def submit_deed_type(code: str, database: DatabaseDep, actor: Annotated[Actor, WRITE]) -> Response:
    with database.write_session() as session:
        service.submit(session, actor, service.get_own(session, actor, code))
    return RedirectResponse(f"/staff/deed-types/{code}?submitted=1", status_code=303)


# --- the programme office reviews ----------------------------------------------------------


@router.get("/admin/catalog", response_class=HTMLResponse)
def review_queue(
    request: Request, session: SessionDep, actor: Annotated[Actor, APPROVE]
) -> HTMLResponse:
    context = {
        "submitted": service.list_submitted(session, actor),
        "entries": service.list_for_agency(session, actor),
        "decided_name": _decided_name(session, request.query_params.get("decided", "")),
        **_labels(),
    }
    return render(request, "admin/catalog_queue.html", context)


def _decided_name(session: Session, code: str) -> str:
    """The name, in the page's language, of the entry just decided on (its latest version's)."""
    if not code:
        return ""
    try:
        entry = service.get_deed_type(session, code)
    except Problem:
        return ""
    return entry.versions[-1].name(current_language()) if entry.versions else code


@router.get("/admin/catalog/{code}/{number}", response_class=HTMLResponse)
def review(
    request: Request, code: str, number: int, session: SessionDep, _actor: Annotated[Actor, APPROVE]
) -> HTMLResponse:
    entry = service.get_deed_type(session, code)
    version = service.get_version(entry, number)
    context = {
        "entry": entry,
        "version": version,
        "changes": service.diff(entry.in_force if entry.in_force is not version else None, version),
        "field_labels": field_labels(),
        "shown": shown,
        "virtue_names": dict(virtue_options(session)),
        "recorders": _recorder_names(session, entry, version.recorders),
        **_labels(),
    }
    return render(request, "admin/catalog_review.html", context)


@router.post("/admin/catalog/{code}/{number}/decision")
def decide(
    code: str,
    number: int,
    database: DatabaseDep,
    actor: Annotated[Actor, APPROVE],
    decision: Annotated[str, Form(pattern="^(approve|send_back|retire)$")],
    note: Annotated[str, Form()] = "",
) -> Response:
    with database.write_session() as session:
        entry = service.get_deed_type(session, code)
        if decision == "approve":
            service.approve(session, actor, entry, number, note)
        elif decision == "send_back":
            service.send_back(session, actor, entry, number, note)
        else:
            service.retire(session, actor, entry, note)
    return RedirectResponse(f"/admin/catalog?decided={code}&decision={decision}", status_code=303)
