"""The API's contract: every answer of a real ``dcatalog serve`` process matches the
OpenAPI it publishes, on both databases, for an anonymous caller and for an agency's
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
from dataclasses import dataclass
from pathlib import Path

import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, Phase, given
from hypothesis import settings as hypothesis_settings
from hypothesis.errors import Unsatisfiable
from schemathesis import Case, GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.core.failures import Failure, FailureGroup
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from dcatalog.accounts.permissions import API_KEY_SCOPES
from tests.conftest import TEST_PEPPER, TEST_SECRET_KEY, PostgresDatabases, _new_database_url
from tests.helpers import run_cli, serving

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
    response_headers_conformance,
]
# Examples per operation and generation mode: enough to reach every documented
# answer of our small operations, few enough for a couple of minutes per database.
MAX_EXAMPLES = 10
AGENCY = "kys"  # a demo agency; its key holds every scope an agency key may hold


@dataclass(frozen=True)
class Served:
    base: str
    key: str
    log: Path


@pytest.fixture(scope="module")
def served(
    backend: str, tmp_path_factory: pytest.TempPathFactory, postgres_databases: PostgresDatabases
) -> Iterator[Served]:
    """The demo data in a database of its own, served for real, and a key of the
    demo agency made with the CLI, as an operator would."""
    folder = tmp_path_factory.mktemp(f"contract-{backend}")
    env = {
        "DCATALOG_DATABASE_URL": _new_database_url(backend, folder, postgres_databases),
        "DCATALOG_INSTANCE_DIR": str(folder / "var"),
        "DCATALOG_PEPPER": TEST_PEPPER,
        "DCATALOG_SECRET_KEY": TEST_SECRET_KEY,
    }
    demo = run_cli("demo", env=env)
    assert demo.returncode == 0, demo.stderr
    scopes = [arg for scope in sorted(API_KEY_SCOPES) for arg in ("--scope", scope.value)]
    created = run_cli("keys", "create", "--agency", AGENCY, *scopes, env=env)
    assert created.returncode == 0, created.stderr
    log = folder / "server.log"
    with serving(env, log) as base:
        yield Served(base, created.stdout.strip().splitlines()[-1], log)


@pytest.mark.parametrize("caller", ["anonymous", "api-key"])
def test_every_answer_matches_the_openapi(served: Served, caller: str) -> None:
    schema = schemathesis.openapi.from_url(f"{served.base}/api/v1/openapi.json")
    headers = {"Authorization": f"Bearer {served.key}"} if caller == "api-key" else {}
    failures: dict[str, str] = {}
    operations = 0
    with requests.Session() as http:
        for result in schema.get_all_operations():
            operation = result.ok()
            operations += 1
            inputs = [*operation.iter_parameters()] or operation.body
            modes = [GenerationMode.POSITIVE] + ([GenerationMode.NEGATIVE] if inputs else [])
            for mode in modes:
                _exercise(operation, mode, served.base, http, headers, failures)
    assert operations >= 20  # the whole API was walked, not an empty document
    assert not failures, _report(failures, served.log)


def _exercise(
    operation: schemathesis.APIOperation,
    mode: GenerationMode,
    base: str,
    http: requests.Session,
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
            case.call_and_validate(base_url=base, session=http, headers=headers, checks=CHECKS)
        except (Failure, FailureGroup) as exc:
            found = exc.exceptions if isinstance(exc, FailureGroup) else (exc,)
            for failure in found:
                title = failure.title
                key = f"{operation.method.upper()} {operation.path} [{mode.value}]: {title}"
                failures.setdefault(key, f"{failure}\n  reproduce: {case.as_curl_command()}")

    try:
        run()
    except Unsatisfiable:
        pass  # nothing invalid can be sent (free text only): the valid examples ran


def _report(failures: dict[str, str], log: Path) -> str:
    lines = [f"{len(failures)} mismatches between the OpenAPI and the answers:"]
    for key, detail in sorted(failures.items()):
        lines.append(f"- {key}\n  {detail[:1500]}")
    crashes = [line for line in log.read_text().splitlines() if "unhandled error" in line]
    if crashes:
        lines.append("server errors in the log:\n" + "\n".join(crashes[:5]))
    return "\n".join(lines)
