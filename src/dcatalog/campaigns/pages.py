"""Campaign pages: the public thank-you page (/thanks), agencies' drafting
(/staff/campaigns) and the programme office's review (/admin/campaigns)."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Any

from babel.dates import get_month_names
from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.orm import Session
from starlette.datastructures import FormData

from dcatalog.access import public, require
from dcatalog.accounts.permissions import Scope
from dcatalog.actors import Actor
from dcatalog.agencies.service import agency_of
from dcatalog.calendars.buddhist_era import be_year, today_in_thailand
from dcatalog.campaigns import service
from dcatalog.campaigns import thank_you as figures
from dcatalog.campaigns.models import Campaign, GoalMeasure
from dcatalog.campaigns.schemas import CampaignFields, NewCampaign
from dcatalog.catalog.labels import unit_label
from dcatalog.geo.provinces import province_name
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


# --- how figures read -------------------------------------------------------------------


def grouped(value: Decimal | int) -> str:
    """1234567 → 1,234,567; 12.50 → 12.5 (Thai writes numbers the same way)."""
    number = Decimal(value)
    if number == number.to_integral_value():
        return f"{int(number):,}"
    return f"{number.normalize():,f}"


def month(day: date) -> str:
    """พฤศจิกายน 2569 / November 2026."""
    lang = current_language()
    name = get_month_names("wide", locale="th" if lang == "th" else "en_GB")[day.month]
    return f"{name} {be_year(day.year) if lang == 'th' else day.year}"


def counter_labels() -> dict[str, str]:
    return {
        "volunteer_hours": _("hours of volunteering"),
        "blood_donations": _("blood donations"),
        "active_days": _("days of healthy activity"),
        "citizens": _("people with a verified good deed"),
    }


def measure_labels() -> dict[str, str]:
    return {
        GoalMeasure.COUNT.value: _("Number of good deeds"),
        GoalMeasure.QUANTITY.value: _("Quantity (hours, days …)"),
        GoalMeasure.CITIZENS.value: _("Number of people taking part"),
    }


def goal_unit(campaign: Campaign, units: dict[str, str]) -> str:
    """What the goal counts, in words: deeds, people, or the deed types' unit."""
    if campaign.goal_measure is GoalMeasure.CITIZENS:
        return _("people")
    if campaign.goal_measure is GoalMeasure.COUNT:
        # Deeds counted one a time (blood donations) in the catalog's own unit.
        found = {units[code] for code in campaign.deed_types if code in units}
        return unit_label("time") if found == {"time"} else _("good deeds")
    unit = service.unit_of(campaign, units)
    return unit_label(unit) if unit else ""


def progress_words(campaign: Campaign, progress: service.Progress, unit: str) -> str:
    """24 of 40 times; 40 times · goal of 40 times reached; 298 times · past the goal
    of 40 times. Past the goal is a success, never "745%". A figure and its unit are
    held together (no-break space) so a phone never puts the unit on the next line."""
    value, goal = grouped(progress.value), grouped(campaign.goal)
    if not progress.reached:
        return _("%(value)s of %(goal)s %(unit)s") % {"value": value, "goal": goal, "unit": unit}

    def amount(figure: str) -> str:
        return f"{figure}\u00a0{unit}" if unit else figure

    if progress.passed:
        words = _("%(amount)s · past the goal of %(goal)s")
    else:
        words = _("%(amount)s · the goal of %(goal)s reached")
    return words % {"amount": amount(value), "goal": amount(goal)}


def _helpers(session: Session, campaigns: list[Campaign], *, names: bool = True) -> dict[str, Any]:
    """What the templates use to say figures, units and places in the page's language
    (``names``: the deed types' names too, which the public page does not show)."""
    units = service.units(session, [code for c in campaigns for code in c.deed_types])
    lang = current_language()
    named = (
        {v.deed_type_code: v.name(lang) for v in service.countable_deed_types(session)}
        if names
        else {}
    )
    return {
        "grouped": grouped,
        "goal_unit": lambda c: goal_unit(c, units),
        "progress_words": lambda c, p: progress_words(c, p, goal_unit(c, units)),
        "type_name": lambda code: named.get(code, code),
        "province_names": lambda codes: ", ".join(province_name(c, lang) for c in codes),
        "measure_labels": measure_labels(),
        "status_labels": review_status_labels(),
        "today": today_in_thailand(),
        "min_citizens": service.MIN_CITIZENS,
    }


# --- the public thank-you page ------------------------------------------------------------


@router.get("/thanks", response_class=HTMLResponse, dependencies=[public])
def thanks(request: Request, session: SessionDep) -> HTMLResponse:
    today = today_in_thailand()
    national = figures.national_counters(session, today)
    campaigns = service.public(session, today)
    progress = service.progress(session, campaigns)
    times: list[datetime] = [national.as_of, *(p.as_of for p in progress.values())]
    context = {
        "national": national,
        "counter_labels": counter_labels(),
        "campaigns": campaigns,
        "progress": progress,
        "recognitions": figures.newest_recognitions(session),
        "as_of": min(times),
        "month": month,
        **_helpers(session, campaigns, names=False),
    }
    return render(request, "campaigns/thanks.html", context)


# --- agencies draft and submit ----------------------------------------------------------


def _form_values(form: FormData) -> dict[str, Any]:
    """The posted form as the page shows it again (deed types as a list)."""
    values: dict[str, Any] = {k: v for k, v in form.items() if k not in ("csrf_token",)}
    values["deed_types"] = [str(v) for v in form.getlist("deed_types")]
    return values


def _fields(values: dict[str, Any], *, new: bool) -> CampaignFields:
    data = {k: v for k, v in values.items() if k != "provinces_text"}
    data["provinces"] = service.parse_provinces(str(values.get("provinces_text", "")))
    if new:
        return validate_form(NewCampaign, data)
    data.pop("name", None)
    return validate_form(CampaignFields, data)


def _campaign_form(campaign: Campaign) -> dict[str, Any]:
    return {
        "title_th": campaign.title_th,
        "title_en": campaign.title_en,
        "description_th": campaign.description_th,
        "description_en": campaign.description_en,
        "deed_types": list(campaign.deed_types),
        "provinces_text": ", ".join(
            province_name(c, current_language()) for c in campaign.provinces
        ),
        "starts_on": campaign.starts_on.isoformat(),
        "ends_on": campaign.ends_on.isoformat(),
        "goal_measure": campaign.goal_measure.value,
        "goal": campaign.goal,
    }


def _form_context(session: Session, **extra: Any) -> dict[str, Any]:
    lang = current_language()
    return {
        "deed_type_options": [
            (v.deed_type_code, v.name(lang), unit_label(v.unit))
            for v in service.countable_deed_types(session)
        ],
        "measure_options": list(measure_labels().items()),
        **extra,
    }


@router.get("/staff/campaigns", response_class=HTMLResponse)
def staff_campaigns(
    request: Request, session: SessionDep, actor: Annotated[Actor, WRITE]
) -> HTMLResponse:
    campaigns = service.list_own(session, actor)
    context = {"campaigns": campaigns, **_helpers(session, campaigns)}
    return render(request, "campaigns/staff_list.html", context)


@router.get("/staff/campaigns/new", response_class=HTMLResponse)
def new_campaign_form(
    request: Request, session: SessionDep, actor: Annotated[Actor, WRITE]
) -> HTMLResponse:
    context = _form_context(session, form={}, owner=agency_of(session, actor))
    return render(request, "campaigns/staff_new.html", context)


@router.post("/staff/campaigns/new", response_class=HTMLResponse)
async def create_campaign(
    request: Request, database: DatabaseDep, actor: Annotated[Actor, WRITE]
) -> Response:
    values = _form_values(await request.form())
    with database.write_session() as session:
        owner = agency_of(session, actor)
        try:
            fields = _fields(values, new=True)
            assert isinstance(fields, NewCampaign)
            campaign = service.create(session, actor, owner, fields)
        except Problem as problem:
            session.rollback()
            context = _form_context(session, form=values, owner=owner, problem=problem)
            return render(request, "campaigns/staff_new.html", context, problem.status)
    return RedirectResponse(f"/staff/campaigns/{campaign.code}?saved=1", status_code=303)


def _staff_page(
    request: Request,
    session: Session,
    campaign: Campaign,
    *,
    form: dict[str, Any] | None = None,
    problem: Problem | None = None,
) -> HTMLResponse:
    shown = [campaign]
    context = _form_context(
        session,
        campaign=campaign,
        form=form if form is not None else _campaign_form(campaign),
        progress=service.progress(session, shown)[campaign.id],
        problem=problem,
        **_helpers(session, shown),
    )
    return render(
        request, "campaigns/staff_campaign.html", context, problem.status if problem else 200
    )


@router.get("/staff/campaigns/{code}", response_class=HTMLResponse)
def staff_campaign(
    request: Request, code: str, session: SessionDep, actor: Annotated[Actor, WRITE]
) -> HTMLResponse:
    return _staff_page(request, session, service.get_own(session, actor, code))


@router.post("/staff/campaigns/{code}", response_class=HTMLResponse)
async def save_campaign(
    request: Request, code: str, database: DatabaseDep, actor: Annotated[Actor, WRITE]
) -> Response:
    values = _form_values(await request.form())
    with database.write_session() as session:
        campaign = service.get_own(session, actor, code)
        try:
            service.save_draft(session, actor, campaign, _fields(values, new=False))
        except Problem as problem:
            session.rollback()
            campaign = service.get_own(session, actor, code)
            return _staff_page(request, session, campaign, form=values, problem=problem)
    return RedirectResponse(f"/staff/campaigns/{code}?saved=1", status_code=303)


@router.post("/staff/campaigns/{code}/submit", response_class=HTMLResponse)
def submit_campaign(
    request: Request, code: str, database: DatabaseDep, actor: Annotated[Actor, WRITE]
) -> Response:
    with database.write_session() as session:
        campaign = service.get_own(session, actor, code)
        try:
            service.submit(session, actor, campaign)
        except Problem as problem:
            session.rollback()
            campaign = service.get_own(session, actor, code)
            return _staff_page(request, session, campaign, problem=problem)
    return RedirectResponse(f"/staff/campaigns/{code}?submitted=1", status_code=303)


# --- the programme office reviews ---------------------------------------------------------


@router.get("/admin/campaigns", response_class=HTMLResponse)
def review_queue(
    request: Request, session: SessionDep, actor: Annotated[Actor, APPROVE]
) -> HTMLResponse:
    every = service.list_all(session, actor)
    decided = request.query_params.get("decided", "")
    named = next((c.title(current_language()) for c in every if decided and c.code == decided), "")
    context = {
        "waiting": service.waiting(session, actor),
        "campaigns": every,
        "decided_name": named,
        **_helpers(session, every),
    }
    return render(request, "campaigns/admin_list.html", context)


def _review_page(
    request: Request, session: Session, campaign: Campaign, problem: Problem | None = None
) -> HTMLResponse:
    shown = [campaign]
    context = {
        "campaign": campaign,
        "progress": service.progress(session, shown)[campaign.id],
        "problem": problem,
        **_helpers(session, shown),
    }
    return render(
        request, "campaigns/admin_review.html", context, problem.status if problem else 200
    )


@router.get("/admin/campaigns/{code}", response_class=HTMLResponse)
def review(
    request: Request, code: str, session: SessionDep, _actor: Annotated[Actor, APPROVE]
) -> HTMLResponse:
    return _review_page(request, session, service.get(session, code))


@router.post("/admin/campaigns/{code}/decision", response_class=HTMLResponse)
def decide(
    request: Request,
    code: str,
    database: DatabaseDep,
    actor: Annotated[Actor, APPROVE],
    decision: Annotated[str, Form(pattern="^(approve|send_back|retire)$")],
    note: Annotated[str, Form(max_length=2000)] = "",
) -> Response:
    with database.write_session() as session:
        campaign = service.get(session, code)
        try:
            if decision == "approve":
                service.approve(session, actor, campaign, note)
            elif decision == "send_back":
                service.send_back(session, actor, campaign, note)
            else:
                service.retire(session, actor, campaign, note)
        except Problem as problem:
            session.rollback()
            return _review_page(request, session, service.get(session, code), problem)
    return RedirectResponse(f"/admin/campaigns?decided={code}&decision={decision}", status_code=303)
