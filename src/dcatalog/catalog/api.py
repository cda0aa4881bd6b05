"""The catalog over the API: public reading; drafting for keys with catalog:write."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, status

from dcatalog.access import public, require
from dcatalog.accounts.permissions import Scope
from dcatalog.actors import Actor
from dcatalog.agencies.service import agency_of
from dcatalog.catalog import service
from dcatalog.catalog.models import DeedType, DeedTypeVersion
from dcatalog.catalog.schemas import (
    AgencyRef,
    DeedTypeFields,
    DeedTypeOut,
    DeedTypePage,
    NewDeedType,
    VirtueOut,
)
from dcatalog.problems import NotFound
from dcatalog.review import ReviewStatus
from dcatalog.web.deps import DatabaseDep, SessionDep

router = APIRouter(prefix="/api/v1/catalog", tags=["catalog"])
WRITE = require(Scope.CATALOG_WRITE)
_EVER_IN_FORCE = {ReviewStatus.APPROVED, ReviewStatus.SUPERSEDED, ReviewStatus.RETIRED}


def to_out(deed_type: DeedType, version: DeedTypeVersion) -> DeedTypeOut:
    owner = deed_type.owner
    return DeedTypeOut(
        code=deed_type.code,
        owner=AgencyRef(code=owner.code, name_th=owner.name_th, name_en=owner.name_en),
        virtue=version.virtue_code,
        status=version.status.value,
        **{
            name: getattr(version, name)
            for name in DeedTypeOut.model_fields
            if name not in {"code", "owner", "virtue", "status"}
        },
    )


@router.get("/virtues", dependencies=[public], summary="The virtues deed types are grouped under")
def virtues(session: SessionDep) -> list[VirtueOut]:
    return [
        VirtueOut.model_validate(v, from_attributes=True) for v in service.list_virtues(session)
    ]


@router.get("/deed-types", dependencies=[public], summary="Search the approved catalog")
def deed_types(
    session: SessionDep,
    virtue: Annotated[str | None, Query(description="A virtue code.")] = None,
    agency: Annotated[str | None, Query(description="The owner agency's code.")] = None,
    q: Annotated[
        str | None, Query(max_length=100, description="Words in the name, description or code.")
    ] = None,
    cursor: Annotated[str | None, Query(description="`next_cursor` of the previous page.")] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> DeedTypePage:
    found = service.search_public(
        session, virtue=virtue, agency=agency, text=q, after=cursor, limit=limit + 1
    )
    items = [to_out(t, t.in_force) for t in found[:limit] if t.in_force is not None]
    return DeedTypePage(
        items=items, next_cursor=found[limit - 1].code if len(found) > limit else None
    )


@router.get("/deed-types/{code}", dependencies=[public], summary="One catalog entry")
def deed_type(
    code: str,
    session: SessionDep,
    version: Annotated[
        int | None,
        Query(ge=1, description="A version that was in force (to explain older deeds)."),
    ] = None,
) -> DeedTypeOut:
    entry = service.get_deed_type(session, code)
    if version is None:
        entry = service.get_public(session, code)
        shown = entry.in_force
    else:
        shown = service.get_version(entry, version)
        if shown.status not in _EVER_IN_FORCE:
            raise NotFound(f"Version {version} of {code} was never in force.")
    assert shown is not None
    return to_out(entry, shown)


@router.post(
    "/deed-types",
    status_code=status.HTTP_201_CREATED,
    summary="Draft a new deed type for your agency",
    responses={409: {"description": "The catalog already has this code."}},
)
def create(body: NewDeedType, database: DatabaseDep, actor: Annotated[Actor, WRITE]) -> DeedTypeOut:
    with database.write_session() as session:
        entry = service.create_deed_type(session, actor, agency_of(session, actor), body)
        return to_out(entry, entry.versions[0])


@router.put(
    "/deed-types/{code}/draft",
    summary="Write the draft (a new version if approved)",
    responses={409: {"description": "The deed type is retired, or its draft is under review."}},
)
def save_draft(
    code: str, body: DeedTypeFields, database: DatabaseDep, actor: Annotated[Actor, WRITE]
) -> DeedTypeOut:
    with database.write_session() as session:
        entry = service.get_own(session, actor, code)
        return to_out(entry, service.save_draft(session, actor, entry, body))


@router.post(
    "/deed-types/{code}/submit",
    summary="Send the draft to the programme office",
    responses={409: {"description": "There is no draft to submit, or it is under review."}},
)
def submit(code: str, database: DatabaseDep, actor: Annotated[Actor, WRITE]) -> DeedTypeOut:
    with database.write_session() as session:
        entry = service.get_own(session, actor, code)
        return to_out(entry, service.submit(session, actor, entry))
