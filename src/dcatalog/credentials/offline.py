"""Checking a credential away from the service (``dcatalog verify``).

Trust comes from the keys the user gives (``--key``: a public Multikey or a
DID / controller document saved as a file) or, online, from what the
verification method names: did:key (the key is in the name), did:web (the
issuer's ``did.json``) or an ``https://…#key`` URL (its controller document).
Every fetch is https only, to public addresses only, with a time limit and a
size limit (``fetching``), and is cached for the run. Offline nothing is fetched: the status list can be given as a file
(``--status-list``), else the revocation status is "unknown", never "valid".
"""

from __future__ import annotations

import base64
import io
import json
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ec import (
    SECP256R1,
    EllipticCurvePublicNumbers,
)
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from pypdf import PdfReader
from pypdf.errors import PyPdfError

from dcatalog.credentials.errors import CredentialError
from dcatalog.credentials.fetching import FetchFailed, fetch_json
from dcatalog.credentials.keys import (
    KeyResolver,
    KeyUnavailable,
    PublicKey,
    first_of,
    resolve_did_key,
)
from dcatalog.credentials.keystore import did_web_document_url
from dcatalog.credentials.limits import DEFAULT_LIMITS, Limits
from dcatalog.credentials.multikey import decode_any_public_key
from dcatalog.credentials.verification import (
    Check,
    StatusListUnavailable,
    check_credential,
    status_from_list,
)

Fetch = Callable[[str], Any]  # URL → parsed JSON, None, or raises FetchFailed
ATTACHMENT_NAME = "credential.json"  # the signed credential inside a PDF certificate


def json_fetcher(limits: Limits = DEFAULT_LIMITS) -> Fetch:
    """GET a URL as JSON within ``limits`` (https only, public addresses only,
    time, bytes, nesting: ``fetching``), each URL once per run: a failure is
    remembered too, so one unreachable host costs one timeout, not one per proof."""
    cache: dict[str, Any] = {}

    def fetch(url: str) -> Any:
        if url not in cache:
            try:
                cache[url] = fetch_json(url, limits)
            except FetchFailed as exc:
                cache[url] = exc
        found = cache[url]
        if isinstance(found, FetchFailed):
            raise found
        return found

    return fetch


def load_credential(source: str, fetch: Fetch) -> Any:
    """The credential at ``source``: a JSON file, a PDF certificate (its attached
    credential), or a URL (a ``/c/<id>`` page gives its
    ``credential.json``). Raises ``CredentialError`` when there is none."""
    if source.startswith(("https://", "http://")):
        why: list[str] = []
        found = _try(fetch, source, why)
        if not isinstance(found, dict):
            found = _try(fetch, source.rstrip("/") + "/credential.json", why)
        if not isinstance(found, dict):
            raise CredentialError(
                f"no credential (JSON) at {source}" + (f": {why[0]}" if why else "")
            )
        return found
    data = _read(source)
    if data.startswith(b"%PDF"):
        data = _attached_credential(data, source)
    return _parse(data, source)


def _try(fetch: Fetch, url: str, why: list[str]) -> Any:
    try:
        return fetch(url)
    except FetchFailed as exc:
        why.append(str(exc))
        return None


def _read(source: str) -> bytes:
    try:
        return Path(source).read_bytes()
    except OSError as exc:
        raise CredentialError(f"cannot read {source}: {exc}") from exc


def _parse(data: bytes, source: str) -> Any:
    try:
        return json.loads(data.decode("utf-8"))
    except (ValueError, UnicodeDecodeError) as exc:
        raise CredentialError(f"{source} is not JSON") from exc
    except RecursionError as exc:
        raise CredentialError(f"{source} is nested too deeply to read") from exc


def _attached_credential(pdf: bytes, source: str) -> bytes:
    """The signed credential our PDF certificates carry as ``credential.json``."""
    try:
        attachments = PdfReader(io.BytesIO(pdf)).attachments
        found = attachments.get(ATTACHMENT_NAME)
    except (PyPdfError, ValueError, KeyError) as exc:
        raise CredentialError(f"cannot read the PDF {source}: {exc}") from exc
    if not found:
        raise CredentialError(
            f"{source} is a PDF without an attached {ATTACHMENT_NAME}: not a D-Catalog certificate"
        )
    return found[0]


# --- keys ------------------------------------------------------------------------


def keys_from_controller_document(document: Any) -> dict[str, PublicKey]:
    """Verification method → public key, for every method a DID or controller
    document (W3C Controlled Identifiers) allows to make assertions: listed in
    ``assertionMethod`` by id, or embedded there. Multikey,
    Ed25519VerificationKey2020 (``publicKeyMultibase``) and JsonWebKey
    (``publicKeyJwk``, Ed25519 or P-256) are read; anything else is skipped."""
    found: dict[str, PublicKey] = {}
    if not isinstance(document, Mapping):
        return found
    base = str(document["id"]) if isinstance(document.get("id"), str) else ""
    methods = {}
    for method in _as_list(document.get("verificationMethod")):
        if isinstance(method, Mapping) and isinstance(method.get("id"), str):
            methods[_absolute(method["id"], base)] = method
    for allowed in _as_list(document.get("assertionMethod")):
        if isinstance(allowed, str):
            method_id = _absolute(allowed, base)
            method = methods.get(method_id)
        elif isinstance(allowed, Mapping) and isinstance(allowed.get("id"), str):
            method_id, method = _absolute(allowed["id"], base), allowed
        else:
            continue
        key = _public_key_of(method) if method is not None else None
        if key is not None:
            found[method_id] = key
    return found


def _public_key_of(method: Mapping[str, Any]) -> PublicKey | None:
    try:
        if isinstance(method.get("publicKeyMultibase"), str):
            return decode_any_public_key(method["publicKeyMultibase"])
        jwk = method.get("publicKeyJwk")
        if isinstance(jwk, Mapping):
            return _from_jwk(jwk)
    except (CredentialError, ValueError, TypeError):
        return None
    return None


def _from_jwk(jwk: Mapping[str, Any]) -> PublicKey | None:
    if jwk.get("kty") == "OKP" and jwk.get("crv") == "Ed25519":
        return Ed25519PublicKey.from_public_bytes(_b64url(jwk["x"]))
    if jwk.get("kty") == "EC" and jwk.get("crv") == "P-256":
        x, y = (int.from_bytes(_b64url(jwk[c]), "big") for c in ("x", "y"))
        return EllipticCurvePublicNumbers(x, y, SECP256R1()).public_key()
    return None


def _b64url(value: Any) -> bytes:
    text = str(value)
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def _absolute(method_id: str, base: str) -> str:
    return base + method_id if method_id.startswith("#") else method_id


def given_keys_resolver(keys: list[str]) -> KeyResolver:
    """The keys named on the command line: a public Multikey (``z6Mk…``,
    ``zDn…``) is trusted for a verification method that names it
    (``…#z6Mk…``); a file is read as a DID or controller document."""
    by_method: dict[str, PublicKey] = {}
    by_multikey: dict[str, PublicKey] = {}
    for given in keys:
        if given.startswith("z"):
            by_multikey[given] = decode_any_public_key(given)
            continue
        try:
            document = json.loads(Path(given).read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise CredentialError(
                f"--key {given}: neither a z6Mk… key nor a did.json file"
            ) from exc
        found = keys_from_controller_document(document)
        if not found:
            raise CredentialError(f"--key {given}: the document lists no assertion key")
        by_method.update(found)

    def resolve(method: str) -> PublicKey | None:
        return by_method.get(method) or by_multikey.get(method.rpartition("#")[2])

    return resolve


def controller_document_resolver(fetch: Fetch) -> KeyResolver:
    """Online: a did:web method is looked up in its issuer's ``did.json``, an
    ``https://…#key`` method in the document at its URL; the document's ``id``
    must be the DID or URL it was fetched for (else anyone serving a page could
    speak for the issuer)."""

    def resolve(method: str) -> PublicKey | None:
        controller = method.partition("#")[0]
        if controller.startswith("did:web:"):
            try:
                url = did_web_document_url(controller)
            except CredentialError:
                return None
        elif controller.startswith("https://"):
            url = controller
        else:
            return None
        try:
            document = fetch(url)
        except FetchFailed as exc:
            raise KeyUnavailable(str(exc)) from exc
        if not isinstance(document, Mapping):
            raise KeyUnavailable(f"no key document at {url}")
        if document.get("id") != controller:
            raise KeyUnavailable(f"the document at {url} is not {controller}'s")
        return keys_from_controller_document(document).get(method)

    return resolve


# --- status lists ------------------------------------------------------------------


def status_list_files(paths: list[str]) -> dict[str, Any]:
    """Status list credentials given as files, by their ``id``: offline, the id
    is the only link between a file and the URL a credential names."""
    lists: dict[str, Any] = {}
    for given in paths:
        document = _parse(_read(given), given)
        if not isinstance(document, Mapping) or not isinstance(document.get("id"), str):
            raise CredentialError(f"--status-list {given}: not a status list credential with an id")
        lists[document["id"]] = document
    return lists


def verify_source(
    source: str,
    keys: list[str],
    *,
    offline: bool,
    fetch: Fetch | None = None,
    status_lists: list[str] | None = None,
    limits: Limits = DEFAULT_LIMITS,
) -> Check:
    """Check the credential at ``source``. Raises ``CredentialError`` for a
    source, key or status list file that cannot be read."""
    fetch = fetch or json_fetcher(limits)
    if offline and source.startswith(("https://", "http://")):
        raise CredentialError("--offline needs a file, not a URL")
    document = load_credential(source, fetch)
    if keys:
        resolver = given_keys_resolver(keys)
    elif offline:
        resolver = resolve_did_key
    else:
        resolver = first_of(resolve_did_key, controller_document_resolver(fetch))
    given_lists = status_list_files(status_lists or [])

    def fetch_list(url: str) -> Any:
        if url in given_lists:
            return given_lists[url]
        if offline:
            raise StatusListUnavailable("offline, and no --status-list file for it")
        try:
            return fetch(url)
        except FetchFailed as exc:
            raise StatusListUnavailable(str(exc)) from exc

    status = status_from_list(fetch_list, resolver, limits=limits)
    return check_credential(document, resolver, status, limits=limits)
