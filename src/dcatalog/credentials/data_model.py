"""The Open Badges 3.0 data model, checked with 1EdTech's own JSON Schema.

A signature only says who signed; the schema says whether what they signed is
an Open Badges 3.0 credential at all (an ``OpenBadgeCredential`` with an issuer
``Profile``, ``validFrom``, an ``AchievementSubject`` with an ``Achievement`` …).
The official achievement-credential schema is vendored in ``schemas/`` (see
its SOURCES.md); it covers the credential, its endorsements and every profile
in it (they are its ``$defs``). Each error is reported with its JSON Pointer.

Where we are lenient, and why:

- ``proof`` as a single object: the schema wants a list, but VC Data
  Integrity allows either, and credentials we issued before 2026-12 carry one
  object. It is checked as a one-element list.
- VC Data Model 1.1 credentials (``https://www.w3.org/2018/credentials/v1``,
  the earlier OB 3.0 context versions): checked against the same schema with
  ``issuanceDate`` / ``expirationDate`` read as ``validFrom`` / ``validUntil``
  and the base context as v2, since VC 1.1 names the same things so.

Embedded endorsements (wherever an ``endorsement`` list is) are also checked
one by one against the schema's ``EndorsementCredential`` definition (the
published endorsement-credential schema holds the same definitions), so each
is reported with its own pointer; the issuer ``Profile`` is checked as part of
the credential (``ProfileRef``).

Then one rule the schema cannot express (OB 3.0 §B.1.2 AchievementSubject):
the subject needs an ``id`` or at least one ``identifier``.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any

from jsonschema import Draft201909Validator  # type: ignore[import-untyped]

CREDENTIALS_V1 = "https://www.w3.org/2018/credentials/v1"
CREDENTIALS_V2 = "https://www.w3.org/ns/credentials/v2"
SCHEMA_FILE = "ob_v3p0_achievementcredential_schema.json"
MAX_ERRORS = 20
MAX_MESSAGE = 200


@dataclass(frozen=True)
class DataModelError:
    pointer: str  # RFC 6901 JSON Pointer into the credential, "" for the whole
    message: str


@cache
def _validator() -> Draft201909Validator:
    text = resources.files("dcatalog.credentials").joinpath("schemas", SCHEMA_FILE).read_text()
    return Draft201909Validator(json.loads(text))


@cache
def _definition_validator(name: str) -> Draft201909Validator:
    """A validator for one of the schema's ``$defs`` (``EndorsementCredential``,
    ``Profile``): the same definitions 1EdTech publishes as the endorsement
    and profile schemas, resolved against the vendored file."""
    root = _validator().schema
    return Draft201909Validator(
        {"$schema": root["$schema"], "$defs": root["$defs"], "$ref": f"#/$defs/{name}"}
    )


def endorsement_errors_of(endorsement: Mapping[str, Any], at: str) -> list[DataModelError]:
    """Every way an embedded ``endorsement`` (at JSON Pointer ``at``) is not an
    Open Badges 3.0 EndorsementCredential, with pointers into the whole credential."""
    candidate = _as_checked(endorsement)
    found = sorted(
        _definition_validator("EndorsementCredential").iter_errors(candidate),
        key=lambda e: [str(p) for p in e.absolute_path],
    )
    return [DataModelError(at + _pointer(e.absolute_path), _short(e.message)) for e in found][
        :MAX_ERRORS
    ]


def endorsements_in(document: Any) -> list[tuple[str, Any]]:
    """(JSON Pointer, value) of every embedded endorsement: an item of an
    ``endorsement`` list wherever it is (the credential, its issuer profile, the
    achievement, its creator, endorsements of endorsers …). Iterative: the
    document is within the verifier's limits but still hostile."""
    found: list[tuple[str, Any]] = []
    stack: list[tuple[str, Any]] = [("", document)]
    while stack:
        at, value = stack.pop()
        if isinstance(value, Mapping):
            for key, child in value.items():
                where = f"{at}/{_escape(str(key))}"
                if key == "endorsement" and isinstance(child, list):
                    found.extend((f"{where}/{i}", item) for i, item in enumerate(child))
                if key != "proof":
                    stack.append((where, child))
        elif isinstance(value, list):
            stack.extend((f"{at}/{i}", child) for i, child in enumerate(value))
    return sorted(found, key=lambda item: item[0])


def errors_of(document: Mapping[str, Any]) -> list[DataModelError]:
    """Every way ``document`` is not an Open Badges 3.0 credential (at most
    ``MAX_ERRORS``), first by position. Empty when it is one. The document must
    already be within the verifier's size and depth limits."""
    candidate = _as_checked(document)
    found = sorted(
        _validator().iter_errors(candidate), key=lambda e: [str(p) for p in e.absolute_path]
    )
    errors = [DataModelError(_pointer(e.absolute_path), _short(e.message)) for e in found]
    subject = candidate.get("credentialSubject")
    if isinstance(subject, Mapping) and "id" not in subject and not subject.get("identifier"):
        errors.append(
            DataModelError(
                "/credentialSubject", "an AchievementSubject needs an id or an identifier"
            )
        )
    return errors[:MAX_ERRORS]


def _as_checked(document: Mapping[str, Any]) -> dict[str, Any]:
    candidate = dict(document)
    proof = candidate.get("proof")
    if isinstance(proof, Mapping):
        candidate["proof"] = [proof]
    contexts = candidate.get("@context")
    if isinstance(contexts, list) and contexts and contexts[0] == CREDENTIALS_V1:
        candidate["@context"] = [CREDENTIALS_V2, *contexts[1:]]
        for old, new in (("issuanceDate", "validFrom"), ("expirationDate", "validUntil")):
            if old in candidate and new not in candidate:
                candidate[new] = candidate.pop(old)
    return candidate


def _pointer(path: Any) -> str:
    return "".join("/" + _escape(str(part)) for part in path)


def _escape(part: str) -> str:
    return part.replace("~", "~0").replace("/", "~1")


def _short(message: str) -> str:
    return message if len(message) <= MAX_MESSAGE else message[: MAX_MESSAGE - 1] + "…"
