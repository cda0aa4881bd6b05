"""The programme office's dashboard (/admin/dashboard): filters, totals, a trend,
bars by virtue, a choropleth map of the provinces and every table as CSV. Thin:
the figures, already suppressed, come from ``dcatalog.stats.service``."""

from __future__ import annotations

import io
import uuid
from contextlib import suppress
from typing import Annotated

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from dcatalog import tabular
from dcatalog.access import require
from dcatalog.accounts.permissions import Scope
from dcatalog.actors import Actor
from dcatalog.problems import ValidationProblem
from dcatalog.stats import jobs, service
from dcatalog.stats.dashboard_view import (
    columns,
    dashboard_context,
    filters_from,
    query,
    refresh_message,
    rows_of,
    value_of,
)
from dcatalog.stats.service import Figure, Filters, GroupBy
from dcatalog.web.csrf import csrf_protect
from dcatalog.web.deps import DatabaseDep, JobsDep, SessionDep
from dcatalog.web.i18n import current_language
from dcatalog.web.i18n import gettext as _
from dcatalog.web.templating import render

router = APIRouter(include_in_schema=False, dependencies=[Depends(csrf_protect)])
READ = require(Scope.AUDIT_READ)  # the programme office and auditors; no agency holds it


@router.get("/admin/dashboard", response_class=HTMLResponse)
def dashboard(
    request: Request,
    session: SessionDep,
    actor: Annotated[Actor, READ],
    period: Annotated[str, Query(max_length=16)] = "",
    virtue: Annotated[str, Query(max_length=32)] = "",
    deed_type: Annotated[str, Query(max_length=64)] = "",
    agency: Annotated[str, Query(max_length=32)] = "",
    province: Annotated[str, Query(max_length=5)] = "",
    refreshed: Annotated[str, Query(max_length=40)] = "",
) -> HTMLResponse:
    lang = current_language()
    filters = filters_from(session, period, virtue, deed_type, agency, province)
    problem = None
    try:
        data = service.dashboard(session, filters)
    except ValidationProblem as found:
        problem = found
        data = service.dashboard(session, Filters(service.default_period(session)))
    outcome = None
    with suppress(ValueError):
        outcome = service.refresh_outcome(session, uuid.UUID(refreshed)) if refreshed else None
    context = {
        **dashboard_context(session, data, lang),
        "problem": problem,
        "refreshed": refresh_message(outcome, lang),
    }
    partial = (
        "hx-request" in request.headers and "hx-history-restore-request" not in request.headers
    )
    name = "admin/dashboard_body.html" if partial else "admin/dashboard.html"
    response = render(request, name, context, status_code=problem.status if problem else 200)
    if partial:  # the address bar keeps the filters chosen, without the empty ones
        response.headers["HX-Push-Url"] = f"/admin/dashboard?{query(data.filters)}"
    return response


@router.get("/admin/dashboard.csv")
def dashboard_csv(
    session: SessionDep,
    actor: Annotated[Actor, READ],
    table: Annotated[GroupBy, Query()],
    period: Annotated[str, Query(max_length=16)] = "",
    virtue: Annotated[str, Query(max_length=32)] = "",
    deed_type: Annotated[str, Query(max_length=64)] = "",
    agency: Annotated[str, Query(max_length=32)] = "",
    province: Annotated[str, Query(max_length=5)] = "",
) -> Response:
    """One table as CSV (UTF-8 with a BOM, so that Excel reads the Thai), hidden
    figures as in the page: "<10"."""
    lang = current_language()
    filters = filters_from(session, period, virtue, deed_type, agency, province)
    found = service.figures(session, filters, table)
    names = service.labels(session, lang)
    cols = columns(found)
    out = io.StringIO()
    writer = tabular.CsvWriter(out)
    writer.writerow(["code", "name", *(c.heading for c in cols), "period", "figures_as_of"])
    as_of = service.freshness(session).as_of
    stamp = as_of.isoformat(timespec="seconds") if as_of else ""

    def plain(figure: Figure, own_unit: str = "") -> list[str]:
        """A partner's program reads numbers: a month still to come is an empty
        cell (not 0, not "—"); hidden figures stay "<10"."""
        values = []
        for col in cols:
            if figure.future or (col.unit and own_unit and col.unit != own_unit):
                values.append("")
            elif col.key in ("claims", "claimants"):
                values.append(figure.claims_shown_as or service.as_text(getattr(figure, col.key)))
            else:
                values.append(figure.shown_as or service.as_text(value_of(figure, col)))
        return values

    for row in rows_of(found, names, lang):
        figure = next(f for f in found.rows if f.value == row.code)
        own = names.units.get(row.code, "") if table == "deed_type" else ""
        writer.writerow([row.code, row.label, *plain(figure, own), filters.period, stamp])
    writer.writerow(["total", _("Total"), *plain(found.total), filters.period, stamp])
    filename = f"dashboard-{table}-{filters.period.replace(':', '')}.csv"
    return Response(
        out.getvalue(),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


@router.get("/admin/dashboard/freshness", response_class=HTMLResponse)
def freshness(
    request: Request,
    session: SessionDep,
    actor: Annotated[Actor, READ],
    since: Annotated[str, Query(max_length=40)] = "",
) -> HTMLResponse:
    """What the page polls while a refresh runs: when it is over, the page reloads."""
    fresh = service.freshness(session)
    response = render(
        request, "admin/dashboard_freshness.html", {"freshness": fresh, "query": request.url.query}
    )
    as_of = fresh.as_of.isoformat() if fresh.as_of else ""
    if fresh.running_since is None and as_of != since:
        response.headers["HX-Refresh"] = "true"
    return response


@router.post("/admin/dashboard/refresh")
def refresh(
    request: Request,
    database: DatabaseDep,
    queue: JobsDep,
    actor: Annotated[Actor, READ],
    scope: Annotated[str, Form(pattern="^(changed|all)$")],
    back: Annotated[str, Form(max_length=300)] = "",
) -> Response:
    """Start a refresh of the figures in the background (changed fiscal years, or all)."""
    started = jobs.start(database, queue, actor, everything=scope == "all")
    # Back to the same filters; only our own query strings are followed. The
    # refresh's id lets the page confirm what it refreshed once it is done.
    query = back if back and "://" not in back and not back.startswith("/") else ""
    if started is not None:
        query = "&".join(q for q in (query, f"refreshed={started}") if q)
    return RedirectResponse(f"/admin/dashboard?{query}", status_code=303)
