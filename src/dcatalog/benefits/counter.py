"""A partner's counter asks for consent instead of dead-ending on "no consent".

When a check is not answered for want of consent, the counter shows a QR code
the citizen scans with their own phone: it opens the consent page with the
benefit named (``GET /me/consents?benefit=<code>``, which fills in the agency,
the purpose and the scope from the benefit, after sign-in if needed). The
address names only the benefit: never the citizen, whose ID the counter typed
once and nobody else sees.

To check again without asking for the ID a second time, the counter page keeps
the citizen's key sealed (AES-GCM under a key derived from the instance's secret
key) together with the agency, benefit, purpose and an expiry: only this
instance can open it, only for the same agency, and only for a while. A reload
of the same page then checks again, with its own line in the citizen's access log.
"""

from __future__ import annotations

import json
import time
import uuid
from dataclasses import dataclass
from urllib.parse import quote

from dcatalog import sealing
from dcatalog.problems import FieldError, ValidationProblem

_PURPOSE = "counter recheck"
RECHECK_SECONDS = 30 * 60  # the citizen has half an hour to answer at the counter


def consent_request_url(base_url: str, benefit_code: str) -> str:
    """Where the citizen's phone goes to consent for this benefit (absolute: a QR
    code leaves the screen)."""
    return f"{base_url}/me/consents?benefit={quote(benefit_code, safe='')}"


@dataclass(frozen=True)
class Recheck:
    """What a counter needs to check the same citizen again."""

    agency_id: uuid.UUID
    citizen_key: str
    benefit: str
    purpose: str


def seal(secret: bytes, recheck: Recheck, now: float | None = None) -> str:
    expires = int(now if now is not None else time.time()) + RECHECK_SECONDS
    raw = json.dumps(
        {
            "a": str(recheck.agency_id),
            "k": recheck.citizen_key,
            "b": recheck.benefit,
            "p": recheck.purpose,
            "e": expires,
        },
        separators=(",", ":"),
    ).encode()
    return sealing.seal(secret, _PURPOSE, raw)


def open_sealed(
    secret: bytes, value: str, agency_id: uuid.UUID | None, now: float | None = None
) -> Recheck:
    """The sealed check, or a problem asking to type the ID again (altered, another
    agency's, or too old)."""
    try:
        data = json.loads(sealing.unseal(secret, _PURPOSE, value))
        found = Recheck(uuid.UUID(data["a"]), str(data["k"]), str(data["b"]), str(data["p"]))
        expires = int(data["e"])
    except (ValueError, KeyError, TypeError):  # sealing.Unreadable is a ValueError
        found, expires = None, 0
    if (
        found is None
        or found.agency_id != agency_id
        or expires < (now if now is not None else time.time())
    ):
        message = "This check can no longer be repeated: type the national ID again."
        raise ValidationProblem(
            message,
            errors=[
                FieldError(
                    message,
                    pointer="#/national_id",
                    detail_th="ตรวจซ้ำจากหน้านี้ไม่ได้แล้ว กรุณากรอกเลขประจำตัวประชาชนอีกครั้ง",
                )
            ],
        )
    return found
