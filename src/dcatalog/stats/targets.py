"""The programme office's yearly targets: one number per headline figure and
fiscal year, set on /admin/targets and measured in the progress report against
the year's published figures (``progress``). Setting them is audited."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from dcatalog.actors import Actor
from dcatalog.audit import service as audit
from dcatalog.db import transactional, utcnow
from dcatalog.problems import FieldError, ValidationProblem
from dcatalog.stats import periods, service
from dcatalog.stats.dashboard_view import Column, columns_of, value_of
from dcatalog.stats.models import ProgrammeTarget
from dcatalog.stats.service import Filters
from dcatalog.web.i18n import N_

# The headline figures a target may be set for, as the dashboard's columns name them.
INDICATORS = ("deeds", "unit:hour", "donations", "citizens", "credits", "claims")
LARGEST = Decimal(10) ** 12
YEARS = range(2560, 2700)  # fiscal years (BE) a target may be set for
# The form's field of each indicator (a field name without the colon).
FIELDS = {**{indicator: indicator for indicator in INDICATORS}, "unit:hour": "hours"}


def targets_for(session: Session, year: int) -> dict[str, Decimal]:
    query = select(ProgrammeTarget).where(ProgrammeTarget.fiscal_year == year)
    return {t.indicator: Decimal(t.value) for t in session.scalars(query)}


def parse(values: dict[str, str]) -> dict[str, Decimal | None]:
    """The form's texts as targets ("" clears one; "1,200" is 1200), or a
    ValidationProblem naming every wrong field."""
    found: dict[str, Decimal | None] = {}
    errors = []
    for indicator in INDICATORS:
        text = values.get(indicator, "").strip().replace(",", "")
        if not text:
            found[indicator] = None
            continue
        try:
            number = Decimal(text)
        except InvalidOperation:
            number = Decimal(-1)
        whole = indicator != "unit:hour"
        if (
            not number.is_finite()
            or number < 0
            or number > LARGEST
            or (whole and number != number.to_integral_value())
            or number != number.quantize(Decimal("0.01"))
        ):
            errors.append(
                FieldError(
                    "a whole number from 0" if whole else "a number from 0, to hundredths",
                    pointer=f"#/{indicator}",
                    detail_th="จำนวนเต็มตั้งแต่ 0" if whole else "ตัวเลขตั้งแต่ 0 ทศนิยมไม่เกินสองตำแหน่ง",
                )
            )
            continue
        found[indicator] = number
    if errors:
        raise ValidationProblem(
            N_("A target is a number from 0 (hours may have hundredths), or empty for none."),
            errors=errors,
        )
    return found


@transactional
def set_targets(
    session: Session, actor: Actor, year: int, values: dict[str, Decimal | None]
) -> dict[str, Decimal]:
    """Replace the fiscal year's targets (None: no target), one audit event each
    that changed."""
    if year not in YEARS:
        raise ValidationProblem(
            N_("Name a fiscal year in the Buddhist Era, such as 2570."),
            errors=[FieldError("a fiscal year", pointer="#/year")],
        )
    before = targets_for(session, year)
    for indicator, value in values.items():
        if indicator not in INDICATORS or before.get(indicator) == value:
            continue
        existing = session.get(ProgrammeTarget, (year, indicator))
        old = audit.snapshot(existing) if existing is not None else None
        if value is None:
            if existing is not None:
                audit.record(session, actor, "target.clear", existing, before=old)
                session.execute(
                    delete(ProgrammeTarget).where(
                        ProgrammeTarget.fiscal_year == year, ProgrammeTarget.indicator == indicator
                    )
                )
            continue
        if existing is None:
            existing = ProgrammeTarget(fiscal_year=year, indicator=indicator)
            session.add(existing)
        existing.value, existing.set_by, existing.set_at = value, actor.label, utcnow()
        audit.record(session, actor, "target.set", existing, before=old)
    return targets_for(session, year)


@dataclass(frozen=True)
class Progress:
    """How far the fiscal year's published figure is towards its target."""

    title: str
    target: Decimal
    so_far: Decimal | None  # None while the figure is hidden (<10)
    share: int | None  # per cent reached, None while hidden

    @property
    def bar(self) -> int:
        """The bar's width in per cent (full at the target, never beyond)."""
        return min(self.share or 0, 100)


def progress(session: Session, year: int) -> list[Progress]:
    """Each target of the fiscal year beside its published figure so far."""
    targets = targets_for(session, year)
    if not targets:
        return []
    table = service.figures(session, Filters(periods.fiscal_year_period(year).key), "month")
    found = []
    for col in indicators():
        if col.key not in targets:
            continue
        hidden = table.total.claims_hidden if col.key == "claims" else table.total.hidden
        value = None if hidden else value_of(table.total, col)
        so_far = None if value is None else Decimal(value)
        target = targets[col.key]
        share = None if so_far is None or not target else int(so_far * 100 / target)
        found.append(Progress(col.title, target, so_far, share))
    return found


def indicators() -> list[Column]:
    """The headline figures a target may be set for, titled as the dashboard titles them."""
    return [c for c in columns_of(("hour",), True) if c.key in INDICATORS]
