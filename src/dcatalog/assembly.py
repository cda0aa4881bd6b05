"""Where the domains above are connected to the ones they build on, in one place.

Lower layers never import higher ones (docs/development.md, "Layers"), so the
follow-ups of a counted deed are registered here, at the top, by every process
that can count deeds: the web application, the CLI and the worker (and the test
suite); so are the kinds of background job. Order matters: the rollup first, then credential revocation, then
awards (whose withdrawal revokes the award's own credential). Pages of a lower
domain that show something of a higher one (a deed type's benefits) get it
the same way."""

from __future__ import annotations

from dcatalog.benefits import awards
from dcatalog.benefits import pages as benefits_pages
from dcatalog.benefits import rights as benefit_rights
from dcatalog.benefits import service as benefits
from dcatalog.catalog import pages as catalog_pages
from dcatalog.citizens import consent, rights
from dcatalog.credentials import rights as credential_rights
from dcatalog.credentials import service as credentials
from dcatalog.credentials import status_lists
from dcatalog.deeds import counted
from dcatalog.deeds import jobs as import_jobs
from dcatalog.jobs import register as register_jobs
from dcatalog.proposals import rights as proposal_rights
from dcatalog.reports import jobs as report_jobs
from dcatalog.stats import jobs as stats_jobs
from dcatalog.stats import report_jobs as progress_reports
from dcatalog.stats import rollups


def assemble() -> None:
    """Register every follower (harmless to call more than once)."""
    counted.follow("stats.rollup", rollups.after_counted)
    counted.follow("credentials.revocation", credentials.after_counted)
    counted.follow("benefits.awards", awards.after_counted)
    catalog_pages.entry_extras["benefits.leads_to"] = benefits_pages.leads_to
    # What each domain keeps of a citizen, for the PDPA copy and erasure.
    rights.holders["credentials"] = credential_rights.HOLDER
    rights.holders["benefits"] = benefit_rights.HOLDER
    rights.holders["proposals"] = proposal_rights.HOLDER
    consent.look_up_benefits_with(benefits.offered_for_consent)
    # The kinds of background job, which workers run by name.
    register_jobs(
        import_jobs.JOB_KIND,
        progress_reports.JOB_KIND,
        stats_jobs.JOB_KIND,
        report_jobs.JOB_KIND,
        status_lists.JOB_KIND,
    )
