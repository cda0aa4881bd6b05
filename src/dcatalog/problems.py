"""Errors as RFC 9457 problem documents (``application/problem+json``).

Every domain defines its errors as subclasses of ``Problem``: a stable ``type``
(``/problems/<slug>``, documented at that address by the service itself), a
``title`` that never changes for that type, an HTTP status, and a ``detail``
for the occurrence. Routes just raise; one handler renders. No stack trace and
no submitted value ever reaches a client (a value may be a national ID).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

from dcatalog.web.i18n import N_

PROBLEM_JSON = "application/problem+json"


@dataclass(frozen=True, slots=True)
class FieldError:
    """One invalid input. ``pointer`` is a JSON Pointer into the request body
    (``#/deeds/3/national_id``); for query and path parameters, ``parameter``."""

    detail: str
    pointer: str | None = None
    parameter: str | None = None
    detail_th: str | None = None
    # A reason of the deed rules (dcatalog.deeds.reasons): pages translate it.
    code: str | None = None
    params: tuple[tuple[str, str], ...] = ()

    def as_dict(self) -> dict[str, str]:
        data = {"detail": self.detail}
        for name in ("pointer", "parameter", "detail_th"):
            value = getattr(self, name)
            if value is not None:
                data[name] = value
        return data


@dataclass(frozen=True, slots=True)
class ProblemType:
    slug: str
    title: str
    status: int
    description: str  # what it means and what to do, for the /problems pages
    title_th: str

    @property
    def uri(self) -> str:
        return f"/problems/{self.slug}"


PROBLEM_TYPES: dict[str, ProblemType] = {}


def problem_type(
    slug: str, title: str, status: int, description: str, title_th: str
) -> ProblemType:
    """Declare a problem type once; its slug is part of the API and never reused."""
    if slug in PROBLEM_TYPES:
        raise ValueError(f"problem type {slug!r} is declared twice")
    declared = ProblemType(slug, title, status, description, title_th)
    PROBLEM_TYPES[slug] = declared
    return declared


VALIDATION = problem_type(
    "validation-error",
    "Your request is not valid",
    422,
    "One or more fields are missing or malformed. `errors` lists each one with a JSON "
    "Pointer to the field and the reason. Nothing was changed.",
    "คำขอไม่ถูกต้อง",
)
BAD_REQUEST = problem_type(
    "bad-request",
    "Bad request",
    400,
    "The request could not be read (for example the body is not JSON). Nothing was changed.",
    "อ่านคำขอไม่ได้",
)
NOT_FOUND = problem_type(
    "not-found",
    "Not found",
    404,
    "There is nothing at this address, or you may not know whether there is.",
    "ไม่พบสิ่งที่ร้องขอ",
)
METHOD_NOT_ALLOWED = problem_type(
    "method-not-allowed",
    "Method not allowed",
    405,
    "This address exists but does not accept this HTTP method; the Allow header lists those "
    "it accepts.",
    "ไม่รองรับวิธีการเรียกนี้",
)
UNAUTHORIZED = problem_type(
    "unauthorized",
    "Authentication required",
    401,
    "Send a valid API key as `Authorization: Bearer <key>` or sign in.",
    "ต้องยืนยันตัวตน",
)
FORBIDDEN = problem_type(
    "forbidden",
    "Not allowed",
    403,
    "You are signed in, but your role or your key's scopes do not allow this.",
    "ไม่มีสิทธิ์ทำรายการนี้",
)
CONFLICT = problem_type(
    "conflict",
    "Conflict with the current state",
    409,
    "The request conflicts with what is already recorded. The detail says what; nothing "
    "was changed.",
    "ขัดแย้งกับข้อมูลที่มีอยู่",
)
HTTP_ERROR = problem_type(
    "http-error",
    "HTTP error",
    400,
    "A generic HTTP error; the status and detail say which.",
    "เกิดข้อผิดพลาด",
)
SERVER_ERROR = problem_type(
    "server-error",
    "Internal error",
    500,
    "Something failed on our side. Nothing was changed. Quote the request id when you report it.",
    "ระบบขัดข้อง",
)
UNAVAILABLE = problem_type(
    "service-unavailable",
    "Service unavailable",
    503,
    "The service cannot answer now (for example its database is unreachable). Try again later.",
    "ระบบไม่พร้อมให้บริการชั่วคราว",
)


class Problem(Exception):
    """Base of every error a client may see. Subclass per domain with a ``kind``."""

    kind: ClassVar[ProblemType] = HTTP_ERROR

    def __init__(
        self,
        detail: str,
        *,
        errors: list[FieldError] | None = None,
        status: int | None = None,
        headers: dict[str, str] | None = None,
        **extensions: Any,
    ) -> None:
        super().__init__(detail)
        self.detail = detail
        self.errors = errors or []
        self.status = status or self.kind.status
        self.headers = headers or {}
        self.extensions = extensions

    def document(self, instance: str | None = None) -> dict[str, Any]:
        body: dict[str, Any] = {
            "type": self.kind.uri,
            "title": self.kind.title,
            "status": self.status,
            "detail": self.detail,
        }
        if instance:
            body["instance"] = instance
        if self.errors:
            body["errors"] = [error.as_dict() for error in self.errors]
        body.update(self.extensions)
        return body


PAYLOAD_TOO_LARGE = problem_type(
    "payload-too-large",
    "Request too large",
    413,
    "The request body, or a file in it, is larger than this service accepts. `max_bytes`, "
    "where given, is the limit; the operator sets it (see the limits in the operations "
    "guide). Send less at a time, for example a file split in parts. Nothing was changed.",
    "คำขอหรือไฟล์มีขนาดใหญ่เกินกำหนด",
)


class ValidationProblem(Problem):
    kind = VALIDATION


def required_text(value: str, field: str, message: str) -> str:
    """``value`` stripped, or a validation problem at ``#/<field>`` saying ``message``
    (a reason or a note that someone will read must not be empty)."""
    value = value.strip()
    if not value:
        raise ValidationProblem(message, errors=[FieldError("empty", pointer=f"#/{field}")])
    return value


class PayloadTooLarge(Problem):
    kind = PAYLOAD_TOO_LARGE


class NotFound(Problem):
    kind = NOT_FOUND


class Conflict(Problem):
    kind = CONFLICT


class MethodNotAllowed(Problem):
    kind = METHOD_NOT_ALLOWED


class Unauthorized(Problem):
    kind = UNAUTHORIZED
    # Which sign-in a page sends the person to: the citizens' (ThaiD) where a
    # citizen may act, else the staff's. Says the access rule, not the address.
    for_citizens: bool = False


class CitizenSignInNeeded(Unauthorized):
    for_citizens = True


class Forbidden(Problem):
    kind = FORBIDDEN


def missing_permission(*scopes: str) -> Forbidden:
    """The one refusal for a caller without the permission (any of ``scopes``)."""
    names = " / ".join(sorted(scopes))
    return Forbidden(N_("This needs the permission %(scope)s.", scope=names))


class ServiceUnavailable(Problem):
    kind = UNAVAILABLE


TOO_MANY_ATTEMPTS = problem_type(
    "too-many-attempts",
    "Too many attempts",
    429,
    "Too many attempts of this kind came from your address (or for this account) in a short "
    "time, so this one was not looked at. Wait the number of seconds in the `Retry-After` "
    "header; the `RateLimit-Policy` and `RateLimit` headers name the limit and when it frees "
    "up. Nothing was changed.",
    "พยายามหลายครั้งเกินไป",
)


class TooManyAttempts(Problem):
    kind = TOO_MANY_ATTEMPTS
