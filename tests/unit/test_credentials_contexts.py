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
    "credentials-v1.jsonld": "00d7dd6d3ad8b920e3e550dd3a3d9090bffcac84cdbf943da6924b3e0a5c8bb8",
    "ob-v3p0-context-3.0.0.jsonld": "9f1c8f9f361ba2994b9b50701f41149919542c50c7b7455b2846d87959295d72",
    "ob-v3p0-context-3.0.1.jsonld": "af095468326d3449160509b26ca71576e6321d13c85b0369cfe3b654c9a48fba",
    "ob-v3p0-context-3.0.2.jsonld": "00666ad080ba407687ed1846b7f5e7495f5019042b202a727de47c48a1755c53",
    "ob-v3p0-extensions.jsonld": "2d013f981d1f4516081a6a04e55468ba2b071d4153b794f19a79715c45a89a5e",
    "ed25519-signature-2020-v1.jsonld": "b9e1ab971fd8bf2c7553e0c4a9438e0b9450afde1ea1ca5b2492368b9f549588",
    "data-integrity-v1.jsonld": "b5d829bd09aa7c42abc6efa0c8ed7635313b5487f37ccfce3ecd149ca9418554",
    "data-integrity-v2.jsonld": "0f77743daf5b4e8fc067fc5ba5b21044283053aa717fc6b0219843bed3b00363",
}


@pytest.mark.parametrize(("name", "digest"), DIGESTS.items())
def test_shipped_context_files_are_the_recorded_ones(name: str, digest: str) -> None:
    folder = resources.files("dcatalog.credentials").joinpath("contexts")
    data = folder.joinpath(name).read_bytes()
    assert hashlib.sha256(data).hexdigest() == digest
    sources = folder.joinpath("SOURCES.md").read_text("utf-8")
    assert digest in sources


def test_the_credential_contexts_are_shipped() -> None:
    assert {CREDENTIALS_V2, OPEN_BADGES_V3} <= shipped_context_urls()
    assert len(shipped_context_urls()) == len(DIGESTS)
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
