"""Operations endpoints. They sit outside /api/v1 so load balancers and
Prometheus find them where they usually look. /healthz and /readyz are public;
/metrics needs DCATALOG_METRICS_TOKEN, or (without one) a client on this machine:
its figures show how the service is used, which is not for everyone."""

from __future__ import annotations

import hmac
import ipaddress
from typing import Any

from fastapi import APIRouter, Depends, Request, Response
from fastapi.responses import JSONResponse, PlainTextResponse
from starlette.concurrency import run_in_threadpool

from dcatalog.access import access_rule, public
from dcatalog.config import Settings
from dcatalog.ops.metrics import exposition
from dcatalog.ops.service import check_readiness
from dcatalog.problems import Forbidden, Unauthorized

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


@access_rule
def metrics_reader(request: Request) -> None:
    """With a token set, the token; without one, only loopback clients."""
    settings: Settings = request.app.state.settings
    token = settings.metrics_token.get_secret_value() if settings.metrics_token else ""
    if token:
        scheme, _, given = request.headers.get("authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not hmac.compare_digest(given.encode(), token.encode()):
            raise Unauthorized(
                "Send the metrics token (DCATALOG_METRICS_TOKEN) as `Authorization: Bearer`.",
                headers={"WWW-Authenticate": "Bearer"},
            )
        return
    if not _is_loopback(request.client.host if request.client else ""):
        raise Forbidden(
            "/metrics answers only to this machine; set DCATALOG_METRICS_TOKEN to read it "
            "from elsewhere."
        )


def _is_loopback(host: str) -> bool:
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False  # a Unix socket or a test client's name: not known to be local


@router.get(
    "/metrics",
    summary="Prometheus metrics",
    description="Needs DCATALOG_METRICS_TOKEN as a bearer token; without one set, only "
    "clients on this machine may read it.",
    dependencies=[Depends(metrics_reader)],
    response_class=PlainTextResponse,
    responses={
        200: {"content": {"text/plain": {"schema": {"type": "string"}}}},
        401: {"description": "The metrics token is set and was not sent (or is wrong)."},
        403: {"description": "No metrics token is set and the client is not this machine."},
    },
    openapi_extra={"security": [{"metricsToken": []}, {}]},
)
def metrics() -> Response:
    payload, content_type = exposition()
    return Response(payload, media_type=content_type)
