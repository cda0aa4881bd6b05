"""Fetching an issuer's key document or status list without becoming a proxy
into someone's network.

A credential names the URLs its verifier fetches (its ``verificationMethod``,
its ``statusListCredential``, a did:web host), so whoever writes a credential
chooses where ``dcatalog verify`` connects. Without a guard a crafted credential
makes it request ``https://169.254.169.254/…`` (cloud metadata), the router or
any internal service (SSRF). So every fetch:

- is **https only**; the certificate is checked against the system's CAs, plus
  ``DCATALOG_CREDENTIAL_FETCH_CA_FILE`` when set (a test or lab CA);
- **resolves the host once, checks every address** it resolves to and refuses
  the fetch if any one is private, loopback, link-local, reserved, multicast,
  unspecified or otherwise not global (IPv4-mapped IPv6 addresses are checked
  as the IPv4 address they are); then **connects to the checked address**
  itself (TLS still names and verifies the host), so a DNS answer that changes
  between the check and the connection (DNS rebinding) cannot slip past;
- follows at most ``MAX_REDIRECTS`` redirects, each checked the same way;
- stops at a total time (``DCATALOG_CREDENTIAL_FETCH_TIMEOUT_SECONDS``) and a
  size (``DCATALOG_CREDENTIAL_FETCH_MAX_BYTES``), and refuses a body that is not
  JSON or is beyond the verifier's depth and size limits.

``DCATALOG_CREDENTIAL_FETCH_ALLOW_PRIVATE`` (default off, for tests and labs)
lifts the address check and allows plain http; nothing else does.
"""

from __future__ import annotations

import http.client
import ipaddress
import json
import socket
import ssl
import time
from typing import Any
from urllib.parse import urljoin, urlsplit

from dcatalog.credentials.limits import DEFAULT_LIMITS, Limits, TooComplex, check_shape

MAX_REDIRECTS = 3
CHUNK = 65_536
ACCEPT = "application/vc+ld+json, application/ld+json, application/did+json, application/json"
IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


class FetchFailed(Exception):
    """A document could not be had: refused, unreachable, too slow, too large, not JSON."""


class AddressRefused(FetchFailed):
    """The URL's host is (or resolves to) an address that is not public."""


def is_public(address: IPAddress) -> bool:
    """Whether ``address`` is a public Internet address a verifier may connect to."""
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return address.is_global and not (
        address.is_private
        or address.is_loopback
        or address.is_link_local
        or address.is_reserved
        or address.is_multicast
        or address.is_unspecified
    )


def fetch_json(url: str, limits: Limits = DEFAULT_LIMITS) -> Any:
    """GET ``url`` as JSON, guarded as the module says. Raises ``FetchFailed``."""
    deadline = time.monotonic() + limits.fetch_timeout_seconds
    for _ in range(MAX_REDIRECTS + 1):
        status, location, body = _get(url, limits, deadline)
        if status in (301, 302, 303, 307, 308) and location:
            url = urljoin(url, location)
            continue
        if status != 200:
            raise FetchFailed(f"{url} answered {status}")
        return _parse(url, body, limits)
    raise FetchFailed(f"{url}: more than {MAX_REDIRECTS} redirects")


def _get(url: str, limits: Limits, deadline: float) -> tuple[int, str | None, bytes]:
    parts = urlsplit(url)
    allow_private = limits.fetch_allow_private
    if parts.scheme != "https" and not (parts.scheme == "http" and allow_private):
        raise FetchFailed(
            f"not an https URL: {url} (keys and status lists are fetched over https only)"
        )
    host = parts.hostname
    if not host:
        raise FetchFailed(f"no host in {url}")
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError as exc:
        raise FetchFailed(f"a bad port in {url}") from exc
    address = _checked_address(host, port, allow_private=allow_private)
    timeout = _remaining(deadline, url, limits)
    connection: http.client.HTTPConnection
    if parts.scheme == "https":
        connection = _PinnedHTTPSConnection(host, port, address, _tls_context(limits), timeout)
    else:
        connection = _PinnedHTTPConnection(host, port, address, timeout)
    target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    try:
        connection.request("GET", target, headers={"Accept": ACCEPT, "User-Agent": "dcatalog"})
        response = connection.getresponse()
        if response.status != 200:
            return response.status, response.getheader("Location"), b""
        declared = response.getheader("Content-Length")
        if declared and declared.isdigit() and int(declared) > limits.fetch_max_bytes:
            raise FetchFailed(f"{url} is larger than {limits.fetch_max_bytes} bytes")
        body = bytearray()
        while True:
            if connection.sock is not None:
                connection.sock.settimeout(_remaining(deadline, url, limits))
            chunk = response.read(CHUNK)
            if not chunk:
                break
            body.extend(chunk)
            if len(body) > limits.fetch_max_bytes:
                raise FetchFailed(f"{url} is larger than {limits.fetch_max_bytes} bytes")
        return 200, None, bytes(body)
    except TimeoutError as exc:
        raise FetchFailed(
            f"{url} did not answer within {limits.fetch_timeout_seconds:g} s"
        ) from exc
    except ssl.SSLError as exc:
        raise FetchFailed(f"{url}: its TLS certificate is not trusted ({exc.reason})") from exc
    except (OSError, http.client.HTTPException) as exc:
        raise FetchFailed(f"{url} could not be fetched ({type(exc).__name__})") from exc
    finally:
        connection.close()


def _checked_address(host: str, port: int, *, allow_private: bool) -> str:
    """The address to connect to: every address ``host`` resolves to is checked,
    and the connection goes to one of those, never to a second lookup."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError) as exc:
        raise FetchFailed(f"{host} cannot be resolved") from exc
    addresses = list(dict.fromkeys(str(info[4][0]) for info in infos))
    if not addresses:
        raise FetchFailed(f"{host} cannot be resolved")
    if not allow_private:
        for found in addresses:
            if not is_public(ipaddress.ip_address(found.split("%", 1)[0])):
                raise AddressRefused(
                    f"{host} is at {found}, a private or otherwise non-public address: refused "
                    "(DCATALOG_CREDENTIAL_FETCH_ALLOW_PRIVATE allows it, for tests and labs)"
                )
    return addresses[0]


def _tls_context(limits: Limits) -> ssl.SSLContext:
    context = ssl.create_default_context()
    if limits.fetch_ca_file:
        try:
            context.load_verify_locations(cafile=limits.fetch_ca_file)
        except (OSError, ssl.SSLError) as exc:
            raise FetchFailed(
                f"DCATALOG_CREDENTIAL_FETCH_CA_FILE {limits.fetch_ca_file} cannot be read"
            ) from exc
    return context


def _remaining(deadline: float, url: str, limits: Limits) -> float:
    left = deadline - time.monotonic()
    if left <= 0:
        raise FetchFailed(f"{url} did not answer within {limits.fetch_timeout_seconds:g} s")
    return left


class _PinnedHTTPConnection(http.client.HTTPConnection):
    """Connects to the address that was checked, not to a fresh lookup of the host."""

    def __init__(self, host: str, port: int, address: str, timeout: float) -> None:
        super().__init__(host, port, timeout=timeout)
        self._address = address

    def connect(self) -> None:
        self.sock = socket.create_connection((self._address, self.port), self.timeout)


class _PinnedHTTPSConnection(http.client.HTTPSConnection):
    """As ``_PinnedHTTPConnection``, with TLS naming and verifying the host."""

    def __init__(
        self, host: str, port: int, address: str, context: ssl.SSLContext, timeout: float
    ) -> None:
        super().__init__(host, port, timeout=timeout, context=context)
        self._address = address
        self._tls = context

    def connect(self) -> None:
        raw = socket.create_connection((self._address, self.port), self.timeout)
        try:
            self.sock = self._tls.wrap_socket(raw, server_hostname=self.host)
        except BaseException:
            raw.close()
            raise


def _parse(url: str, body: bytes, limits: Limits) -> Any:
    try:
        document = json.loads(body.decode("utf-8"))
    except (ValueError, UnicodeDecodeError, RecursionError) as exc:
        raise FetchFailed(f"{url} is not JSON") from exc
    try:
        check_shape(document, limits)
    except TooComplex as exc:
        raise FetchFailed(f"{url} is {exc}") from exc
    return document
