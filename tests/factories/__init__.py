"""Test data made through the real services (so the rules apply to it too).

A factory per table: ``make_<thing>(session, **options)`` makes one valid row
through the service that writes it in the application, with keyword defaults
for everything (a fresh agency, deed type or citizen where it needs one), and
returns the model. Tables written only as a side effect (tallies, audit events,
the access log, the dashboard's tables) have the service call that writes them.
``FACTORIES`` maps every mapped class to its factory; tests/integration/
test_factories.py fails for a table without one.

The modules: ``web`` (IDs, CSRF, forms, signing in on a client), ``staff``
(agencies, accounts, keys), ``records`` (catalog, deeds, what counting writes),
``people`` (citizens and their decisions), ``offers`` (benefits, campaigns,
reports, proposals, credentials), ``jobs`` (jobs, stored files, the job clock).
"""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy.orm import Session

from dcatalog import models
from dcatalog.db import Base
from tests.factories.common import database_of, keyer, new_national_id, rules, unique
from tests.factories.jobs import make_file_chunk, make_job, make_job_clock, make_stored_file
from tests.factories.offers import (
    count_rule,
    make_award,
    make_benefit,
    make_campaign,
    make_claim,
    make_issued_credential,
    make_issuer_key,
    make_milestone,
    make_proposal,
    make_proposal_comment,
    make_proposal_support,
    make_published_status_list,
    make_report_job,
)
from tests.factories.people import (
    make_access_log,
    make_citizen,
    make_citizen_session,
    make_consent,
    make_dispute,
    make_erasure_request,
    make_guardian_consent,
    make_principal,
)
from tests.factories.records import (
    make_deed,
    make_deed_type,
    make_deed_type_version,
    make_programme_target,
    make_stats_cell,
    make_stats_refresh,
    make_stats_rollup,
    make_tally,
    make_virtue,
)
from tests.factories.staff import (
    key_actor,
    make_account,
    make_agency,
    make_api_key,
    make_api_key_secret,
    make_audit_event,
    make_instance_meta,
    make_web_session,
    new_agency,
    staff_browser,
)
from tests.factories.web import (
    PASSWORD,
    csrf_from,
    deed_type_fields,
    nid,
    post_form,
    sign_in,
    sign_in_as,
    sign_in_citizen,
)

Factory = Callable[[Session], Base]

# Every table's factory, called with a session alone (tests/integration/test_factories.py).
FACTORIES: dict[type[Base], Factory] = {
    models.AccessLog: make_access_log,
    models.Agency: new_agency,
    models.ApiKey: make_api_key,
    models.AuditEvent: make_audit_event,
    models.Award: make_award,
    models.Benefit: make_benefit,
    models.Campaign: make_campaign,
    models.Citizen: make_citizen,
    models.CitizenSession: make_citizen_session,
    models.Claim: make_claim,
    models.Consent: make_consent,
    models.Deed: make_deed,
    models.DeedType: make_deed_type,
    models.DeedTypeVersion: make_deed_type_version,
    models.Dispute: make_dispute,
    models.ErasureRequest: make_erasure_request,
    models.FileChunk: make_file_chunk,
    models.GuardianConsent: make_guardian_consent,
    models.InstanceMeta: make_instance_meta,
    models.IssuedCredential: make_issued_credential,
    models.IssuerKey: make_issuer_key,
    models.PublishedStatusList: make_published_status_list,
    models.Job: make_job,
    models.JobClock: make_job_clock,
    models.ProgrammeTarget: make_programme_target,
    models.Proposal: make_proposal,
    models.ProposalComment: make_proposal_comment,
    models.ProposalSupport: make_proposal_support,
    models.StaffAccount: make_account,
    models.StatsCell: make_stats_cell,
    models.StatsRefresh: make_stats_refresh,
    models.StatsRollup: make_stats_rollup,
    models.StoredFile: make_stored_file,
    models.Tally: make_tally,
    models.Virtue: make_virtue,
    models.WebSession: make_web_session,
}

__all__ = [
    "FACTORIES",
    "PASSWORD",
    "count_rule",
    "csrf_from",
    "database_of",
    "deed_type_fields",
    "key_actor",
    "keyer",
    "make_access_log",
    "make_account",
    "make_agency",
    "make_api_key",
    "make_api_key_secret",
    "make_audit_event",
    "make_award",
    "make_benefit",
    "make_campaign",
    "make_citizen",
    "make_citizen_session",
    "make_claim",
    "make_consent",
    "make_deed",
    "make_deed_type",
    "make_deed_type_version",
    "make_dispute",
    "make_erasure_request",
    "make_file_chunk",
    "make_guardian_consent",
    "make_instance_meta",
    "make_issued_credential",
    "make_issuer_key",
    "make_job",
    "make_job_clock",
    "make_milestone",
    "make_principal",
    "make_programme_target",
    "make_proposal",
    "make_proposal_comment",
    "make_proposal_support",
    "make_published_status_list",
    "make_report_job",
    "make_stats_cell",
    "make_stats_refresh",
    "make_stats_rollup",
    "make_stored_file",
    "make_tally",
    "make_virtue",
    "make_web_session",
    "new_agency",
    "new_national_id",
    "nid",
    "post_form",
    "rules",
    "sign_in",
    "sign_in_as",
    "sign_in_citizen",
    "staff_browser",
    "unique",
]
