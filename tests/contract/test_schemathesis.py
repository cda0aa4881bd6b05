"""The API's contract: every answer of the application matches the OpenAPI it
publishes, on both databases, for an anonymous caller and for an agency's
API key.

Schemathesis generates requests from /api/v1/openapi.json, valid ones and invalid
ones, for every operation, and checks each answer: never a 5xx, a status code, a
content type, a body and headers that the OpenAPI documents. The run is bounded (a
few examples per operation) and deterministic (derandomised), so a failure here
is the same failure on every machine; each failure found is fixed at its root and
gets a focused regression test beside its domain's tests.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import suppress
from dataclasses import dataclass

import pytest
import schemathesis
from fastapi import FastAPI
from hypothesis import HealthCheck, Phase, given
from hypothesis import settings as hypothesis_settings
from hypothesis.errors import Unsatisfiable
from schemathesis import Case, GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.core.failures import Failure, FailureGroup
from schemathesis.python.asgi import shutdown_lifespans
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from dcatalog.accounts import service as accounts
from dcatalog.accounts.permissions import API_KEY_SCOPES
from dcatalog.actors import SYSTEM
from dcatalog.agencies.service import get_agency
from dcatalog.app import create_app
from dcatalog.config import Settings
from dcatalog.db import Database
from dcatalog.demo.service import load_demo
from dcatalog.identity.citizen_key import CitizenKeyer
from dcatalog.schema import upgrade_engine
from tests.conftest import TEST_PEPPER, TEST_SECRET_KEY, PostgresDatabases, _new_database_url

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
    response_headers_conformance,
]
# Examples per operation and generation mode: enough to reach every documented
# answer of our small operations, few enough for a couple of minutes per database.
MAX_EXAMPLES = 25
AGENCY = "kys"  # a demo agency; its key holds every scope an agency key may hold


@dataclass(frozen=True)
class Api:
    app: FastAPI
    key: str


@pytest.fixture(scope="module")
def api(
    backend: str, tmp_path_factory: pytest.TempPathFactory, postgres_databases: PostgresDatabases
) -> Iterator[Api]:
    """The application on the demo data in a database of its own (real commits, as a
    served process makes them), and a key of a demo agency with every scope an
    agency key may hold."""
    folder = tmp_path_factory.mktemp(f"contract-{backend}")
    database = Database.from_url(_new_database_url(backend, folder, postgres_databases))
    upgrade_engine(database.engine)
    keyer = CitizenKeyer(TEST_PEPPER.encode())
    with database.write_session() as session:
        load_demo(session, with_accounts=True, keyer=keyer)
        _key, plain = accounts.create_api_key(
            session, SYSTEM, get_agency(session, AGENCY), "contract test", sorted(API_KEY_SCOPES)
        )
        session.commit()
    settings = Settings(
        instance_dir=folder / "var",
        pepper=TEST_PEPPER,  # type: ignore[arg-type]
        secret_key=TEST_SECRET_KEY,  # type: ignore[arg-type]
        log_format="json",
        allowed_hosts="testserver, localhost",  # schemathesis calls the app in process
    )
    yield Api(create_app(settings, database=database), plain)
    shutdown_lifespans()  # the app's shutdown (schemathesis keeps it running until here)
    database.dispose()


@pytest.mark.parametrize("caller", ["anonymous", "api-key"])
def test_every_answer_matches_the_openapi(api: Api, caller: str) -> None:
    schema = schemathesis.openapi.from_asgi("/api/v1/openapi.json", api.app)
    headers = {"Authorization": f"Bearer {api.key}"} if caller == "api-key" else {}
    failures: dict[str, str] = {}
    operations = 0
    for result in schema.get_all_operations():
        operation = result.ok()
        operations += 1
        inputs = [*operation.iter_parameters()] or operation.body
        modes = [GenerationMode.POSITIVE] + ([GenerationMode.NEGATIVE] if inputs else [])
        for mode in modes:
            _exercise(operation, mode, headers, failures)
    assert operations >= 20  # the whole API was walked, not an empty document
    assert not failures, _report(failures)


def _exercise(
    operation: schemathesis.APIOperation,
    mode: GenerationMode,
    headers: dict[str, str],
    failures: dict[str, str],
) -> None:
    """Send ``MAX_EXAMPLES`` generated requests; keep each distinct failure once
    (no shrinking: the first example of a failure is reported as it was sent)."""

    @hypothesis_settings(
        max_examples=MAX_EXAMPLES,
        derandomize=True,
        database=None,
        deadline=None,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(case=operation.as_strategy(generation_mode=mode))
    def run(case: Case) -> None:
        try:
            case.call_and_validate(headers=headers, checks=CHECKS)
        except (Failure, FailureGroup) as exc:
            found = exc.exceptions if isinstance(exc, FailureGroup) else (exc,)
            for failure in found:
                title = failure.title
                key = f"{operation.method.upper()} {operation.path} [{mode.value}]: {title}"
                failures.setdefault(key, f"{failure}\n  reproduce: {case.as_curl_command()}")
        except Exception as exc:  # in-process, a crash (answered 500) reaches us as itself
            key = f"{operation.method.upper()} {operation.path} [{mode.value}]: server error"
            failures.setdefault(key, f"{exc!r}"[:500] + f"\n  reproduce: {case.as_curl_command()}")

    # Unsatisfiable: nothing invalid can be sent (free text only); the valid examples ran.
    with suppress(Unsatisfiable):
        run()


def _report(failures: dict[str, str]) -> str:
    lines = [f"{len(failures)} mismatches between the OpenAPI and the answers:"]
    for key, detail in sorted(failures.items()):
        lines.append(f"- {key}\n  {detail[:1500]}")
    return "\n".join(lines)
