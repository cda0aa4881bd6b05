"""What each role may do, as scopes: one vocabulary for staff and API keys.

A route requires a scope; a staff member has the scopes of their role, an API
key the scopes it was created with (never more than an agency role allows).
"""

from __future__ import annotations

from enum import StrEnum


class Role(StrEnum):
    PROGRAM_ADMIN = "program_admin"  # the programme office (PMDU / Moral Center)
    AUDITOR = "auditor"
    AGENCY_ADMIN = "agency_admin"
    RECORDER = "recorder"
    VERIFIER = "verifier"


AGENCY_ROLES = frozenset({Role.AGENCY_ADMIN, Role.RECORDER, Role.VERIFIER})


class Scope(StrEnum):
    DEEDS_WRITE = "deeds:write"
    DEEDS_VERIFY = "deeds:verify"
    ELIGIBILITY_READ = "eligibility:read"
    BENEFITS_REDEEM = "benefits:redeem"  # a partner's counter redeems claim codes
    CITIZENS_READ = "citizens:read"  # a citizen's record, as far as their consent allows
    CATALOG_WRITE = "catalog:write"
    STAFF_MANAGE = "staff:manage"  # an agency's own staff and keys
    CATALOG_APPROVE = "catalog:approve"  # programme office only
    AGENCIES_MANAGE = "agencies:manage"  # programme office only
    AUDIT_READ = "audit:read"
    CITIZENS_MANAGE = "citizens:manage"  # programme office only: guardians' consent, erasure
    TARGETS_SET = "targets:set"  # programme office only: the yearly targets of the report


ROLE_SCOPES: dict[Role, frozenset[Scope]] = {
    Role.PROGRAM_ADMIN: frozenset(
        {
            Scope.CATALOG_APPROVE,
            Scope.AGENCIES_MANAGE,
            Scope.AUDIT_READ,
            Scope.STAFF_MANAGE,
            Scope.CITIZENS_MANAGE,
            Scope.TARGETS_SET,
        }
    ),
    Role.AUDITOR: frozenset({Scope.AUDIT_READ}),
    Role.AGENCY_ADMIN: frozenset(
        {
            Scope.CATALOG_WRITE,
            Scope.STAFF_MANAGE,
            Scope.DEEDS_WRITE,
            Scope.DEEDS_VERIFY,
            Scope.ELIGIBILITY_READ,
            Scope.CITIZENS_READ,
            Scope.BENEFITS_REDEEM,
        }
    ),
    Role.RECORDER: frozenset({Scope.DEEDS_WRITE}),
    Role.VERIFIER: frozenset({Scope.DEEDS_VERIFY, Scope.CITIZENS_READ, Scope.BENEFITS_REDEEM}),
}

# What an agency may give its API keys: its systems act for the agency, never
# for the programme office, and never manage staff.
API_KEY_SCOPES = frozenset(
    {
        Scope.DEEDS_WRITE,
        Scope.DEEDS_VERIFY,
        Scope.ELIGIBILITY_READ,
        Scope.CATALOG_WRITE,
        Scope.CITIZENS_READ,
        Scope.BENEFITS_REDEEM,
    }
)
