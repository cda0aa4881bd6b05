"""The clear national ID is never stored and never logged (PDPA, DESIGN.md §1.4).

The test sends one ID everywhere a careless change could let it through (path,
query, header, body, validation errors, direct log calls) and then reads the
whole database (every row, and for SQLite the file bytes) and every log line.
"""

import logging

import pytest
import structlog
from fastapi import FastAPI
from fastapi.testclient import TestClient
from pydantic import BaseModel

from dcatalog.access import public
from dcatalog.app import create_app
from dcatalog.config import Settings
from dcatalog.db import Database
from dcatalog.identity.national_id import with_check_digit
from dcatalog.schema import upgrade_engine
from tests.helpers import dump_all_rows

NID = with_check_digit("318004512345")
THAI = str.maketrans("0123456789", "๐๑๒๓๔๕๖๗๘๙")
DASHED = f"{NID[0]}-{NID[1:5]}-{NID[5:10]}-{NID[10:12]}-{NID[12]}"
SPELLINGS = [NID, DASHED, NID.translate(THAI), DASHED.translate(THAI), DASHED.replace("-", " ")]


class Body(BaseModel):
    national_id: str
    quantity: int


def add_keying_route(app: FastAPI) -> None:
    """A route that does what recording a deed will do with an ID: key it at once."""

    @app.post("/api/v1/_key", dependencies=[public])
    def key(body: Body) -> dict[str, str]:
        citizen_key: str = app.state.keyer.key(body.national_id)
        logging.getLogger("dcatalog.test").info("keyed %s for %s", citizen_key, body.national_id)
        return {"citizen_key": citizen_key}

    app.router.routes.insert(0, app.router.routes.pop())


def test_the_id_reaches_neither_the_database_nor_the_logs(
    fresh_database_url: str, settings: Settings, capfd: pytest.CaptureFixture[str]
) -> None:
    settings = settings.model_copy(update={"log_level": "DEBUG"})
    database = Database.from_url(fresh_database_url)
    upgrade_engine(database.engine)
    app = create_app(settings, database=database)
    add_keying_route(app)
    with TestClient(app, raise_server_exceptions=False) as client:
        keyed = client.post("/api/v1/_key", json={"national_id": DASHED, "quantity": 1})
        assert keyed.status_code == 200
        assert (
            client.post("/api/v1/_key", json={"national_id": NID, "quantity": "x"}).status_code
            == 422
        )
        client.get(f"/api/v1/citizens/{NID}", params={"national_id": DASHED})
        client.get("/", headers={"X-Citizen": NID})
        client.get("/lang/en", params={"next": f"/?id={NID}"})
    structlog.get_logger("dcatalog.test").warning("lookup", national_id=NID.translate(THAI))
    logging.getLogger("dcatalog.test").error("lookup failed for %s", int(NID))

    logs = capfd.readouterr().err
    rows = dump_all_rows(database.engine)
    stored_bytes = b""
    if database.is_sqlite:
        path = database.engine.url.database
        assert path
        for suffix in ("", "-wal"):
            try:
                with open(path + suffix, "rb") as handle:
                    stored_bytes += handle.read()
            except FileNotFoundError:
                pass
    database.dispose()

    # The checks could fail: the requests and log calls did reach the log and the database.
    assert '"route": "/api/v1/_key"' in logs
    assert logs.count("[national-id]") >= 3
    assert keyed.json()["citizen_key"] in logs
    assert "citizen_key.pepper_fingerprint" in rows
    for spelling in SPELLINGS:
        assert spelling not in logs, f"{spelling!r} leaked into the log"
        assert spelling not in rows, f"{spelling!r} stored in the database"
        assert spelling.encode() not in stored_bytes
