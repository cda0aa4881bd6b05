"""The citizens' pages, by who uses them: sign-in and sign-out (``signin``), and
the staff's pages around a citizen's record (``staff``). One router for the app."""

from fastapi import APIRouter

from dcatalog.citizens.pages import signin, staff

router = APIRouter(include_in_schema=False)
for part in (signin, staff):
    router.include_router(part.router)
