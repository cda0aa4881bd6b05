"""The progress report for the Prime Minister's office: the dashboard's figures
for one period (a Thai fiscal year, one of its quarters or a month) as a PDF in
Thai with charts and tables, and an XLSX with the same figures.

The figures are the dashboard's own (``stats.service.dashboard`` through
``stats.dashboard_view.dashboard_context``), with the suppression already applied: a
cell the dashboard hides ("<10" or "x") is hidden in the report too, so the
report can never say more than the page. Periods are written as people in the
office write them: ``2570`` (fiscal year 2570, October 2569 – September 2570),
``2570-Q1`` (its first quarter, October–December) or ``2569-11`` (November
2569, a Buddhist-Era year and month).
"""

from __future__ import annotations

import io
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from sqlalchemy.orm import Session

from dcatalog import tabular
from dcatalog.calendars.buddhist_era import format_datetime
from dcatalog.db import utcnow
from dcatalog.problems import FieldError, ValidationProblem
from dcatalog.stats import periods, service
from dcatalog.stats.dashboard_view import dashboard_context
from dcatalog.web.i18n import gettext as _
from dcatalog.web.i18n import set_language
from dcatalog.web.pdf import html_to_pdf
from dcatalog.web.templating import templates

_PERIOD = re.compile(r"^(\d{4})(?:-(?:[Qq]([1-4])|(\d{1,2})))?$")
TABLES = ("month", "virtue", "deed_type", "agency", "province")
Progress = Callable[[str, int, int], None]  # (step, done, of)


def period_key(text: str) -> str:
    """``2570`` → ``fy:2570``; ``2570-Q1`` → ``q:2570-1``; ``2569-11`` → ``m:2026-11``."""
    match = _PERIOD.match(text.strip())
    problem = ValidationProblem(
        "Name the period as 2570 (a fiscal year), 2570-Q1 (a quarter) or 2569-11 "
        "(a month), in Buddhist-Era years.",
        errors=[FieldError("not a period", pointer="#/period")],
    )
    if match is None:
        raise problem
    year, quarter, month = match.groups()
    if quarter:
        key = f"q:{year}-{quarter}"
    elif month:
        if not 1 <= int(month) <= 12:
            raise problem
        key = f"m:{int(year) - 543:04d}-{int(month):02d}"
    else:
        key = f"fy:{year}"
    if periods.parse(key) is None:
        raise problem
    return key


@dataclass(frozen=True)
class Report:
    period: str  # the dashboard's key, e.g. q:2570-1
    lang: str
    context: dict[str, Any]  # what the dashboard page would show, figures hidden alike
    generated_at: datetime

    @property
    def file_stem(self) -> str:
        return f"progress-report-{self.period.replace(':', '-')}"


def gather(session: Session, period: str, lang: str = "th") -> Report:
    """The figures of the period, as the dashboard shows them (nationwide)."""
    set_language(lang)
    data = service.dashboard(session, service.Filters(period))
    context = dashboard_context(session, data, lang)
    return Report(period, lang, context, utcnow())


def to_pdf(report: Report) -> bytes:
    set_language(report.lang)
    template = templates.env.get_template("admin/progress_report_pdf.html")
    as_of = report.context["data"].freshness.as_of
    return html_to_pdf(
        lambda fonts: template.render(
            fonts=fonts,
            lang=report.lang,
            generated=format_datetime(report.generated_at, report.lang, "long"),
            as_of=format_datetime(as_of, report.lang, "long") if as_of else "",
            **report.context,
        )
    )


def _value(text: str) -> Any:
    """A figure as Excel should hold it: a number when it is one ("1,234" → 1234),
    else the text as shown ("<10", "x", "12 ชั่วโมง")."""
    plain = text.replace(",", "")
    try:
        number = Decimal(plain)
    except InvalidOperation:
        return text
    return int(number) if number == number.to_integral_value() else float(number)


def to_xlsx(report: Report) -> bytes:
    """One sheet per table, the same figures as the PDF (hidden ones as "<10" or "x")."""
    from openpyxl import Workbook  # here, not at start: only the XLSX needs it
    from openpyxl.styles import Font

    set_language(report.lang)
    workbook = Workbook()
    about = workbook.active
    assert about is not None
    about.title = _("Report")
    bold = Font(bold=True)
    as_of = report.context["data"].freshness.as_of
    for row in (
        [_("Progress report of the good deeds programme")],
        [_("Period"), report.context["period_label"]],
        [_("Figures as of"), as_of.isoformat(timespec="seconds") if as_of else ""],
        [_("Made on"), report.generated_at.isoformat(timespec="seconds")],
        [_("Cells counting fewer than 10 people show <10; x hides a cell that would reveal one.")],
    ):
        about.append(tabular.xlsx_row(about, row))
    about["A1"].font = bold
    titles = {
        "month": _("By month"),
        "virtue": _("By virtue"),
        "deed_type": _("By kind of good deed"),
        "agency": _("By agency"),
        "province": _("By province"),
    }
    for name in TABLES:
        table = report.context["tables"][name]
        sheet = workbook.create_sheet(titles[name][:31])
        sheet.append(tabular.xlsx_row(sheet, [titles[name], *(c.title for c in table["columns"])]))
        for cell in sheet[1]:
            cell.font = bold
        for row in table["rows"]:
            values = [row.label, *(_value(row.cells[c.key]) for c in table["columns"])]
            sheet.append(tabular.xlsx_row(sheet, values))
        total = [_("Total"), *(_value(table["total"][c.key]) for c in table["columns"])]
        sheet.append(tabular.xlsx_row(sheet, total))
        for cell in sheet[sheet.max_row]:
            cell.font = bold
        sheet.column_dimensions["A"].width = 36
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def build(
    session: Session, period: str, lang: str = "th", progress: Progress | None = None
) -> tuple[Report, bytes, bytes]:
    """The report's PDF and XLSX, telling ``progress`` each step."""
    step = progress or (lambda _step, _done, _of: None)
    step("figures", 0, 3)
    report = gather(session, period, lang)
    step("pdf", 1, 3)
    pdf = to_pdf(report)
    step("xlsx", 2, 3)
    xlsx = to_xlsx(report)
    step("done", 3, 3)
    return report, pdf, xlsx
