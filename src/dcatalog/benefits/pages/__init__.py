"""The benefits' pages, by who uses them: claiming and the partner's counter
(``claiming``), the agencies' and the programme office's management of benefits
(``staff``), and milestones (``awards``). One router for the app."""

from fastapi import APIRouter

from dcatalog.benefits.pages import awards, claiming, staff

router = APIRouter(include_in_schema=False)
for part in (claiming, staff, awards):
    router.include_router(part.router)

leads_to = claiming.leads_to  # a catalog page extra (see dcatalog.assembly)
