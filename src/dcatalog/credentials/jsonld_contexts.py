"""JSON-LD contexts from local copies: expansion never touches the network.

A verifier that fetched contexts at run time could be fed a different meaning
for the same URL (the VC Data Integrity spec warns about exactly this), and the
service must work offline. So every context a credential may name is shipped
with the package, and a document naming any other context cannot be
canonicalised: it is reported as malformed, not fetched.

Where each file comes from, and its licence, is in contexts/SOURCES.md.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

CREDENTIALS_V2 = "https://www.w3.org/ns/credentials/v2"
OPEN_BADGES_V3 = "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json"

CREDENTIALS_V1 = "https://www.w3.org/2018/credentials/v1"
OPEN_BADGES_EXTENSIONS = "https://purl.imsglobal.org/spec/ob/v3p0/extensions.json"

# URL → file name in the contexts folder beside this module. Besides what we
# issue with: the earlier OB 3.0 context versions (3.0.0 is the unversioned
# context.json) and 1EdTech's extensions context, VC 1.1, and the contexts of
# the proof suites other issuers use (Ed25519Signature2020, Data Integrity v1/v2).
_SHIPPED: dict[str, str] = {
    CREDENTIALS_V2: "credentials-v2.jsonld",
    OPEN_BADGES_V3: "ob-v3p0-context-3.0.3.jsonld",
    CREDENTIALS_V1: "credentials-v1.jsonld",
    "https://purl.imsglobal.org/spec/ob/v3p0/context.json": "ob-v3p0-context-3.0.0.jsonld",
    "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.1.json": "ob-v3p0-context-3.0.1.jsonld",
    "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.2.json": "ob-v3p0-context-3.0.2.jsonld",
    OPEN_BADGES_EXTENSIONS: "ob-v3p0-extensions.jsonld",
    "https://w3id.org/security/suites/ed25519-2020/v1": "ed25519-signature-2020-v1.jsonld",
    "https://w3id.org/security/data-integrity/v1": "data-integrity-v1.jsonld",
    "https://w3id.org/security/data-integrity/v2": "data-integrity-v2.jsonld",
}


class UnknownContext(LookupError):
    """A document names a context that is not shipped with the service."""


@cache
def shipped_context_text(url: str) -> str:
    name = _SHIPPED.get(url)
    if name is None:
        raise UnknownContext(url)
    return resources.files("dcatalog.credentials").joinpath("contexts", name).read_text("utf-8")


def shipped_context_urls() -> frozenset[str]:
    return frozenset(_SHIPPED)


class ContextLibrary:
    """The contexts one canonicalisation may use: the shipped ones plus ``extra``
    (context document texts by URL, e.g. the test vectors' example contexts)."""

    def __init__(self, extra: Mapping[str, str] | None = None) -> None:
        self._extra = dict(extra or {})

    @classmethod
    def with_files(cls, files: Mapping[str, Path]) -> ContextLibrary:
        return cls({url: path.read_text("utf-8") for url, path in files.items()})

    def document(self, url: str) -> dict[str, Any]:
        """A fresh parse on every call: the JSON-LD processor edits what it is
        given (it resolves relative URLs in place), so nothing may be shared."""
        text = self._extra.get(url)
        if text is None:
            text = shipped_context_text(url)
        document: dict[str, Any] = json.loads(text)
        return document


SHIPPED_CONTEXTS = ContextLibrary()
