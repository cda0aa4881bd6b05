"""Campaigns over the API: the approved ones and their progress, for everyone."""

from __future__ import annotations

from fastapi import APIRouter

from dcatalog.access import public
from dcatalog.calendars.buddhist_era import today_in_thailand
from dcatalog.campaigns import service
from dcatalog.campaigns.models import Campaign
from dcatalog.campaigns.schemas import AgencyRef, CampaignOut, ProgressOut
from dcatalog.web.deps import SessionDep

router = APIRouter(prefix="/api/v1/campaigns", tags=["campaigns"])


def _progress(progress: service.Progress) -> ProgressOut:
    if not progress.shown:  # fewer than ten people: nothing that could single them out
        return ProgressOut(
            value=None, percent=None, citizens=None, suppressed=True, as_of=progress.as_of
        )
    return ProgressOut(
        value=progress.value,
        percent=progress.percent,
        citizens=progress.citizens,
        suppressed=False,
        as_of=progress.as_of,
    )


def to_out(
    campaign: Campaign, progress: service.Progress, units: dict[str, str], state: str
) -> CampaignOut:
    agency = campaign.agency
    return CampaignOut(
        code=campaign.code,
        agency=AgencyRef(code=agency.code, name_th=agency.name_th, name_en=agency.name_en),
        title_th=campaign.title_th,
        title_en=campaign.title_en,
        description_th=campaign.description_th,
        description_en=campaign.description_en,
        deed_types=list(campaign.deed_types),
        provinces=list(campaign.provinces),
        starts_on=campaign.starts_on,
        ends_on=campaign.ends_on,
        state=state,
        goal_measure=campaign.goal_measure,
        goal=campaign.goal,
        unit=service.unit_of(campaign, units),
        progress=_progress(progress),
    )


@router.get(
    "",
    dependencies=[public],
    summary="Approved campaigns and their progress",
    description=(
        "Running campaigns first, then upcoming ones, then those that ended in the last "
        "90 days. Progress counts verified deeds and is at most a minute old (`as_of`); "
        "while fewer than 10 people count, the figures are withheld (`suppressed`)."
    ),
)
def campaigns(session: SessionDep) -> list[CampaignOut]:
    today = today_in_thailand()
    found = service.public(session, today)
    progress = service.progress(session, found)
    units = service.units(session, [code for c in found for code in c.deed_types])
    return [to_out(c, progress[c.id], units, c.state_on(today)) for c in found]
