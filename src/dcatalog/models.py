"""Every table of the application, imported in one place so that the metadata
Alembic compares with the migrations is complete."""

from dcatalog.accounts.models import ApiKey, StaffAccount, WebSession
from dcatalog.agencies.models import Agency
from dcatalog.audit.models import AuditEvent
from dcatalog.catalog.models import DeedType, DeedTypeVersion, Virtue
from dcatalog.db import Base
from dcatalog.deeds.models import Deed, Tally
from dcatalog.ops.models import InstanceMeta
from dcatalog.proposals.models import Proposal, ProposalComment, ProposalSupport

__all__ = [
    "Agency",
    "ApiKey",
    "AuditEvent",
    "Base",
    "Deed",
    "DeedType",
    "DeedTypeVersion",
    "InstanceMeta",
    "Proposal",
    "ProposalComment",
    "ProposalSupport",
    "StaffAccount",
    "Tally",
    "Virtue",
    "WebSession",
]
