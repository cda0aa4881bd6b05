"""Operations endpoints. They sit outside /api/v1 so load balancers and
Prometheus find them where they usually look; all three are public."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from dcatalog.access import public
from dcatalog.ops.metrics import exposition
from dcatalog.ops.service import check_readiness

router = APIRouter(tags=["operations"])


@router.get("/healthz", summary="The process is up", dependencies=[public])
def healthz() -> dict[str, str]:
    return {"status": "ok"}


@router.get(
    "/readyz",
    summary="The database is reachable, migrations are current and the pepper matches",
    responses={503: {"description": "Not ready; `checks` says why"}},
    dependencies=[public],
)
async def readyz(request: Request) -> Any:
    state = request.app.state
    readiness = await run_in_threadpool(check_readiness, state.database, state.keyer)
    body = {"status": "ready" if readiness.ready else "not ready", "checks": readiness.checks}
    return JSONResponse(body, status_code=200 if readiness.ready else 503)


@router.get("/metrics", summary="Prometheus metrics", dependencies=[public])
def metrics() -> Response:
    payload, content_type = exposition()
    return Response(payload, media_type=content_type)
