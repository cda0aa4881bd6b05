"""The citizen's own pages under /me: my good deeds and where each figure comes
from, consent, who read my record, my data and my rights. Every route takes the
citizen from the sign-in cookie; none takes a citizen from the URL."""

from __future__ import annotations

import json
import uuid
from collections import defaultdict
from datetime import date
from decimal import Decimal
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy import select
from sqlalchemy.orm import Session

from dcatalog.access import CurrentCitizen
from dcatalog.agencies.service import list_active_agencies
from dcatalog.benefits import awards
from dcatalog.benefits import claims as benefit_claims
from dcatalog.benefits import service as benefits
from dcatalog.benefits.evaluation import Figure
from dcatalog.benefits.models import BenefitKind
from dcatalog.calendars.buddhist_era import format_date, today_in_thailand
from dcatalog.calendars.periods import MonthDay
from dcatalog.catalog.labels import subject_labels, unit_label
from dcatalog.catalog.models import DeedType
from dcatalog.citizens import consent as consents
from dcatalog.citizens import rights
from dcatalog.citizens import service as citizens
from dcatalog.citizens.disclosure import access_log
from dcatalog.identity.sessions import CitizenPrincipal
from dcatalog.problems import Problem
from dcatalog.web import throttle
from dcatalog.web.csrf import csrf_protect
from dcatalog.web.deps import DatabaseDep, SessionDep, SettingsDep
from dcatalog.web.i18n import current_language
from dcatalog.web.i18n import gettext as _
from dcatalog.web.labels import period_label
from dcatalog.web.templating import render

router = APIRouter(include_in_schema=False, dependencies=[Depends(csrf_protect)])
CONSENT = throttle.per_client("consent")


def progress_lines(
    session: Session,
    citizen: CitizenPrincipal,
    names: dict[str, str],
    today: date,
    academic_start: MonthDay,
) -> list[dict[str, Any]]:
    """Every benefit on offer, and in words how far the citizen is from it
    (``names``: subject labels, see ``subject_labels``). A condition on a closed
    year says so and is given no advice; what counts now is its ``ahead`` step."""
    units = {
        f"type:{t.code}": unit_label(t.in_force.unit)
        for t in session.scalars(select(DeedType))
        if t.in_force is not None
    }
    lang = current_language()

    def step(figure: Figure, counts_for: str | None, closed: bool) -> dict[str, Any]:
        condition = figure.condition
        unit = {
            "count": _("records"),
            "credits": _("credits"),
            "quantity": units.get(condition.subject, ""),
        }[condition.measure]
        figures = {
            "have": _number(figure.have),
            "need": _number(condition.at_least),
            "unit": unit,
            "what": names.get(condition.subject, condition.subject),
            "period": period_label(figure.window.key),
        }
        notes = []
        if closed:
            notes.append(_("Closed: what you do from now on counts in the next year."))
        elif figure.window.end is not None and condition.period != "rolling_days":
            notes.append(_("closes %(date)s") % {"date": format_date(figure.window.end, lang)})
        if counts_for:
            notes.append(_("counts for %(period)s") % {"period": period_label(counts_for)})
        missing = None
        if not figure.met and not closed:
            missing = _("%(missing)s more %(unit)s") % {
                "missing": _number(figure.missing),
                "unit": unit,
            }
            if figure.window.end is not None and condition.period != "rolling_days":
                missing = _("%(more)s by %(date)s") % {
                    "more": missing,
                    "date": format_date(figure.window.end, lang),
                }
        return {
            "met": figure.met,
            "closed": closed,
            "text": _("%(period)s: %(have)s of %(need)s %(unit)s · %(what)s") % figures,
            "note": " · ".join(notes),
            "missing": missing,
            "have": _number(min(figure.have, condition.at_least)),
            "need": _number(condition.at_least),
        }

    shown = _next_milestones_only(
        benefits.progress(session, citizen.citizen_key, today, academic_start)
    )
    claimable = {
        id(item)
        for item in shown
        if item.verdict.met and item.benefit.kind is not BenefitKind.THANKS
    }
    rooms = benefit_claims.no_room_in(
        session, [item.benefit for item in shown if id(item) in claimable], citizen.citizen_key
    )
    lines = []
    for item in shown:
        ahead = {id(a.closed): a for a in item.ahead}
        steps = []
        for figure in item.verdict.figures:
            later = ahead.get(id(figure))
            if later is None:
                steps.append(step(figure, None, closed=False))
                continue
            steps.append(step(figure, later.now_for.key, closed=True))
            steps.append(step(later.figure, later.counts_for.key, closed=False))
        full = rooms.get(item.benefit.id)
        lines.append(
            {
                "benefit": item.benefit,
                "met": item.verdict.met,
                "concerns": item.concerns,
                "steps": steps,
                "claimable": id(item) in claimable and full is None,
                "no_room": {
                    benefit_claims.LIMIT_REACHED: _(
                        "You have claimed it as many times as it allows."
                    ),
                    benefit_claims.QUOTA_USED_UP: _("All of it has been claimed: none is left."),
                }.get(full or ""),
            }
        )
    return lines


def _next_milestones_only(found: list[benefits.Progress]) -> list[benefits.Progress]:
    """Of a ladder of milestones not reached yet (the Red Cross pins at 7, 16,
    24 … donations), only the next step: the rest would bury the page."""
    nearest: dict[frozenset[str], benefits.Progress] = {}
    for item in found:
        if item.benefit.awarded_automatically and not item.verdict.met:
            ladder = frozenset(f.condition.subject for f in item.verdict.figures)
            held = nearest.get(ladder)
            if held is None or _bound(item) < _bound(held):
                nearest[ladder] = item
    keep = {id(item) for item in nearest.values()}
    return [
        item
        for item in found
        if not (item.benefit.awarded_automatically and not item.verdict.met) or id(item) in keep
    ]


def _bound(item: benefits.Progress) -> Decimal:
    return sum((f.condition.at_least for f in item.verdict.figures), Decimal(0))


def _number(value: Decimal) -> str:
    return format(value.normalize(), "f")


def _status_labels() -> dict[str, str]:
    return {
        "pending": _("waiting for verification"),
        "verified": _("counted"),
        "rejected": _("not counted"),
        "revoked": _("taken back"),
    }


def _totals(session: Session, citizen: CitizenPrincipal) -> dict[str, Any]:
    """Totals by virtue and by deed type, each with its periods, newest first."""
    by_subject: dict[str, list[Any]] = defaultdict(list)
    for tally in citizens.tallies(session, citizen):
        by_subject[tally.subject].append(tally)
    for tallies in by_subject.values():
        tallies.sort(key=lambda t: (t.period != "lifetime", t.period), reverse=False)
    virtues = {k: v for k, v in by_subject.items() if k.startswith("virtue:")}
    types = {k: v for k, v in by_subject.items() if k.startswith("type:")}
    return {"virtue_totals": virtues, "type_totals": types}


@router.get("/me", response_class=HTMLResponse)
def my_good_deeds(
    request: Request, citizen: CurrentCitizen, session: SessionDep, settings: SettingsDep
) -> HTMLResponse:
    lang = current_language()
    today = today_in_thailand()
    lines = citizens.deeds(session, citizen)
    labels = subject_labels(session, lang)
    totals = _totals(session, citizen)
    lifetime = sum(
        t.credits
        for tallies in totals["virtue_totals"].values()
        for t in tallies
        if t.period == "lifetime"
    )
    disputes = {d.deed_id: d for d in rights.disputes_of(session, citizen)}
    context = {
        "lines": lines,
        "lifetime_credits": lifetime,
        "labels": labels,
        "period_label": period_label,
        "unit_label": unit_label,
        "status_labels": _status_labels(),
        "disputes": disputes,
        "is_minor": citizen.is_minor(today),
        "guardian": consents.guardian_consent(session, citizen.citizen_key),
        "progress": progress_lines(
            session, citizen, labels, today, settings.academic_year_start_month_day
        ),
        "claims": benefit_claims.claims_of(session, citizen),  # "My claims": codes to show again
        "awards": [a for a in awards.awards_of(session, citizen) if a.status.value == "awarded"],
        **totals,
    }
    return render(request, "citizens/home.html", context)


@router.get("/me/explain", response_class=HTMLResponse)
def explain(
    request: Request,
    citizen: CurrentCitizen,
    session: SessionDep,
    settings: SettingsDep,
    subject: str,
    period: str,
) -> HTMLResponse:
    found = citizens.explain(
        session, citizen, subject, period, settings.academic_year_start_month_day
    )
    context = {
        "explanation": found,
        "subject_label": subject_labels(session, current_language()).get(subject, subject),
        "period_text": period_label(period),
        "unit_label": unit_label,
    }
    return render(request, "citizens/explain.html", context)


def _consent_context(session: Session, citizen: CitizenPrincipal, **extra: Any) -> dict[str, Any]:
    lang = current_language()
    health = consents.health_types(session)
    subjects = subject_labels(session, lang)
    options = [
        (key, label, key.removeprefix("type:") in health)
        for key, label in sorted(subjects.items(), key=lambda kv: (kv[0][0] != "v", kv[1]))
    ]
    return {
        "history": consents.history(session, citizen),
        "agencies": [(a.code, a.name(lang)) for a in list_active_agencies(session)],
        "purposes": [(code, _(text)) for code, text in consents.PURPOSES.items()],
        "subject_options": options,
        "labels": subjects,
        "is_minor": citizen.is_minor(today_in_thailand()),
        "guardian": consents.guardian_consent(session, citizen.citizen_key),
        "form": {},
        "offer": None,
        **extra,
    }


@router.get("/me/consents", response_class=HTMLResponse)
def consent_page(
    request: Request, citizen: CurrentCitizen, session: SessionDep, benefit: str = ""
) -> HTMLResponse:
    """The consent form; ``?benefit=<code>`` fills it in for that benefit (a
    contract: other pages and partners' QR codes link to exactly this)."""
    extra: dict[str, Any] = {"granted": request.query_params.get("done")}
    if benefit:
        try:
            extra["offer"] = consents.offer(session, benefit)
        except Problem as problem:
            extra["problem"] = problem
    context = _consent_context(session, citizen, **extra)
    status = context["problem"].status if "problem" in context else 200
    return render(request, "citizens/consents.html", context, status_code=status)


@router.post("/me/consents", response_class=HTMLResponse, dependencies=[CONSENT])
def grant_consent(
    request: Request,
    citizen: CurrentCitizen,
    database: DatabaseDep,
    agency: Annotated[str, Form()] = "",
    purpose: Annotated[str, Form()] = "",
    benefit: Annotated[str, Form()] = "",
    note: Annotated[str, Form()] = "",
    scope: Annotated[list[str] | None, Form()] = None,
    includes_health: Annotated[bool, Form()] = False,
) -> Response:
    """``purpose`` is a code of ``consent.PURPOSES`` (older forms sent a text,
    still taken); with ``benefit``, the benefit is the purpose."""
    with database.write_session() as session:
        chosen = purpose if purpose in consents.PURPOSES else ""
        try:
            consents.grant(
                session,
                citizen,
                agency_code=agency,
                benefit_code=benefit or None,
                purpose_code=chosen,
                purpose="" if chosen else purpose,
                note=note,
                scope=scope or [],
                includes_health=includes_health,
                language=current_language(),
            )
        except Problem as problem:
            form: dict[str, Any] = {"agency": agency, "purpose": purpose, "note": note}
            form |= {"scope": scope or [], "includes_health": includes_health}
            offer = None
            if benefit:
                try:
                    offer = consents.offer(session, benefit)
                except Problem:
                    offer = None
            context = _consent_context(session, citizen, problem=problem, form=form, offer=offer)
            return render(request, "citizens/consents.html", context, status_code=problem.status)
    return RedirectResponse("/me/consents?done=granted", status_code=303)


@router.post("/me/consents/{consent_id}/withdraw", dependencies=[CONSENT])
def withdraw_consent(
    consent_id: uuid.UUID, citizen: CurrentCitizen, database: DatabaseDep
) -> Response:
    with database.write_session() as session:
        consents.withdraw(session, citizen, consent_id)
    return RedirectResponse("/me/consents?done=withdrawn", status_code=303)


@router.get("/me/access-log", response_class=HTMLResponse)
def my_access_log(request: Request, citizen: CurrentCitizen, session: SessionDep) -> HTMLResponse:
    entries = access_log(session, citizen.citizen_key)
    return render(request, "citizens/access_log.html", {"entries": entries})


@router.get("/me/data", response_class=HTMLResponse)
def my_data(request: Request, citizen: CurrentCitizen, session: SessionDep) -> HTMLResponse:
    context = {
        "erasure": request.query_params.get("erasure"),
        "disputes": rights.disputes_of(session, citizen),
        "labels": subject_labels(session, current_language()),
    }
    return render(request, "citizens/data.html", context)


@router.get("/me/data.json")
def my_data_json(citizen: CurrentCitizen, session: SessionDep) -> Response:
    body = json.dumps(rights.export(session, citizen), ensure_ascii=False, indent=2)
    return Response(
        body,
        media_type="application/json; charset=utf-8",
        headers={"Content-Disposition": 'attachment; filename="my-good-deeds.json"'},
    )


@router.get("/me/data.csv")
def my_data_csv(citizen: CurrentCitizen, session: SessionDep) -> Response:
    return Response(
        rights.export_csv(session, citizen),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": 'attachment; filename="my-good-deeds.csv"'},
    )


@router.post("/me/deeds/{deed_id}/dispute")
def dispute_deed(
    deed_id: uuid.UUID,
    citizen: CurrentCitizen,
    database: DatabaseDep,
    message: Annotated[str, Form()],
) -> Response:
    with database.write_session() as session:
        rights.dispute(session, citizen, deed_id, message)
    return RedirectResponse("/me/data?disputed=1#disputes", status_code=303)


@router.post("/me/erasure")
def ask_erasure(
    citizen: CurrentCitizen,
    database: DatabaseDep,
    confirm: Annotated[bool, Form()] = False,
) -> Response:
    if not confirm:
        return RedirectResponse("/me/data?erasure=confirm", status_code=303)
    with database.write_session() as session:
        rights.request_erasure(session, citizen)
    return RedirectResponse("/me/data?erasure=requested", status_code=303)
