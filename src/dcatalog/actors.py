"""Who is acting: a staff member, an agency's API key, or the operator's CLI.

Services take an ``Actor`` and check what it may do; routes only find out who
it is. Audit records name it by ``label``.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any, Literal

from dcatalog.accounts.permissions import ROLE_SCOPES, Role, Scope


@dataclass(frozen=True, slots=True)
class Actor:
    kind: Literal["staff", "api_key", "system", "citizen"]
    id: str
    label: str
    agency_id: uuid.UUID | None
    role: Role | None
    scopes: frozenset[Scope]
    name: str = ""  # what others see (never an email)

    def can(self, scope: Scope) -> bool:
        return scope in self.scopes

    def acts_for(self, agency_id: uuid.UUID | None) -> bool:
        return agency_id is not None and self.agency_id == agency_id

    @property
    def display(self) -> str:
        """How pages name the actor: the email of a staff member, the key's prefix."""
        return self.label.split(":", 1)[-1]

    @property
    def is_program_office(self) -> bool:
        return self.kind == "system" or self.role is Role.PROGRAM_ADMIN

    @classmethod
    def staff(
        cls,
        account_id: uuid.UUID,
        email: str,
        role: Role,
        agency_id: uuid.UUID | None,
        name: str = "",
    ) -> Actor:
        return cls(
            "staff", str(account_id), f"staff:{email}", agency_id, role, ROLE_SCOPES[role], name
        )

    def as_params(self) -> dict[str, Any]:
        """The actor as a job's input (JSON): a worker acts as the one who asked, with
        the permissions they had when they asked."""
        return {
            "kind": self.kind,
            "id": self.id,
            "label": self.label,
            "agency_id": str(self.agency_id) if self.agency_id else None,
            "role": self.role.value if self.role else None,
            "scopes": sorted(scope.value for scope in self.scopes),
            "name": self.name,
        }

    @classmethod
    def from_params(cls, params: dict[str, Any]) -> Actor:
        agency = params.get("agency_id")
        return cls(
            params["kind"],
            params["id"],
            params["label"],
            uuid.UUID(agency) if agency else None,
            Role(params["role"]) if params.get("role") else None,
            frozenset(Scope(scope) for scope in params["scopes"]),
            params.get("name", ""),
        )

    @classmethod
    def citizen(cls, label: str) -> Actor:
        """A signed-in citizen taking part in public proposals: no permission at all,
        named by the pseudonymous ``citizen:<key prefix>`` label, never shown."""
        return cls("citizen", label, label, None, None, frozenset())

    @classmethod
    def api_key(cls, prefix: str, agency_id: uuid.UUID, scopes: frozenset[Scope]) -> Actor:
        return cls("api_key", prefix, f"key:{prefix}", agency_id, None, scopes)


def operator_for(agency_id: uuid.UUID) -> Actor:
    """The operator's CLI acting for one agency (e.g. importing its file)."""
    scopes = frozenset({Scope.DEEDS_WRITE, Scope.DEEDS_VERIFY})
    return Actor("system", "cli", "cli", agency_id, None, scopes, "CLI")


# The operator at the server's console (`dcatalog admin create`, `dcatalog keys …`):
# whoever runs the CLI already holds the database and its secrets.
SYSTEM = Actor("system", "cli", "cli", None, None, frozenset(Scope))
