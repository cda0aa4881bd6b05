"""Managing benefits: an agency drafts its own and submits them; the programme
office approves them or sends them back with a note; either retires an approved
one. The rule is JSON in a textarea, checked live (htmx) with the place and the
reason of a mistake, and always shown in words beside the JSON."""

from __future__ import annotations

import json
from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import BaseModel, Field
from sqlalchemy import select
from sqlalchemy.orm import Session

from dcatalog.access import require
from dcatalog.accounts.permissions import Scope
from dcatalog.actors import Actor
from dcatalog.agencies.service import agency_of, list_active_agencies
from dcatalog.benefits import rules
from dcatalog.benefits import service as benefits
from dcatalog.benefits.evaluation import check_references
from dcatalog.benefits.models import Benefit, BenefitKind
from dcatalog.catalog.labels import subject_labels, unit_label
from dcatalog.catalog.models import DeedType
from dcatalog.problems import Problem
from dcatalog.review import ReviewStatus
from dcatalog.web.csrf import csrf_protect
from dcatalog.web.deps import DatabaseDep, SessionDep
from dcatalog.web.errors import validate_form
from dcatalog.web.i18n import current_language
from dcatalog.web.i18n import gettext as _
from dcatalog.web.labels import period_label
from dcatalog.web.templating import render

router = APIRouter(include_in_schema=False, dependencies=[Depends(csrf_protect)])
WRITE = require(Scope.CATALOG_WRITE)
APPROVE = require(Scope.CATALOG_APPROVE)

MAX_RULE_TEXT = 20_000  # 20 conditions, indented, fit many times over


# --- labels and the rule in words ---------------------------------------------------------


def kind_labels() -> dict[str, str]:
    return {
        BenefitKind.THANKS.value: _("Thank-you"),
        BenefitKind.RECOGNITION.value: _("Recognition"),
        BenefitKind.PRIVILEGE.value: _("Privilege"),
        BenefitKind.ELIGIBILITY.value: _("Eligibility attestation"),
    }


def status_label(item: benefits.Managed) -> str:
    status = item.benefit.status
    if status is ReviewStatus.APPROVED:
        return _("Approved, in force")
    if status is ReviewStatus.RETIRED:
        return _("Retired")
    if item.benefit.waiting:
        return _("Waiting for approval")
    return _("Sent back") if item.benefit.sent_back else _("Draft")


def event_labels() -> dict[str, str]:
    return {
        "benefit.define": _("Defined as a draft"),
        "benefit.update": _("Draft changed"),
        "benefit.submit": _("Submitted for approval"),
        "benefit.send_back": _("Sent back"),
        "benefit.approve": _("Approved"),
        "benefit.retire": _("Retired"),
    }


def _period_words(condition: rules.Condition) -> str:
    if condition.period == "lifetime":
        return period_label("lifetime")
    if condition.period == "rolling_days":
        return period_label(f"rolling_days:{condition.days}")
    this, last, back = {
        "calendar_year": (
            _("this calendar year"),
            _("last calendar year"),
            _("the calendar year %(n)d years back"),
        ),
        "fiscal_year": (
            _("this fiscal year"),
            _("last fiscal year"),
            _("the fiscal year %(n)d years back"),
        ),
        "academic_year": (
            _("this academic year"),
            _("last academic year"),
            _("the academic year %(n)d years back"),
        ),
    }[condition.period]
    if condition.offset == 0:
        return this
    return last if condition.offset == -1 else back % {"n": -condition.offset}


def rule_in_words(session: Session, rule: rules.Rule) -> dict[str, Any]:
    """A rule as a tree of sentences: ``{"text": …, "parts": [...]}``."""
    lang = current_language()
    names = subject_labels(session, lang)
    units = {}
    for entry in session.scalars(select(DeedType)):
        version = entry.in_force or (entry.versions[-1] if entry.versions else None)
        if version is not None:
            units[f"type:{entry.code}"] = unit_label(version.unit)
    agencies = {a.code: a.name(lang) for a in list_active_agencies(session)}

    def words(part: rules.Rule) -> dict[str, Any]:
        if isinstance(part, rules.Group):
            text = _("All of these:") if part.op == "all" else _("Any one of these:")
            return {"text": text, "parts": [words(p) for p in part.parts]}
        unit = {
            "count": _("records"),
            "credits": _("credits"),
            "quantity": units.get(part.subject, ""),
        }[part.measure]
        text = _("at least %(need)s %(unit)s · %(what)s · %(period)s") % {
            "need": format(part.at_least.normalize(), "f"),
            "unit": unit,
            "what": names.get(part.subject, part.subject),
            "period": _period_words(part),
        }
        text = " ".join(text.split())  # a virtue's quantity has no one unit: no gap left
        if part.recorded_by:
            text += " · " + _("only deeds recorded by %(agency)s") % {
                "agency": agencies.get(part.recorded_by, part.recorded_by)
            }
        if part.not_recorded_by:
            text += " · " + _("only deeds not recorded by %(agency)s") % {
                "agency": agencies.get(part.not_recorded_by, part.not_recorded_by)
            }
        return {"text": text, "parts": []}

    return words(rule)


def _rule_from_text(text: str) -> Any:
    """The rule textarea as JSON; a syntax mistake is a ``RuleError`` like any other."""
    if not text.strip():
        raise rules.RuleError("", "write the rule as JSON")
    if len(text) > MAX_RULE_TEXT:
        raise rules.RuleError("", f"a rule has at most {MAX_RULE_TEXT} characters")
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise rules.RuleError(
            "", f"not valid JSON: {exc.msg} (line {exc.lineno}, column {exc.colno})"
        ) from exc
    except RecursionError as exc:  # "[[[[…": deeper than any rule may nest
        raise rules.RuleError("", "nests far too deeply") from exc


def rule_check(session: Session, text: str) -> dict[str, Any]:
    """What the live check shows: the rule in words, or where and why it is wrong."""
    try:
        parsed = rules.parse(_rule_from_text(text))
        check_references(session, parsed)
    except rules.RuleError as error:
        return {"ok": False, **_where_and_why(error)}
    return {"ok": True, "words": rule_in_words(session, parsed)}


def _where_and_why(error: Problem) -> dict[str, str]:
    """A rule error's JSON Pointer into the rule (as typed in the textarea) and reason."""
    found = error.errors[0] if error.errors else None
    pointer = (found.pointer or "") if found else ""
    return {
        "pointer": pointer.removeprefix("#/rule") or "/",
        "reason": found.detail if found else error.detail,
    }


# --- the form ---------------------------------------------------------------------------


class BenefitForm(BaseModel):
    """The fields a page edits (the rule comes from its own textarea)."""

    kind: BenefitKind
    name_th: str = Field(min_length=1, max_length=200)
    name_en: str = Field(min_length=1, max_length=200)
    description_th: str = Field(default="", max_length=4000)
    description_en: str = Field(default="", max_length=4000)
    thanks_th: str = Field(default="", max_length=2000)
    thanks_en: str = Field(default="", max_length=2000)
    quota: int | None = Field(default=None, ge=1, le=100_000_000)
    per_citizen_limit: int = Field(default=1, ge=1, le=10_000)
    valid_from: date | None = None
    valid_until: date | None = None
    awarded_automatically: bool = False


class NewBenefitForm(BenefitForm):
    name: str = Field(pattern=r"^[a-z][a-z0-9_]{1,40}$")


def _fields(form: dict[str, Any], *, new: bool) -> tuple[str, dict[str, Any]]:
    """(the code's name part, the service's fields) from a submitted form. The rule
    is read first, so a mistake in it is what the page says first."""
    rule = _rule_from_text(str(form.get("rule", "")))
    data: dict[str, Any] = {k: v for k, v in form.items() if k not in ("csrf_token", "rule")}
    for name in ("quota", "valid_from", "valid_until", "per_citizen_limit"):
        if not str(data.get(name, "")).strip():
            data.pop(name, None)
    data["awarded_automatically"] = "awarded_automatically" in form
    parsed = validate_form(NewBenefitForm if new else BenefitForm, data)
    fields = parsed.model_dump(exclude={"name"})
    fields["rule"] = rule
    return (parsed.name if isinstance(parsed, NewBenefitForm) else ""), fields


def _form_of(benefit: Benefit) -> dict[str, Any]:
    """A stored benefit as the form shows it."""
    form: dict[str, Any] = {
        name: getattr(benefit, name) for name in BenefitForm.model_fields if name != "kind"
    }
    form["kind"] = benefit.kind.value
    form["rule"] = rule_text(benefit.rule)
    return {k: ("" if v is None else v) for k, v in form.items()}


def rule_text(rule: Any) -> str:
    return json.dumps(rule, ensure_ascii=False, indent=2)


def _form_context(**extra: Any) -> dict[str, Any]:
    return {
        "kinds": list(kind_labels().items()),
        "kind_labels": kind_labels(),
        "rule_example": rule_text(rules.LOAN_RENEWAL_RULE),
        **extra,
    }


# --- agencies: their own benefits ---------------------------------------------------------


@router.get("/staff/benefits", response_class=HTMLResponse)
def staff_benefits(
    request: Request, session: SessionDep, actor: Annotated[Actor, WRITE]
) -> HTMLResponse:
    items = benefits.managed(session, actor)
    context = {"items": items, "status_label": status_label, "kind_labels": kind_labels()}
    return render(request, "benefits/staff_list.html", context)


@router.get("/staff/benefits/new", response_class=HTMLResponse)
def new_benefit_form(
    request: Request, session: SessionDep, actor: Annotated[Actor, WRITE]
) -> HTMLResponse:
    owner = agency_of(session, actor)
    context = _form_context(form={"per_citizen_limit": 1}, owner=owner)
    return render(request, "benefits/staff_new.html", context)


@router.post("/staff/benefits/new", response_class=HTMLResponse)
async def define_benefit(
    request: Request, database: DatabaseDep, actor: Annotated[Actor, WRITE]
) -> Response:
    form = dict((await request.form()).items())
    with database.write_session() as session:
        owner = agency_of(session, actor)
        try:
            name, fields = _fields(form, new=True)
            benefit = benefits.define(session, actor, owner, code=f"{owner.code}.{name}", **fields)
        except Problem as problem:
            session.rollback()
            context = _form_context(
                form=form,
                owner=owner,
                problem=problem,
                check=rule_check(session, str(form.get("rule", ""))),
            )
            return render(request, "benefits/staff_new.html", context, problem.status)
        code = benefit.code
    return RedirectResponse(f"/staff/benefits/{code}?saved=1", status_code=303)


@router.post("/staff/benefits/rule-check", response_class=HTMLResponse)
def check_rule(
    request: Request,
    session: SessionDep,
    _actor: Annotated[Actor, WRITE],
    rule: Annotated[str, Form()] = "",
) -> HTMLResponse:
    """The live check under the rule's textarea (htmx)."""
    return render(request, "benefits/staff_rule_check.html", {"check": rule_check(session, rule)})


def _benefit_context(session: Session, actor: Actor, code: str, **extra: Any) -> dict[str, Any]:
    item = benefits.managed_one(session, actor, code)
    return _form_context(
        item=item,
        benefit=item.benefit,
        status_label=status_label,
        words=rule_in_words(session, rules.parse(item.benefit.rule)),
        rule_json=rule_text(item.benefit.rule),
        history=benefits.history(session, item.benefit),
        event_labels=event_labels(),
        **{"form": _form_of(item.benefit), **extra},
    )


@router.get("/staff/benefits/{code}", response_class=HTMLResponse)
def staff_benefit(
    request: Request, code: str, session: SessionDep, actor: Annotated[Actor, WRITE]
) -> HTMLResponse:
    return render(request, "benefits/staff_benefit.html", _benefit_context(session, actor, code))


async def _staff_action(
    request: Request, database: DatabaseDep, actor: Actor, code: str, action: str
) -> Response:
    """Save, submit or retire; a refusal shows the benefit's page with the reason."""
    form = dict((await request.form()).items())
    with database.write_session() as session:
        benefit = benefits.get_own(session, actor, code)
        try:
            if action == "save":
                _name, fields = _fields(form, new=False)
                benefits.update_draft(session, actor, benefit, **fields)
            elif action == "submit":
                benefits.submit(session, actor, benefit)
            else:
                benefits.retire(session, actor, benefit, str(form.get("reason", "")))
        except Problem as problem:
            session.rollback()
            extra: dict[str, Any] = {"problem": problem}
            if action == "save":
                extra["form"] = form
                extra["check"] = rule_check(session, str(form.get("rule", "")))
            context = _benefit_context(session, actor, code, **extra)
            return render(request, "benefits/staff_benefit.html", context, problem.status)
        code = benefit.code
    done = {"save": "saved", "submit": "submitted", "retire": "retired"}[action]
    return RedirectResponse(f"/staff/benefits/{code}?{done}=1", status_code=303)


@router.post("/staff/benefits/{code}", response_class=HTMLResponse)
async def save_benefit(
    request: Request, code: str, database: DatabaseDep, actor: Annotated[Actor, WRITE]
) -> Response:
    return await _staff_action(request, database, actor, code, "save")


@router.post("/staff/benefits/{code}/submit", response_class=HTMLResponse)
async def submit_benefit(
    request: Request, code: str, database: DatabaseDep, actor: Annotated[Actor, WRITE]
) -> Response:
    return await _staff_action(request, database, actor, code, "submit")


@router.post("/staff/benefits/{code}/retire", response_class=HTMLResponse)
async def retire_benefit(
    request: Request, code: str, database: DatabaseDep, actor: Annotated[Actor, WRITE]
) -> Response:
    return await _staff_action(request, database, actor, code, "retire")


# --- the programme office ------------------------------------------------------------------


@router.get("/admin/benefits", response_class=HTMLResponse)
def benefit_queue(
    request: Request, session: SessionDep, actor: Annotated[Actor, APPROVE]
) -> HTMLResponse:
    context = {
        "waiting": benefits.waiting(session, actor),
        "items": benefits.managed(session, actor),
        "status_label": status_label,
        "kind_labels": kind_labels(),
        "decided_name": _decided_name(session, actor, request.query_params.get("decided", "")),
    }
    return render(request, "admin/benefits.html", context)


def _decided_name(session: Session, actor: Actor, code: str) -> str:
    """The name, in the page's language, of the benefit just decided on."""
    if not code:
        return ""
    try:
        return benefits.get_own(session, actor, code).name(current_language())
    except Problem:
        return ""


@router.get("/admin/benefits/{code}", response_class=HTMLResponse)
def benefit_review(
    request: Request, code: str, session: SessionDep, actor: Annotated[Actor, APPROVE]
) -> HTMLResponse:
    return render(request, "admin/benefit.html", _benefit_context(session, actor, code))


@router.post("/admin/benefits/{code}/decision", response_class=HTMLResponse)
def decide_benefit(
    request: Request,
    code: str,
    database: DatabaseDep,
    actor: Annotated[Actor, APPROVE],
    decision: Annotated[str, Form(pattern="^(approve|send_back|retire)$")],
    note: Annotated[str, Form(max_length=2000)] = "",
) -> Response:
    with database.write_session() as session:
        benefit = benefits.get_own(session, actor, code)
        try:
            if decision == "approve":
                benefits.approve(session, actor, benefit, note.strip())
            elif decision == "send_back":
                benefits.send_back(session, actor, benefit, note)
            else:
                benefits.retire(session, actor, benefit, note)
        except Problem as problem:
            session.rollback()
            context = _benefit_context(session, actor, code, problem=problem, note=note)
            return render(request, "admin/benefit.html", context, problem.status)
        code = benefit.code
    return RedirectResponse(f"/admin/benefits?decided={code}&decision={decision}", status_code=303)
