"""Checking a credential end to end: signature, issuer, validity dates and
revocation, with a summary of what it attests. Used by the public verification
page, ``POST /api/v1/credentials/verify`` and ``dcatalog verify`` (offline).

Outcomes, worst first: ``malformed`` (not something we can check),
``unknown_issuer`` (no trusted key for its proof), ``tampered`` (the content is
not what was signed), ``revoked`` (genuine, but withdrawn by the issuer),
``expired`` (outside its validity dates), ``valid``. A revoked credential's signature is still checked first: a forged
credential pointing at a revoked entry is tampered, not revoked.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from dcatalog.credentials import status_list
from dcatalog.credentials.data_integrity import Verdict, verify_proof
from dcatalog.credentials.errors import CredentialError
from dcatalog.credentials.keys import KeyResolver
from dcatalog.credentials.multikey import decode_public_key

# The status of a credential's entry: True revoked, False not, None unknown.
StatusLookup = Callable[[Mapping[str, Any]], bool | None]
STATUS_LIST_PATH = re.compile(r"/credentials/status/(\d{1,9})$")


class Outcome(StrEnum):
    VALID = "valid"
    REVOKED = "revoked"
    EXPIRED = "expired"  # genuine, but outside its validFrom/validUntil window
    TAMPERED = "tampered"
    UNKNOWN_ISSUER = "unknown_issuer"
    MALFORMED = "malformed"


@dataclass(frozen=True)
class Result:
    """One line of what a credential attests (``30`` ``ชั่วโมง / hours``)."""

    label: str
    value: str


@dataclass(frozen=True)
class Attestation:
    """What a credential says, for people: nothing more than the credential holds."""

    name: str  # the credential's own name (Thai for ours)
    achievement: str
    achievement_en: str | None
    achievement_type: str | None
    term: str | None
    results: list[Result]
    issuer_name: str | None
    issuer_id: str | None
    valid_from: str | None
    activity_start: str | None
    activity_end: str | None

    @property
    def issued_at(self) -> datetime | None:
        """``valid_from`` as a time, when it is one (for pages to show locally)."""
        try:
            moment = datetime.fromisoformat(str(self.valid_from).replace("Z", "+00:00"))
        except ValueError:
            return None
        return moment if moment.tzinfo is not None else None

    def as_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "achievement": self.achievement,
            "achievement_en": self.achievement_en,
            "achievement_type": self.achievement_type,
            "term": self.term,
            "results": [{"label": r.label, "value": r.value} for r in self.results],
            "issuer": {"id": self.issuer_id, "name": self.issuer_name},
            "valid_from": self.valid_from,
            "activity_start": self.activity_start,
            "activity_end": self.activity_end,
        }


@dataclass(frozen=True)
class Check:
    outcome: Outcome
    reason: str
    attestation: Attestation | None = None
    status_checked: bool = False
    verification_method: str | None = None
    notes: list[str] = field(default_factory=list)

    @property
    def valid(self) -> bool:
        return self.outcome is Outcome.VALID

    def as_dict(self) -> dict[str, Any]:
        return {
            "outcome": self.outcome.value,
            "valid": self.valid,
            "reason": self.reason,
            "status_checked": self.status_checked,
            "verification_method": self.verification_method,
            "attests": self.attestation.as_dict() if self.attestation else None,
            "notes": self.notes,
        }


def check_credential(
    document: Any,
    resolve_key: KeyResolver,
    status: StatusLookup | None,
    *,
    now: datetime | None = None,
) -> Check:
    """The outcome for ``document`` (parsed JSON). Never raises for bad input."""
    if not isinstance(document, Mapping):
        return Check(Outcome.MALFORMED, "the credential is not a JSON object")
    attestation = attestation_of(document)
    proof = verify_proof(document, resolve_key)
    method = proof.verification_method

    def result(outcome: Outcome, reason: str, **extra: Any) -> Check:
        return Check(outcome, reason, attestation, verification_method=method, **extra)

    if proof.verdict is Verdict.MALFORMED:
        return result(Outcome.MALFORMED, proof.reason)
    if proof.verdict is Verdict.UNKNOWN_KEY:
        return result(Outcome.UNKNOWN_ISSUER, proof.reason)
    if proof.verdict is Verdict.TAMPERED:
        return result(Outcome.TAMPERED, proof.reason)
    issuer_id = attestation.issuer_id if attestation else None
    if method is None or issuer_id is None or method.split("#", 1)[0] != issuer_id:
        return result(
            Outcome.UNKNOWN_ISSUER, "the signing key does not belong to the issuer it names"
        )
    window = _outside_validity(document, now or datetime.now(UTC))
    if window is not None:
        return result(*window)
    entry = document.get("credentialStatus")
    if entry is None:
        return result(Outcome.VALID, "the signature matches; it has no revocation entry")
    if not isinstance(entry, Mapping):
        return result(Outcome.MALFORMED, "credentialStatus is not an object")
    revoked = status(entry) if status is not None else None
    if revoked is None:
        return result(
            Outcome.VALID,
            "the signature matches; its revocation status could not be checked",
            notes=["revocation status not checked"],
        )
    if revoked:
        return result(Outcome.REVOKED, "the issuer has revoked it", status_checked=True)
    return result(Outcome.VALID, "the signature matches and it is not revoked", status_checked=True)


def _outside_validity(document: Mapping[str, Any], now: datetime) -> tuple[Outcome, str] | None:
    for name, starts in (("validFrom", True), ("validUntil", False)):
        value = document.get(name)
        if value is None:
            continue
        try:
            moment = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
        except ValueError:
            return Outcome.MALFORMED, f"{name} is not a date and time"
        if moment.tzinfo is None:
            return Outcome.MALFORMED, f"{name} has no time zone"
        if starts and moment > now:
            return Outcome.EXPIRED, f"it is not valid before {value}"
        if not starts and moment < now:
            return Outcome.EXPIRED, f"it expired at {value}"
    return None


def attestation_of(document: Mapping[str, Any]) -> Attestation | None:
    """What an Open Badges credential attests, read defensively (any shape)."""
    subject = document.get("credentialSubject")
    if isinstance(subject, list) and subject:
        subject = subject[0]
    if not isinstance(subject, Mapping):
        return None
    achievement = subject.get("achievement")
    achievement = achievement if isinstance(achievement, Mapping) else {}
    descriptions = {
        str(d.get("id")): _text(d.get("name"))
        for d in achievement.get("resultDescription") or []
        if isinstance(d, Mapping)
    }
    results = [
        Result(descriptions.get(str(r.get("resultDescription")), "") or "", _text(r.get("value")))
        for r in subject.get("result") or []
        if isinstance(r, Mapping)
    ]
    english = None
    for related in achievement.get("related") or []:
        if isinstance(related, Mapping) and related.get("inLanguage") == "en":
            english = _text(related.get("name")) or None
    issuer = document.get("issuer")
    issuer_id = issuer if isinstance(issuer, str) else None
    issuer_name = None
    if isinstance(issuer, Mapping):
        issuer_id = _text(issuer.get("id")) or None
        issuer_name = _text(issuer.get("name")) or None
    return Attestation(
        name=_text(document.get("name")),
        achievement=_text(achievement.get("name")),
        achievement_en=english,
        achievement_type=_text(achievement.get("achievementType")) or None,
        term=_text(subject.get("term")) or None,
        results=results,
        issuer_name=issuer_name,
        issuer_id=issuer_id,
        valid_from=_text(document.get("validFrom")) or None,
        activity_start=_text(subject.get("activityStartDate")) or None,
        activity_end=_text(subject.get("activityEndDate")) or None,
    )


def _text(value: Any) -> str:
    return value if isinstance(value, str) else ("" if value is None else str(value))


# --- resolvers and status lookups ---------------------------------------------------


def published_key_resolver(public_multikeys: list[str]) -> KeyResolver:
    """Our published keys, named ``did:web:<host>#<key>``: trust follows the key
    (only we hold its private half), whichever address the credential was
    issued under."""
    keys = {multikey: decode_public_key(multikey) for multikey in public_multikeys}

    def resolve(method: str) -> Ed25519PublicKey | None:
        did, _, fragment = method.partition("#")
        if not did.startswith("did:web:"):
            return None
        return keys.get(fragment)

    return resolve


def status_entry_position(entry: Mapping[str, Any]) -> tuple[int, int] | None:
    """(list number, index) of an entry that points at one of our status lists."""
    url = entry.get("statusListCredential")
    raw_index = entry.get("statusListIndex")
    if entry.get("statusPurpose") != "revocation" or not isinstance(url, str):
        return None
    match = STATUS_LIST_PATH.search(url)
    if not match or not (isinstance(raw_index, str) and raw_index.isdigit()):
        return None
    index = int(raw_index)
    return (int(match.group(1)), index) if index < status_list.MIN_ENTRIES else None


def status_from_list(fetch_list: Callable[[str], Any], resolve_key: KeyResolver) -> StatusLookup:
    """A lookup that reads a published status list (``fetch_list(url)`` gives its
    parsed JSON, or None when it cannot be had) after checking the list's own
    proof. Any failure leaves the status unknown, never "not revoked"."""

    def lookup(entry: Mapping[str, Any]) -> bool | None:
        url = entry.get("statusListCredential")
        if not isinstance(url, str):
            return None
        listed = fetch_list(url)
        if not isinstance(listed, Mapping) or not verify_proof(listed, resolve_key).valid:
            return None
        try:
            return status_list.is_flagged(entry, listed)
        except CredentialError:
            return None

    return lookup
