"""Interoperability with an independent implementation: Digital Bazaar's
``@digitalbazaar/vc`` stack (Node.js, from the npm registry, exact versions in
tests/interop/package-lock.json) verifies a credential our service issues, and
we verify credentials it issues, including a revoked one whose status list it
signed and a local HTTPS server (the test CA) serves.

The npm packages are installed with ``npm ci`` into tests/interop/node_modules
(git-ignored) when missing or when the lock file changed, and kept for later
runs. Without Node.js 20+ and npm the test is skipped with the reason, except
under CI=true, where it fails.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from dcatalog.cli import app as cli_app
from dcatalog.credentials.jsonld_contexts import shipped_context_text, shipped_context_urls
from tests.helpers import ROOT
from tests.integration.test_credentials import ask, signed, student  # noqa: F401 (fixture)
from tests.tls import HttpsServer

INTEROP = ROOT / "tests" / "interop"
NODE_TIMEOUT = 120  # seconds; the cross-check itself takes a few
INSTALL_TIMEOUT = 600
STATUS_INDEX = 91_234


def _unavailable(reason: str) -> None:
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"the Node.js cross-check must run in CI: {reason}")
    pytest.skip(reason)


@pytest.fixture(scope="module")
def node() -> str:
    """The ``node`` binary, with the pinned packages installed (once per lock file)."""
    node, npm = shutil.which("node"), shutil.which("npm")
    if node is None or npm is None:
        _unavailable("Node.js and npm are not installed (Debian: apt-get install nodejs npm)")
        raise AssertionError  # unreachable: _unavailable skips or fails
    version = subprocess.run([node, "--version"], capture_output=True, text=True, check=True)
    if int(version.stdout.strip().lstrip("v").split(".")[0]) < 20:
        _unavailable(f"Node.js 20 or newer is needed, found {version.stdout.strip()}")
    lock = (INTEROP / "package-lock.json").read_bytes()
    stamp = INTEROP / "node_modules" / f".installed-{hashlib.sha256(lock).hexdigest()[:12]}"
    if not stamp.exists():
        installed = subprocess.run(
            [npm, "ci", "--no-audit", "--no-fund", "--ignore-scripts"],
            cwd=INTEROP,
            capture_output=True,
            text=True,
            timeout=INSTALL_TIMEOUT,
        )
        if installed.returncode != 0:
            _unavailable(f"npm ci failed: {installed.stderr[-2000:]}")
        stamp.touch()
    return node


def crosscheck(node: str, tmp_path: Path, job: dict[str, Any]) -> dict[str, Any]:
    job = {
        "contexts": {url: json.loads(shipped_context_text(url)) for url in shipped_context_urls()},
        **job,
    }
    path = tmp_path / "job.json"
    path.write_text(json.dumps(job, ensure_ascii=False), encoding="utf-8")
    done = subprocess.run(
        [node, str(INTEROP / "crosscheck.mjs"), str(path)],
        cwd=INTEROP,
        capture_output=True,
        text=True,
        timeout=NODE_TIMEOUT,
    )
    assert done.returncode == 0, done.stderr
    answer: dict[str, Any] = json.loads(done.stdout)
    return answer


def our_keys(client: TestClient) -> dict[str, Any]:
    """Our did.json and each of its verification methods, by URL, as a DID
    resolver would give them to the Node verifier."""
    did = client.get("/.well-known/did.json").json()
    documents = {did["id"]: did}
    for method in did["verificationMethod"]:
        documents[method["id"]] = {"@context": did["@context"][1], **method}
    return documents


def verify_cli(tmp_path: Path, document: Any, *extra: str) -> tuple[int, dict[str, Any]]:
    path = tmp_path / "credential.json"
    path.write_text(json.dumps(document, ensure_ascii=False), encoding="utf-8")
    result = CliRunner().invoke(cli_app, ["verify", str(path), "--json", *extra])
    return result.exit_code, json.loads(result.output)


def test_digital_bazaar_and_we_verify_each_others_credentials(
    node: str,
    client: TestClient,
    student: str,  # noqa: F811
    tls: HttpsServer,
    lab_fetching: Any,
    tmp_path: Path,
) -> None:
    ours = signed(ask(client, "type:kys.volunteer_activity|academic_year:"))
    tampered = json.loads(json.dumps(ours))
    tampered["credentialSubject"]["achievement"]["name"] = "อื่น"
    template = {k: v for k, v in ours.items() if k != "proof"}
    template["id"] = "urn:uuid:0193c3a4-0000-7000-8000-00000000d0b1"
    list_url = f"{tls.base}/status/node"
    answer = crosscheck(
        node,
        tmp_path,
        {
            "documents": our_keys(client),
            "verify": [ours, tampered],
            "issue": {"template": template, "statusListUrl": list_url, "statusIndex": STATUS_INDEX},
        },
    )

    # (a) Digital Bazaar verifies what our service issued, and catches a change.
    assert answer["verified"][0] == {"verified": True, "error": None}, answer["verified"][0]
    assert answer["verified"][1]["verified"] is False

    # (b) We verify what Digital Bazaar signed with a fresh did:key.
    issued = answer["issued"]
    assert issued["plain"]["proof"]["cryptosuite"] == "eddsa-rdfc-2022"
    code, result = verify_cli(tmp_path, issued["plain"], "--offline")
    assert (code, result["outcome"]) == (0, "valid"), result
    assert result["verification_method"] == issued["verificationMethod"]
    changed = json.loads(json.dumps(issued["plain"]))
    changed["credentialSubject"]["achievement"]["name"] = "อื่น"
    code, result = verify_cli(tmp_path, changed, "--offline")
    assert (code, result["problem"]) == (1, "tampered")

    # (c) Its revoked credential, with the status list it signed served over https.
    tls.put("/status/node", issued["statusList"])
    code, result = verify_cli(tmp_path, issued["revocable"])
    assert (code, result["outcome"]) == (3, "revoked"), result
    assert "/status/node" in tls.requests
