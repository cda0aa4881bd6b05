"""Every table of the application, imported in one place so that the metadata
Alembic compares with the migrations is complete."""

from dcatalog.accounts.models import ApiKey, StaffAccount, WebSession
from dcatalog.agencies.models import Agency
from dcatalog.audit.models import AuditEvent
from dcatalog.benefits.models import Award, Benefit, Claim
from dcatalog.campaigns.models import Campaign
from dcatalog.catalog.models import DeedType, DeedTypeVersion, Virtue
from dcatalog.citizens.models import AccessLog, Consent, Dispute, ErasureRequest, GuardianConsent
from dcatalog.credentials.models import IssuedCredential, IssuerKey, PublishedStatusList
from dcatalog.db import Base
from dcatalog.deeds.models import Deed, Tally
from dcatalog.identity.models import Citizen, CitizenSession, InstanceMeta
from dcatalog.jobs.models import FileChunk, Job, JobClock, StoredFile
from dcatalog.proposals.models import Proposal, ProposalComment, ProposalSupport
from dcatalog.stats.models import ProgrammeTarget, StatsCell, StatsRefresh, StatsRollup

__all__ = [
    "AccessLog",
    "Agency",
    "ApiKey",
    "AuditEvent",
    "Award",
    "Base",
    "Benefit",
    "Campaign",
    "Citizen",
    "CitizenSession",
    "Claim",
    "Consent",
    "Deed",
    "DeedType",
    "DeedTypeVersion",
    "Dispute",
    "ErasureRequest",
    "FileChunk",
    "GuardianConsent",
    "InstanceMeta",
    "IssuedCredential",
    "IssuerKey",
    "Job",
    "JobClock",
    "ProgrammeTarget",
    "Proposal",
    "ProposalComment",
    "ProposalSupport",
    "PublishedStatusList",
    "StaffAccount",
    "StatsCell",
    "StatsRefresh",
    "StatsRollup",
    "StoredFile",
    "Tally",
    "Virtue",
    "WebSession",
]
