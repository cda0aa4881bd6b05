"""Checking a credential end to end, failing closed. Used by the public
verification page, ``POST /api/v1/credentials/verify`` and ``dcatalog verify``.

The answer is one of four ``Outcome``s, and never ``valid`` when a check could
not be made:

- ``valid``: every check passed;
- ``invalid``: a check failed (tampered, malformed, not an Open Badges 3.0
  credential by its JSON Schema, outside its validity dates, signed by a key
  that is not its issuer's, too large or too deeply nested to check);
- ``revoked``: genuine, but its issuer has revoked (or suspended) it;
- ``unknown``: a check could not be made (no trusted key, a key or status list
  that cannot be fetched or read): the reason says which.

Each check (structure, signature, issuer, data model, endorsements, dates,
status) is listed
with its own result, so a person sees what was verified. ``problem`` names the
first failure in a word for programs (``tampered``, ``expired``,
``not_yet_valid``, ``status_unknown`` …). A credential whose signature fails is
invalid whatever its status: a forged credential pointing at a revoked entry is
tampered, not revoked.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from dcatalog.credentials import data_model, status_list
from dcatalog.credentials.data_integrity import (
    Verdict,
    VerificationResult,
    verify_proofs,
)
from dcatalog.credentials.errors import CredentialError
from dcatalog.credentials.keys import KeyResolver, PublicKey
from dcatalog.credentials.limits import DEFAULT_LIMITS, Limits, TooComplex, check_shape
from dcatalog.credentials.multikey import decode_any_public_key

STATUS_LIST_PATH = re.compile(r"/credentials/status/(\d{1,9})$")
_DATE_TIME_STAMP = re.compile(
    r"^-?\d{4,}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$"
)


class Outcome(StrEnum):
    VALID = "valid"
    INVALID = "invalid"
    REVOKED = "revoked"
    UNKNOWN = "unknown"  # a check could not be made; never "valid"


class Result(StrEnum):
    PASSED = "passed"
    FAILED = "failed"
    UNKNOWN = "unknown"
    NOT_APPLICABLE = "not_applicable"


@dataclass(frozen=True)
class CheckLine:
    """One check and its result, e.g. ``signature: passed``."""

    name: str  # structure, signature, issuer, data_model, endorsements, dates, status
    result: Result
    detail: str
    problem: str | None = None  # for a failed or unknown check: its word
    errors: list[dict[str, str]] = field(default_factory=list)  # data model: pointer, message

    def as_dict(self) -> dict[str, Any]:
        return {
            "check": self.name,
            "result": self.result.value,
            "detail": self.detail,
            "problem": self.problem,
            "errors": self.errors,
        }


@dataclass(frozen=True)
class StatusAnswer:
    """What a status lookup found: ``ok``, ``revoked``, ``suspended`` or ``unknown``."""

    state: str
    reason: str

    @classmethod
    def unknown(cls, reason: str) -> StatusAnswer:
        return cls("unknown", reason)


# (credentialStatus entry, the credential's issuer id) → what its list says.
StatusLookup = Callable[[Mapping[str, Any], str | None], StatusAnswer]


@dataclass(frozen=True)
class ResultLine:
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
    results: list[ResultLine]
    issuer_name: str | None
    issuer_id: str | None
    valid_from: str | None
    activity_start: str | None
    activity_end: str | None
    creator_name: str | None = None  # the achievement's creator: the partner who thanks

    @property
    def issued_at(self) -> datetime | None:
        """``valid_from`` as a time, when it is one (for pages to show locally)."""
        return _moment(self.valid_from)

    @property
    def activity_ended_at(self) -> datetime | None:
        """``activity_end`` as a time: for an award, when the milestone was reached."""
        return _moment(self.activity_end)

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
            "creator": self.creator_name,
        }


@dataclass(frozen=True)
class Check:
    outcome: Outcome
    reason: str
    attestation: Attestation | None = None
    problem: str | None = None
    checks: list[CheckLine] = field(default_factory=list)
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
            "problem": self.problem,
            "reason": self.reason,
            "checks": [line.as_dict() for line in self.checks],
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
    limits: Limits = DEFAULT_LIMITS,
) -> Check:
    """The outcome for ``document`` (parsed JSON). Never raises for bad input."""
    if not isinstance(document, Mapping):
        line = CheckLine(
            "structure", Result.FAILED, "the credential is not a JSON object", "malformed"
        )
        return _decide([line], None, None)
    try:
        check_shape(document, limits)
    except TooComplex as exc:
        line = CheckLine("structure", Result.FAILED, f"the credential is {exc}", "too_complex")
        return _decide([line], None, None)
    lines = [CheckLine("structure", Result.PASSED, "a JSON object within the verifier's limits")]
    attestation = attestation_of(document)
    proofs = verify_proofs(document, resolve_key, limits=limits)
    lines.append(_signature_line(proofs))
    issuer_id = attestation.issuer_id if attestation else None
    lines.append(_issuer_line(proofs, issuer_id))
    lines.append(_data_model_line(document))
    lines.append(_endorsements_line(document, resolve_key, limits))
    lines.append(_dates_line(document, now or datetime.now(UTC)))
    signed = lines[1].result is Result.PASSED and lines[2].result is Result.PASSED
    lines.append(_status_line(document, status, issuer_id, trusted=signed))
    methods = [p.verification_method for p in proofs if p.verification_method]
    return _decide(lines, attestation, methods[0] if methods else None)


def too_deeply_nested(limits: Limits = DEFAULT_LIMITS) -> Check:
    """The answer for JSON nested past what even the JSON parser reads."""
    detail = f"the credential is too deeply nested: more than {limits.max_depth} levels"
    return _decide([CheckLine("structure", Result.FAILED, detail, "too_complex")], None, None)


def _decide(lines: list[CheckLine], attestation: Attestation | None, method: str | None) -> Check:
    status = next((line for line in lines if line.name == "status"), None)
    checked = status is not None and status.result is Result.PASSED
    revoked = status is not None and status.problem in ("revoked", "suspended")

    def answer(outcome: Outcome, line: CheckLine | None, reason: str) -> Check:
        return Check(
            outcome,
            reason,
            attestation,
            problem=line.problem if line else None,
            checks=lines,
            status_checked=checked or revoked,
            verification_method=method,
        )

    for line in lines:
        if line.result is Result.FAILED and line.problem not in ("revoked", "suspended"):
            return answer(Outcome.INVALID, line, line.detail)
    if revoked and status is not None:
        return answer(Outcome.REVOKED, status, status.detail)
    for line in lines:
        if line.result is Result.UNKNOWN:
            return answer(
                Outcome.UNKNOWN, line, f"could not check its {_NAMES[line.name]}: {line.detail}"
            )
    if status is not None and status.result is Result.NOT_APPLICABLE:
        return answer(Outcome.VALID, None, "every check passed; it has no revocation entry")
    return answer(Outcome.VALID, None, "every check passed and it is not revoked")


_NAMES = {
    "structure": "structure",
    "signature": "signature",
    "issuer": "issuer",
    "data_model": "data model",
    "endorsements": "endorsements",
    "dates": "validity dates",
    "status": "revocation status",
}
_PROBLEM_OF_VERDICT = {
    Verdict.MALFORMED: "malformed",
    Verdict.TAMPERED: "tampered",
    Verdict.TOO_COMPLEX: "too_complex",
}


def _signature_line(proofs: list[VerificationResult]) -> CheckLine:
    for proof in proofs:
        if proof.verdict in _PROBLEM_OF_VERDICT:
            return CheckLine(
                "signature", Result.FAILED, proof.reason, _PROBLEM_OF_VERDICT[proof.verdict]
            )
    for proof in proofs:
        if proof.verdict is Verdict.UNKNOWN_KEY:
            return CheckLine("signature", Result.UNKNOWN, proof.reason, "unknown_issuer")
    suites = ", ".join(sorted({p.cryptosuite or "?" for p in proofs}))
    count = "the signature matches" if len(proofs) == 1 else f"all {len(proofs)} signatures match"
    return CheckLine("signature", Result.PASSED, f"{count} ({suites})")


def _issuer_line(proofs: list[VerificationResult], issuer_id: str | None) -> CheckLine:
    if issuer_id is None:
        return CheckLine("issuer", Result.FAILED, "the credential names no issuer", "malformed")
    if not all(p.valid for p in proofs):
        return CheckLine("issuer", Result.UNKNOWN, "not checked: the signature was not verified")
    # The key's controller is the DID or URL before the fragment; one of the
    # proofs (the others may be endorsers') must be the issuer's own.
    if any((p.verification_method or "").split("#", 1)[0] == issuer_id for p in proofs):
        return CheckLine("issuer", Result.PASSED, f"signed with a key of {issuer_id}")
    return CheckLine(
        "issuer",
        Result.FAILED,
        "the signing key does not belong to the issuer it names",
        "issuer_mismatch",
    )


def _data_model_line(document: Mapping[str, Any]) -> CheckLine:
    errors = data_model.errors_of(document)
    if not errors:
        return CheckLine(
            "data_model", Result.PASSED, "an Open Badges 3.0 credential (1EdTech JSON Schema)"
        )
    first = errors[0]
    detail = f"not a valid Open Badges 3.0 credential: {first.pointer or '/'}: {first.message}"
    if len(errors) > 1:
        detail += f" (and {len(errors) - 1} more)"
    return CheckLine(
        "data_model",
        Result.FAILED,
        detail,
        "data_model",
        [{"pointer": e.pointer, "message": e.message} for e in errors],
    )


def _endorsements_line(
    document: Mapping[str, Any], resolve_key: KeyResolver, limits: Limits
) -> CheckLine:
    """Each embedded endorsement is a credential of its own: its data model
    (the EndorsementCredential schema), its proofs (the same suites and key
    lookups as the credential's) and its issuer's key, reported with its JSON
    Pointer. A broken endorsement fails the credential (it carries a false
    claim); one whose key cannot be looked up leaves it unknown (fail closed)."""
    found = data_model.endorsements_in(document)
    if not found:
        return CheckLine("endorsements", Result.NOT_APPLICABLE, "it carries no endorsement")
    failures: list[dict[str, str]] = []
    unknown: list[dict[str, str]] = []
    passed: list[dict[str, str]] = []
    for pointer, endorsement in found:
        if not isinstance(endorsement, Mapping):
            failures.append({"pointer": pointer, "message": "an endorsement is not an object"})
            continue
        schema = data_model.endorsement_errors_of(endorsement, pointer)
        failures.extend({"pointer": e.pointer, "message": e.message} for e in schema)
        proofs = verify_proofs(endorsement, resolve_key, limits=limits)
        signature = _signature_line(proofs)
        endorser = _issuer_id_of(endorsement)
        if signature.result is Result.FAILED:
            failures.append({"pointer": pointer, "message": f"its signature: {signature.detail}"})
        elif signature.result is Result.UNKNOWN:
            unknown.append({"pointer": pointer, "message": signature.detail})
        elif (issuer := _issuer_line(proofs, endorser)).result is Result.FAILED:
            failures.append({"pointer": pointer, "message": f"its issuer: {issuer.detail}"})
        elif not schema:
            passed.append({"pointer": pointer, "message": f"verified: endorsed by {endorser}"})
    if failures:
        first = failures[0]
        detail = f"an endorsement does not hold: {first['pointer']}: {first['message']}"
        return CheckLine("endorsements", Result.FAILED, detail, "endorsement", failures)
    if unknown:
        first = unknown[0]
        detail = f"an endorsement could not be checked: {first['pointer']}: {first['message']}"
        return CheckLine("endorsements", Result.UNKNOWN, detail, "endorsement_unknown", unknown)
    count = "its endorsement holds" if len(passed) == 1 else f"all {len(passed)} endorsements hold"
    return CheckLine(
        "endorsements",
        Result.PASSED,
        f"{count} (data model, signature, endorser)",
        errors=passed,
    )


def _dates_line(document: Mapping[str, Any], now: datetime) -> CheckLine:
    """VC Data Model 2.0 §4.9: before ``validFrom`` a credential is not yet
    valid, after ``validUntil`` it has expired; two different things."""
    moments: dict[str, datetime] = {}
    for name in ("validFrom", "validUntil"):
        value = document.get(name)
        if value is None:
            continue
        if not (isinstance(value, str) and _DATE_TIME_STAMP.match(value)):
            return CheckLine(
                "dates", Result.FAILED, f"{name} is not a date and time with its zone", "malformed"
            )
        try:
            moments[name] = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            return CheckLine("dates", Result.FAILED, f"{name} is not a real date", "malformed")
    starts, ends = moments.get("validFrom"), moments.get("validUntil")
    if starts is not None and ends is not None and ends < starts:
        return CheckLine("dates", Result.FAILED, "validUntil is before validFrom", "malformed")
    if starts is not None and now < starts:
        return CheckLine(
            "dates",
            Result.FAILED,
            f"it is not valid yet: valid from {document['validFrom']}",
            "not_yet_valid",
        )
    if ends is not None and now > ends:
        return CheckLine(
            "dates", Result.FAILED, f"it expired at {document['validUntil']}", "expired"
        )
    return CheckLine("dates", Result.PASSED, "valid now (validFrom / validUntil)")


def _status_line(
    document: Mapping[str, Any],
    status: StatusLookup | None,
    issuer_id: str | None,
    *,
    trusted: bool,
) -> CheckLine:
    entries = document.get("credentialStatus")
    if entries is None:
        return CheckLine("status", Result.NOT_APPLICABLE, "it has no revocation entry")
    entries = entries if isinstance(entries, list) else [entries]
    if not entries or not all(isinstance(entry, Mapping) for entry in entries):
        return CheckLine("status", Result.FAILED, "credentialStatus is not an object", "malformed")
    if not trusted:
        return CheckLine(
            "status",
            Result.UNKNOWN,
            "not checked: the signature was not verified",
            "status_unknown",
        )
    if status is None:
        return CheckLine(
            "status", Result.UNKNOWN, "no status list was available (offline)", "status_unknown"
        )
    unknown: str | None = None
    for entry in entries:
        purpose = entry.get("statusPurpose")
        if purpose not in ("revocation", "suspension"):
            continue  # refresh and message purposes say nothing about validity
        answer = status(entry, issuer_id)
        if answer.state in ("revoked", "suspended"):
            return CheckLine("status", Result.FAILED, answer.reason, answer.state)
        if answer.state != "ok" and unknown is None:
            unknown = answer.reason
    if unknown is not None:
        return CheckLine("status", Result.UNKNOWN, unknown, "status_unknown")
    return CheckLine("status", Result.PASSED, "its status list says it is not revoked")


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
        ResultLine(
            descriptions.get(str(r.get("resultDescription")), "") or "", _text(r.get("value"))
        )
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
        creator_name=_creator_name(achievement),
    )


def _text(value: Any) -> str:
    return value if isinstance(value, str) else ("" if value is None else str(value))


# --- resolvers and status lookups ---------------------------------------------------


def published_key_resolver(public_multikeys: list[str]) -> KeyResolver:
    """Our published keys, named ``did:web:<host>#<key>``: trust follows the key
    (only we hold its private half), whichever address the credential was
    issued under."""
    keys = {multikey: decode_any_public_key(multikey) for multikey in public_multikeys}

    def resolve(method: str) -> PublicKey | None:
        did, _, fragment = method.partition("#")
        if not did.startswith("did:web:"):
            return None
        return keys.get(fragment)

    return resolve


def status_entry_position(entry: Mapping[str, Any]) -> tuple[int, int] | None:
    """(list number, index) of an entry that points at one of our status lists."""
    url = entry.get("statusListCredential")
    if entry.get("statusPurpose") != "revocation" or not isinstance(url, str):
        return None
    match = STATUS_LIST_PATH.search(url)
    try:
        index = status_list.entry_index(entry)
    except CredentialError:
        return None
    if not match or index >= status_list.MIN_ENTRIES:
        return None
    return int(match.group(1)), index


class StatusListUnavailable(Exception):
    """The status list credential could not be fetched or read."""


def status_from_list(
    fetch_list: Callable[[str], Any],
    resolve_key: KeyResolver,
    *,
    now: datetime | None = None,
    limits: Limits = DEFAULT_LIMITS,
) -> StatusLookup:
    """The W3C Bitstring Status List v1.0 validation algorithm (§3.2):
    ``fetch_list(url)`` gives the list credential's parsed JSON (or raises
    ``StatusListUnavailable``, or gives None); its own proofs must verify, by a
    key of the credential's issuer, and it must be valid now; then its bit is
    read. Any failure leaves the status unknown, never "not revoked"."""

    def lookup(entry: Mapping[str, Any], issuer_id: str | None) -> StatusAnswer:
        url = entry.get("statusListCredential")
        if entry.get("type") != "BitstringStatusListEntry":
            return StatusAnswer.unknown(f"unsupported status method {entry.get('type')!r}")
        if not isinstance(url, str):
            return StatusAnswer.unknown("the entry names no statusListCredential")
        try:
            listed = fetch_list(url)
        except StatusListUnavailable as exc:
            return StatusAnswer.unknown(f"the status list {url} could not be had: {exc}")
        if not isinstance(listed, Mapping):
            return StatusAnswer.unknown(f"the status list {url} could not be had")
        try:
            check_shape(listed, limits)
        except TooComplex as exc:
            return StatusAnswer.unknown(f"the status list is {exc}")
        proofs = verify_proofs(listed, resolve_key, limits=limits)
        bad = next((p for p in proofs if not p.valid), None)
        if bad is not None:
            return StatusAnswer.unknown(f"the status list's own proof does not hold: {bad.reason}")
        owner = _issuer_id_of(listed)
        if issuer_id is not None and owner != issuer_id:
            return StatusAnswer.unknown("the status list is not the credential issuer's")
        if not any((p.verification_method or "").split("#", 1)[0] == owner for p in proofs):
            return StatusAnswer.unknown("the status list is not signed by its own issuer")
        dates = _dates_line(listed, now or datetime.now(UTC))
        if dates.result is not Result.PASSED:
            return StatusAnswer.unknown(f"the status list is not valid now: {dates.detail}")
        try:
            flagged = status_list.is_flagged(entry, listed)
        except CredentialError as exc:
            return StatusAnswer.unknown(str(exc))
        if not flagged:
            return StatusAnswer("ok", "not revoked")
        if entry.get("statusPurpose") == "suspension":
            return StatusAnswer("suspended", "the issuer has suspended it")
        return StatusAnswer("revoked", "the issuer has revoked it")

    return lookup


def _issuer_id_of(document: Mapping[str, Any]) -> str | None:
    issuer = document.get("issuer")
    if isinstance(issuer, Mapping):
        issuer = issuer.get("id")
    return issuer if isinstance(issuer, str) else None


def _creator_name(achievement: Mapping[str, Any]) -> str | None:
    creator = achievement.get("creator")
    return (_text(creator.get("name")) or None) if isinstance(creator, Mapping) else None


def _moment(text: str | None) -> datetime | None:
    """An XML Schema dateTime of a credential as a time, when it is one with a zone."""
    try:
        moment = datetime.fromisoformat(str(text).replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.tzinfo is not None else None
