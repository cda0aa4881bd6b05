"""The audit trail, for auditors and the programme office."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse

from dcatalog.access import require
from dcatalog.accounts.permissions import Scope
from dcatalog.actors import Actor
from dcatalog.audit import service
from dcatalog.web.deps import SessionDep
from dcatalog.web.templating import render

router = APIRouter(include_in_schema=False)


@router.get("/admin/audit", response_class=HTMLResponse)
def audit_trail(
    request: Request,
    session: SessionDep,
    actor: Annotated[Actor, require(Scope.AUDIT_READ)],
    entity: Annotated[str, Query(max_length=100)] = "",
    before: Annotated[str, Query(max_length=40)] = "",
) -> HTMLResponse:
    events = service.list_events(session, actor, entity_id=entity or None, before=before or None)
    context = {
        "events": events,
        "entity": entity,
        "next_before": str(events[-1].id) if len(events) == service.PAGE else None,
    }
    return render(request, "admin/audit.html", context)
