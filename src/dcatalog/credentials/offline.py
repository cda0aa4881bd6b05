"""Checking a credential away from the service (``dcatalog verify``).

Trust comes from the keys the user gives (``--key``: a public Multikey or a
did:web document saved as a file) or, online, from the issuer's did:web
document. Offline, nothing is fetched: the signature is checked and the
revocation status is reported as not checked.
"""

from __future__ import annotations

import io
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx2 as httpx
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from pypdf import PdfReader
from pypdf.errors import PyPdfError

from dcatalog.credentials.errors import CredentialError
from dcatalog.credentials.keys import KeyResolver, first_of, resolve_did_key
from dcatalog.credentials.keystore import did_web_document_url, keys_from_did_document
from dcatalog.credentials.multikey import decode_public_key
from dcatalog.credentials.verification import Check, check_credential, status_from_list

Fetch = Callable[[str], Any]  # URL → parsed JSON, or None
TIMEOUT_SECONDS = 10.0
MAX_BYTES = 16 * 1024 * 1024
ATTACHMENT_NAME = "credential.json"  # the signed credential inside a PDF certificate


def fetch_json(url: str) -> Any:
    """GET ``url`` as JSON; None when it cannot be had (any failure)."""
    try:
        response = httpx.get(
            url,
            headers={"Accept": "application/vc+ld+json, application/json;q=0.9"},
            timeout=TIMEOUT_SECONDS,
            follow_redirects=True,
        )
    except httpx.HTTPError:
        return None
    if response.status_code != 200 or len(response.content) > MAX_BYTES:
        return None
    try:
        return response.json()
    except ValueError:
        return None


def load_credential(source: str, fetch: Fetch) -> Any:
    """The credential at ``source``: a JSON file, a PDF certificate (its attached
    credential), or a URL (a ``/c/<id>`` page gives its
    ``credential.json``). Raises ``CredentialError`` when there is none."""
    if source.startswith(("https://", "http://")):
        found = fetch(source)
        if not isinstance(found, dict):
            found = fetch(source.rstrip("/") + "/credential.json")
        if not isinstance(found, dict):
            raise CredentialError(f"no credential (JSON) at {source}")
        return found
    path = Path(source)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise CredentialError(f"cannot read {source}: {exc}") from exc
    if data.startswith(b"%PDF"):
        data = _attached_credential(data, source)
    try:
        return json.loads(data.decode("utf-8"))
    except (ValueError, UnicodeDecodeError) as exc:
        raise CredentialError(f"{source} is not JSON") from exc


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


def given_keys_resolver(keys: list[str]) -> KeyResolver:
    """The keys named on the command line: a public Multikey (``z6Mk…``) is trusted
    for a verification method that names it (``…#z6Mk…``); a file is read as a
    did:web document."""
    by_method: dict[str, Ed25519PublicKey] = {}
    by_multikey: dict[str, Ed25519PublicKey] = {}
    for given in keys:
        if given.startswith("z"):
            by_multikey[given] = decode_public_key(given)
            continue
        try:
            document = json.loads(Path(given).read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise CredentialError(
                f"--key {given}: neither a z6Mk… key nor a did.json file"
            ) from exc
        found = keys_from_did_document(document)
        if not found:
            raise CredentialError(f"--key {given}: the document lists no assertion key")
        by_method.update(found)

    def resolve(method: str) -> Ed25519PublicKey | None:
        return by_method.get(method) or by_multikey.get(method.rpartition("#")[2])

    return resolve


def did_web_resolver(fetch: Fetch) -> KeyResolver:
    """Online: a did:web verification method is looked up in its issuer's
    did.json (fetched once per DID)."""
    documents: dict[str, dict[str, Ed25519PublicKey]] = {}

    def resolve(method: str) -> Ed25519PublicKey | None:
        did = method.partition("#")[0]
        if did not in documents:
            try:
                document = fetch(did_web_document_url(did))
            except CredentialError:
                document = None
            ok = isinstance(document, dict) and document.get("id") == did
            documents[did] = keys_from_did_document(document) if ok else {}
        return documents[did].get(method)

    return resolve


def verify_source(
    source: str, keys: list[str], *, offline: bool, fetch: Fetch | None = None
) -> Check:
    """Check the credential at ``source``. Raises ``CredentialError`` for a
    source or key that cannot be read."""
    fetch = fetch or fetch_json
    if offline and source.startswith(("https://", "http://")):
        raise CredentialError("--offline needs a file, not a URL")
    document = load_credential(source, fetch)
    if keys:
        resolver = given_keys_resolver(keys)
    elif offline:
        resolver = resolve_did_key
    else:
        resolver = first_of(resolve_did_key, did_web_resolver(fetch))
    status = None if offline else status_from_list(fetch, resolver)
    return check_credential(document, resolver, status)
