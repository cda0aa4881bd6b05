"""A test certificate authority and a real HTTPS server on a free local port,
for the verifier's fetches (issuer key documents, status lists).

The CA and the server's certificate (for ``127.0.0.1`` and ``localhost``) are
made here with ``cryptography``, fresh for each test session; nothing is
trusted unless a test gives the CA file to the verifier
(``DCATALOG_CREDENTIAL_FETCH_CA_FILE``).
"""

from __future__ import annotations

import ipaddress
import json
import socket
import ssl
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from dcatalog.config import get_settings


@dataclass(frozen=True)
class LabCA:
    ca_file: Path  # the CA certificate (PEM): what a verifier is told to trust
    cert_file: Path  # the server's certificate chain (PEM)
    key_file: Path  # the server's private key (PEM)


def _name(common: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common)])


def make_lab_ca(folder: Path) -> LabCA:
    """A CA and a server certificate for 127.0.0.1, ::1 and localhost, signed by it."""
    folder.mkdir(parents=True, exist_ok=True)
    now = datetime.now(UTC)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_cert = (
        x509.CertificateBuilder()
        .subject_name(_name("D-Catalog test CA"))
        .issuer_name(_name("D-Catalog test CA"))
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(hours=1))
        .not_valid_after(now + timedelta(days=2))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(
            x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False
        )
        .sign(ca_key, hashes.SHA256())
    )
    server_key = ec.generate_private_key(ec.SECP256R1())
    server_cert = (
        x509.CertificateBuilder()
        .subject_name(_name("localhost"))
        .issuer_name(ca_cert.subject)
        .public_key(server_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(hours=1))
        .not_valid_after(now + timedelta(days=2))
        .add_extension(
            x509.SubjectAlternativeName(
                [
                    x509.DNSName("localhost"),
                    x509.IPAddress(ipaddress.ip_address("127.0.0.1")),
                    x509.IPAddress(ipaddress.ip_address("::1")),
                ]
            ),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()),
            critical=False,
        )
        .sign(ca_key, hashes.SHA256())
    )
    ca = LabCA(folder / "ca.pem", folder / "server.pem", folder / "server-key.pem")
    ca.ca_file.write_bytes(ca_cert.public_bytes(serialization.Encoding.PEM))
    ca.cert_file.write_bytes(server_cert.public_bytes(serialization.Encoding.PEM))
    ca.key_file.write_bytes(
        server_key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return ca


@dataclass
class HttpsServer:
    """Serves ``files`` (path → bytes) over https at ``base``; counts requests by path."""

    base: str
    port: int
    files: dict[str, bytes]
    requests: list[str] = field(default_factory=list)

    def put(self, path: str, document: Any) -> str:
        self.files[path] = json.dumps(document).encode()
        return self.base + path


@contextmanager
def https_server(ca: LabCA, host: str = "127.0.0.1") -> Iterator[HttpsServer]:
    """A real HTTPS server (http.server + ssl) on a free port of ``host``."""
    files: dict[str, bytes] = {}
    seen: list[str] = []

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            seen.append(self.path)
            body = files.get(self.path)
            if body is None:
                self.send_response(404)
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer((host, 0), Handler)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(ca.cert_file, ca.key_file)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    port = int(server.server_address[1])
    try:
        yield HttpsServer(f"https://{host}:{port}", port, files, seen)
    finally:
        server.shutdown()
        server.server_close()


@contextmanager
def silent_server() -> Iterator[str]:
    """A port that accepts connections and never says a word (not even TLS):
    ``https://127.0.0.1:<port>``."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(16)  # connections wait in the backlog, never accepted
    try:
        yield f"https://127.0.0.1:{listener.getsockname()[1]}"
    finally:
        listener.close()


@pytest.fixture(scope="session")
def lab_ca(tmp_path_factory: pytest.TempPathFactory) -> LabCA:
    return make_lab_ca(tmp_path_factory.mktemp("test-ca"))


@pytest.fixture
def tls(lab_ca: LabCA) -> Iterator[HttpsServer]:
    with https_server(lab_ca) as server:
        yield server


@pytest.fixture
def lab_fetching(lab_ca: LabCA, monkeypatch: pytest.MonkeyPatch) -> Iterator[LabCA]:
    """``dcatalog verify`` as in a lab: the test CA trusted, private addresses allowed."""
    monkeypatch.setenv("DCATALOG_CREDENTIAL_FETCH_CA_FILE", str(lab_ca.ca_file))
    monkeypatch.setenv("DCATALOG_CREDENTIAL_FETCH_ALLOW_PRIVATE", "true")
    get_settings.cache_clear()
    yield lab_ca
    get_settings.cache_clear()
