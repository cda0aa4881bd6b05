"""Every answer carries the security headers; a forged Host header reaches no address."""

import re
from collections.abc import Iterator
from importlib.resources import files

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from dcatalog.access import public
from dcatalog.config import Settings
from dcatalog.demo.service import load_demo
from dcatalog.problems import PROBLEM_JSON

pytestmark = pytest.mark.demo_data  # on the demo's reference data, loaded once

CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "font-src 'self'; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; "
    "base-uri 'none'; object-src 'none'"
)
EXPECTED = {
    "content-security-policy": CSP,
    "x-frame-options": "DENY",
    "x-content-type-options": "nosniff",
    "referrer-policy": "same-origin",
    "permissions-policy": "camera=(), microphone=(), geolocation=(), payment=(), usb=()",
    "cross-origin-opener-policy": "same-origin",
}
FORGED = "evil.example"


@pytest.fixture
def crashing(app: FastAPI) -> Iterator[TestClient]:
    """The real application plus a route that fails on purpose (before the /api catch-all)."""

    @app.get("/api/v1/_crash", dependencies=[public])
    def crash() -> None:
        raise RuntimeError("boom")

    app.router.routes.sort(key=lambda route: "_crash" not in getattr(route, "path", ""))
    with TestClient(app, raise_server_exceptions=False) as client:
        yield client


def assert_security_headers(response) -> None:  # type: ignore[no-untyped-def]
    for name, value in EXPECTED.items():
        assert response.headers.get(name) == value, (name, response.request.url)
    assert "strict-transport-security" not in response.headers  # plain http


@pytest.mark.parametrize(
    ("path", "status"),
    [
        ("/", 200),  # a page
        ("/api/v1/catalog/deed-types", 200),  # an API answer
        ("/static/css/app.css", 200),  # a static file
        ("/static/js/select-all.js", 200),
        ("/api/v1/no-such-thing", 404),  # an API error
        ("/no-such-page", 404),  # a page error
        ("/api/docs", 200),
        ("/healthz", 200),
    ],
)
def test_every_answer_carries_the_security_headers(
    client: TestClient, path: str, status: int
) -> None:
    response = client.get(path)
    assert response.status_code == status
    assert_security_headers(response)


def test_a_crash_carries_the_security_headers_too(crashing: TestClient) -> None:
    response = crashing.get("/api/v1/_crash")
    assert response.status_code == 500
    assert response.headers["content-type"] == PROBLEM_JSON
    assert_security_headers(response)
    # The message asks to quote the request id: it is there to quote.
    assert "X-Request-ID" in response.json()["detail"]
    assert len(response.headers["x-request-id"]) >= 16


def test_hsts_only_over_https(app: FastAPI) -> None:
    with TestClient(app, base_url="https://testserver") as secure:
        for path in ("/", "/api/v1/catalog/deed-types", "/static/css/app.css"):
            response = secure.get(path)
            assert response.headers["strict-transport-security"] == "max-age=31536000"
            assert response.headers["content-security-policy"] == CSP


@pytest.mark.parametrize(
    "path",
    ["/", "/me/credentials", "/.well-known/did.json", "/credentials/issuer", "/api/docs"],
)
def test_a_forged_host_gets_a_problem_and_never_an_address(client: TestClient, path: str) -> None:
    response = client.get(path, headers={"host": FORGED})
    assert response.status_code == 400
    assert response.headers["content-type"] == PROBLEM_JSON
    assert response.json()["type"] == "/problems/bad-request"
    assert FORGED not in response.text
    assert all(FORGED not in value for value in response.headers.values())
    assert_security_headers(response)


def test_probes_answer_whatever_host_they_name(client: TestClient) -> None:
    assert client.get("/healthz", headers={"host": "10.0.0.7:8000"}).status_code == 200


@pytest.mark.usefixtures("demo")
def test_asset_addresses_in_pages_are_paths(client: TestClient) -> None:
    for path in ("/", "/catalog", "/api/docs"):
        html = client.get(path).text
        assets = re.findall(r'(?:href|src)="([^"]*static/[^"]*)"', html)
        assert assets, path
        assert all(asset.startswith("/static/") for asset in assets), (path, assets)


@pytest.fixture
def demo(session: Session) -> None:
    load_demo(session)


def test_allowed_hosts_default_to_the_public_url_or_this_machine(tmp_path) -> None:  # type: ignore[no-untyped-def]
    local = Settings(instance_dir=tmp_path, host="10.1.2.3")
    assert local.trusted_hosts == ["127.0.0.1", "localhost", "[::1]", "10.1.2.3"]
    public = Settings(instance_dir=tmp_path, public_url="https://DCatalog.Example.go.th:8443")
    assert public.trusted_hosts == ["dcatalog.example.go.th"]
    chosen = Settings(instance_dir=tmp_path, allowed_hosts=" a.example, *.b.example ,::1")
    assert chosen.trusted_hosts == ["a.example", "*.b.example", "[::1]"]


@pytest.mark.parametrize("bad", ["a.example/path", "evil*.example", "a b", "http://a.example"])
def test_allowed_hosts_must_be_host_names(tmp_path, bad: str) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(ValueError, match="not a host name"):
        Settings(instance_dir=tmp_path, allowed_hosts=bad)


PDF_ONLY = {"credentials/certificate.html", "admin/progress_report_pdf.html"}


def test_no_page_template_has_inline_script_or_style() -> None:
    """The policy forbids them; a template that brings one back breaks in the browser."""
    root = files("dcatalog.web").joinpath("templates")
    offenders = []
    for template in _templates(root):
        name, text = template
        if name in PDF_ONLY:  # rendered to PDF by WeasyPrint, never served as a page
            continue
        if re.search(r"<script(?![^>]*\ssrc=)[^>]*>", text) or re.search(r"<style|\sstyle=", text):
            offenders.append(name)
        if re.search(r"\son[a-z]+=|hx-on|javascript:", text):
            offenders.append(name)
    assert offenders == []


def _templates(root, prefix: str = "") -> Iterator[tuple[str, str]]:  # type: ignore[no-untyped-def]
    for entry in root.iterdir():
        if entry.is_dir():
            yield from _templates(entry, f"{prefix}{entry.name}/")
        elif entry.name.endswith(".html"):
            yield f"{prefix}{entry.name}", entry.read_text(encoding="utf-8")
