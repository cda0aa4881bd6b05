"""The programme office's figures: the dashboard (``dashboard``) and the progress
report for the Prime Minister (``report``) and its yearly targets (``targets``). One
router for the app."""

from fastapi import APIRouter

from dcatalog.stats.pages import dashboard, report, targets

router = APIRouter(include_in_schema=False)
for part in (dashboard, report, targets):
    router.include_router(part.router)
