"""The Open Badges 3.0 ``OpenBadgeCredential`` a citizen receives for an award.

Pure data in, a JSON-ready dict out (unsigned; ``data_integrity.create_proof``
signs it). The shape is the VC Data Model 2.0 one that Open Badges 3.0 uses:
both contexts, an issuer ``Profile``, ``validFrom``, an ``AchievementSubject``
and a ``BitstringStatusListEntry`` for revocation.

Language: Open Badges types ``name`` and ``description`` as plain strings, so
each holds one language. Thai comes first (``inLanguage: th``); the English
edition of the achievement is a ``related`` entry with ``inLanguage: en`` (the
property Open Badges gives for "alternate language editions"), carrying its
English name and description so a reader needs no second download.

The recipient: never the national ID, not even hashed. A 13-digit number with
a check digit has about 10^12 values; a salted SHA-256 of it, salt published
beside it, is reversed by trying them all in minutes. The identity hashed here
is the citizen key (already a keyed HMAC of the ID), so the hash reveals
nothing, and a fresh salt per credential keeps two credentials of the same
citizen from being linked by strangers.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from dcatalog.credentials.errors import CredentialError
from dcatalog.credentials.jsonld_contexts import CREDENTIALS_V2, OPEN_BADGES_V3
from dcatalog.credentials.status_list import StatusListPointer
from dcatalog.credentials.timestamps import format_date_time

# Open Badges 3.0 AchievementType; other values need the "ext:" prefix.
ACHIEVEMENT_TYPES = frozenset(
    {
        "Achievement", "ApprenticeshipCertificate", "Assessment", "Assignment",
        "AssociateDegree", "Award", "Badge", "BachelorDegree", "Certificate",
        "CertificateOfCompletion", "Certification", "CommunityService", "Competency",
        "Course", "CoCurricular", "Degree", "Diploma", "DoctoralDegree", "Fieldwork",
        "GeneralEducationDevelopment", "JourneymanCertificate", "LearningProgram",
        "License", "Membership", "ProfessionalDoctorate", "QualityAssuranceCredential",
        "MasterCertificate", "MasterDegree", "MicroCredential", "ResearchDoctorate",
        "SecondarySchoolDiploma",
    }
)  # fmt: skip
# Open Badges 3.0 IdentifierTypeEnum; other values need the "ext:" prefix.
IDENTITY_TYPES = frozenset(
    {
        "name", "sourcedId", "systemId", "productId", "userName", "accountId",
        "emailAddress", "nationalIdentityNumber", "isbn", "issn", "lisSourcedId",
        "oneRosterSourcedId", "sisSourcedId", "ltiContextId", "ltiDeploymentId",
        "ltiToolId", "ltiPlatformId", "ltiUserId", "identifier",
    }
)  # fmt: skip

_ABSOLUTE_URI = re.compile(r"^[A-Za-z][A-Za-z0-9+\-.]*:\S+$")
_ID_SEPARATORS = re.compile(r"[\s\-\u2010-\u2015\u2212]")


@dataclass(frozen=True)
class Bilingual:
    th: str
    en: str


@dataclass(frozen=True)
class IssuerProfile:
    id: str  # the profile's stable URL (or DID), where its public keys are published
    name: str
    url: str | None = None

    def to_json(self) -> dict[str, Any]:
        profile: dict[str, Any] = {"id": _uri(self.id, "issuer id"), "type": ["Profile"]}
        profile["name"] = _text(self.name, "issuer name")
        if self.url is not None:
            profile["url"] = _uri(self.url, "issuer url")
        return profile


@dataclass(frozen=True)
class AchievementDefinition:
    """What was achieved: one catalog milestone or transcript kind."""

    id: str  # stable URL of the Thai edition
    english_edition_id: str  # stable URL of the English edition
    achievement_type: str  # e.g. CommunityService for volunteering
    name: Bilingual
    description: Bilingual
    criteria: Bilingual  # how it is earned; Open Badges requires criteria
    creator: IssuerProfile | None = None  # who set it (and thanks for it), when not the issuer

    def to_json(self) -> dict[str, Any]:
        if not (
            self.achievement_type in ACHIEVEMENT_TYPES or self.achievement_type.startswith("ext:")
        ):
            raise CredentialError(f"unknown Open Badges achievement type {self.achievement_type!r}")
        achievement: dict[str, Any] = {
            "id": _uri(self.id, "achievement id"),
            "type": ["Achievement"],
            "achievementType": self.achievement_type,
            "name": _text(self.name.th, "achievement name"),
            "description": _text(self.description.th, "achievement description"),
            "criteria": {"narrative": _text(self.criteria.th, "criteria")},
            "inLanguage": "th",
            "related": [
                {
                    "id": _uri(self.english_edition_id, "English edition id"),
                    "type": ["Related"],
                    "inLanguage": "en",
                    "name": _text(self.name.en, "English achievement name"),
                    "description": _text(self.description.en, "English description"),
                }
            ],
        }
        if self.creator is not None:
            achievement["creator"] = self.creator.to_json()
        return achievement


@dataclass(frozen=True)
class HashedIdentity:
    """An Open Badges ``IdentityObject`` with a salted SHA-256 identity."""

    identity_type: str
    identity_hash: str  # "sha256$" + hex
    salt: str

    def matches(self, identity: str) -> bool:
        return secrets.compare_digest(self.identity_hash, _identity_hash(identity, self.salt))

    def to_json(self) -> dict[str, Any]:
        return {
            "type": "IdentityObject",
            "identityHash": self.identity_hash,
            "identityType": self.identity_type,
            "hashed": True,
            "salt": self.salt,
        }


def hash_identity(
    identity: str, *, identity_type: str = "systemId", salt: str | None = None
) -> HashedIdentity:
    """Hash ``identity`` (the citizen key) as Open Badges does: sha256(identity + salt).

    Refuses anything that looks like a Thai national ID (see the module docstring).
    """
    digits = _ID_SEPARATORS.sub("", identity)
    if identity_type == "nationalIdentityNumber" or (digits.isdigit() and len(digits) == 13):
        raise CredentialError(
            "a national ID must not go into a credential, even hashed: it is guessable; "
            "hash the citizen key instead"
        )
    if not (identity_type in IDENTITY_TYPES or identity_type.startswith("ext:")):
        raise CredentialError(f"unknown Open Badges identity type {identity_type!r}")
    if not identity:
        raise CredentialError("the identity to hash is empty")
    salt = salt if salt is not None else secrets.token_hex(16)
    return HashedIdentity(identity_type, _identity_hash(identity, salt), salt)


def open_badge_credential(
    *,
    credential_id: str,
    issuer: IssuerProfile,
    achievement: AchievementDefinition,
    recipient: HashedIdentity,
    valid_from: datetime,
    status: StatusListPointer,
    valid_until: datetime | None = None,
) -> dict[str, Any]:
    """The unsigned credential. ``credential_id`` is a URL or ``urn:uuid:…``."""
    credential: dict[str, Any] = {
        "@context": [CREDENTIALS_V2, OPEN_BADGES_V3],
        "id": _uri(credential_id, "credential id"),
        "type": ["VerifiableCredential", "OpenBadgeCredential"],
        "issuer": issuer.to_json(),
        "validFrom": format_date_time(valid_from),
        "name": _text(achievement.name.th, "achievement name"),
        "description": _text(achievement.description.th, "achievement description"),
        "credentialSubject": {
            "type": ["AchievementSubject"],
            "identifier": [recipient.to_json()],
            "achievement": achievement.to_json(),
        },
        "credentialStatus": status.entry(),
    }
    if valid_until is not None:
        if valid_until <= valid_from:
            raise CredentialError("validUntil must be after validFrom")
        credential["validUntil"] = format_date_time(valid_until)
    return credential


def _identity_hash(identity: str, salt: str) -> str:
    return "sha256$" + hashlib.sha256((identity + salt).encode("utf-8")).hexdigest()


def _uri(value: str, what: str) -> str:
    # JSON-LD silently drops relative or malformed IRIs; refuse them when building.
    if not _ABSOLUTE_URI.match(value):
        raise CredentialError(f"{what} must be an absolute URI, not {value!r}")
    return value


def _text(value: str, what: str) -> str:
    if not value.strip():
        raise CredentialError(f"{what} is empty")
    return value
