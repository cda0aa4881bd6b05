"""The shipped JSON-LD contexts are the recorded files, and nothing is fetched."""

from __future__ import annotations

import hashlib
from importlib import resources

import pytest

from dcatalog.credentials.jsonld_contexts import (
    CREDENTIALS_V2,
    OPEN_BADGES_V3,
    SHIPPED_CONTEXTS,
    UnknownContext,
    shipped_context_urls,
)

# The digests recorded in src/dcatalog/credentials/contexts/SOURCES.md.
DIGESTS = {
    "credentials-v2.jsonld": "8a9f494a89ecc51db093e90e84713e07e84d6d9204364a9b3c7868b21751236f",
    "ob-v3p0-context-3.0.3.jsonld": "ef2fa9c7846dce233cc166b43639027278be4ee44f00bb1d45c75de2dd0cd761",
}


@pytest.mark.parametrize(("name", "digest"), DIGESTS.items())
def test_shipped_context_files_are_the_recorded_ones(name: str, digest: str) -> None:
    folder = resources.files("dcatalog.credentials").joinpath("contexts")
    data = folder.joinpath(name).read_bytes()
    assert hashlib.sha256(data).hexdigest() == digest
    sources = folder.joinpath("SOURCES.md").read_text("utf-8")
    assert digest in sources


def test_the_credential_contexts_are_shipped() -> None:
    assert shipped_context_urls() == {CREDENTIALS_V2, OPEN_BADGES_V3}
    assert "VerifiableCredential" in SHIPPED_CONTEXTS.document(CREDENTIALS_V2)["@context"]
    assert "OpenBadgeCredential" in SHIPPED_CONTEXTS.document(OPEN_BADGES_V3)["@context"]


def test_each_load_is_a_fresh_copy() -> None:
    # The JSON-LD processor edits contexts in place; a shared copy would drift.
    first = SHIPPED_CONTEXTS.document(CREDENTIALS_V2)
    first["@context"]["id"] = "changed"
    assert SHIPPED_CONTEXTS.document(CREDENTIALS_V2)["@context"]["id"] == "@id"


def test_an_unshipped_context_is_unknown_rather_than_fetched() -> None:
    with pytest.raises(UnknownContext):
        SHIPPED_CONTEXTS.document("https://www.w3.org/ns/credentials/examples/v2")
