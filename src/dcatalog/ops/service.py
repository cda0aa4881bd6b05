"""Readiness: can this process serve requests right now?"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from dcatalog import schema
from dcatalog.db import Database
from dcatalog.identity.citizen_key import CitizenKeyer
from dcatalog.identity.service import PepperMismatch, bind_pepper
from dcatalog.logs import get_logger

log = get_logger(__name__)


@dataclass
class Readiness:
    checks: dict[str, str] = field(default_factory=dict)

    @property
    def ready(self) -> bool:
        return all(value == "ok" for value in self.checks.values())


def check_readiness(database: Database, keyer: CitizenKeyer) -> Readiness:
    result = Readiness()
    try:
        with database.session() as session:
            session.execute(text("SELECT 1"))
            result.checks["database"] = "ok"
            current = schema.current_revisions(session.connection())
            heads = schema.head_revisions()
            if current == heads:
                result.checks["migrations"] = "ok"
            else:
                result.checks["migrations"] = (
                    f"database at {sorted(current) or 'nothing'}, code expects {sorted(heads)}: "
                    "run `dcatalog migrate`"
                )
                return result
        with database.write_session() as session:
            bind_pepper(session, keyer)
        result.checks["pepper"] = "ok"
    except PepperMismatch as exc:
        result.checks["pepper"] = str(exc)
    except SQLAlchemyError as exc:
        log.warning("readiness check failed", error=type(exc).__name__)
        result.checks.setdefault("database", f"unreachable ({type(exc).__name__})")
    return result
