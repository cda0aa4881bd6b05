"""The progress report's executive summary: each headline figure of the period
beside the same figure of the period before (the fiscal year, quarter or month
before), its change, a few sentences a reader of the Prime Minister's office
can quote, and the fiscal year's progress towards the office's targets — all
from the dashboard's published figures, so the summary never says more than the
page."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy.orm import Session

from dcatalog.geo.provinces import PROVINCES
from dcatalog.stats import periods, service, targets
from dcatalog.stats.dashboard_view import Column, cells_of, columns, value_of
from dcatalog.stats.service import Dashboard, Figure, Filters
from dcatalog.web.i18n import gettext as _


@dataclass(frozen=True)
class Comparison:
    """One headline figure now and in the period before."""

    key: str  # the dashboard column's key ("deeds", "unit:hour", …)
    title: str
    now: str  # as shown ("1,234", "<10", "")
    before: str
    change: str  # "+12.5%", "−3.0%", "" when either is hidden, zero or missing
    direction: str  # "up" | "down" | "same" | ""


def _change(now: Any, before: Any) -> tuple[str, str]:
    if now is None or before is None or not before:
        return "", ""
    ratio = (Decimal(now) - Decimal(before)) * 100 / Decimal(before)
    if abs(ratio) < Decimal("0.05"):
        return "0%", "same"
    sign = "+" if ratio > 0 else "−"  # a true minus sign, as printed figures use
    return f"{sign}{abs(ratio):,.1f}%", "up" if ratio > 0 else "down"


def comparisons(now: Figure, before: Figure, cols: list[Column]) -> list[Comparison]:
    shown_now, shown_before = cells_of(now, cols), cells_of(before, cols)
    found = []
    for col in cols:
        if col.key in ("claims", "claimants"):
            a = None if now.claims_hidden else value_of(now, col)
            b = None if before.claims_hidden else value_of(before, col)
        else:
            a = None if now.hidden else value_of(now, col)
            b = None if before.hidden else value_of(before, col)
        change, direction = _change(a, b)
        found.append(
            Comparison(
                col.key,
                col.title,
                shown_now[col.key] or "0",
                shown_before[col.key] or "0",
                change,
                direction,
            )
        )
    return found


def _largest(rows: list[Figure], measure: str) -> Figure | None:
    shown = [r for r in rows if not r.hidden and (getattr(r, measure) or 0) > 0]
    return max(shown, key=lambda r: (getattr(r, measure), r.value), default=None)


def summary(
    session: Session, data: Dashboard, context: dict[str, Any], lang: str
) -> dict[str, Any]:
    """What the summary page shows: the period before, the comparisons and the
    sentences."""
    key = data.filters.period
    before_key = periods.previous(key)
    before = service.figures(session, Filters(before_key), "month").total
    cols = columns(data.tables["month"])
    compared = comparisons(data.total, before, cols)
    sentences = []
    deeds = next((c for c in compared if c.key == "deeds"), None)
    if deeds is not None and deeds.now not in ("", "0"):
        if deeds.change:
            sentences.append(
                _("%(deeds)s verified good deeds, %(change)s against %(before)s.")
                % {
                    "deeds": deeds.now,
                    "change": deeds.change,
                    "before": periods.label(before_key, lang),
                }
            )
        else:
            sentences.append(_("%(deeds)s verified good deeds.") % {"deeds": deeds.now})
    names = {row.code: row.label for row in context["tables"]["agency"]["rows"]}
    agency = _largest(data.tables["agency"].rows, "deeds")
    if agency is not None:
        sentences.append(
            _("The partner that recorded the most: %(agency)s (%(deeds)s deeds).")
            % {"agency": names.get(agency.value, agency.value), "deeds": f"{agency.deeds:,}"}
        )
    provinces = [r for r in data.tables["province"].rows if r.hidden or (r.citizens or 0) > 0]
    if provinces:
        sentences.append(
            _("People took part in %(n)s of the %(all)s provinces.")
            % {"n": len(provinces), "all": len(PROVINCES)}
        )
    year = periods.parse(key)
    assert year is not None  # (checked by the dashboard already)
    return {
        "before_label": periods.label(before_key, lang),
        "comparisons": compared,
        "sentences": sentences,
        "targets": targets.progress(session, year.fiscal_year),
        "targets_label": periods.label(f"fy:{year.fiscal_year}", lang),
    }
