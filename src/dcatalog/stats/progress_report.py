"""The progress report for the Prime Minister's office: the dashboard's figures
for one period (a Thai fiscal year, one of its quarters or a month) as a PDF in
Thai with charts and tables, and an XLSX with the same figures.

The figures are the dashboard's own (``stats.service.dashboard`` through
``stats.dashboard_view.dashboard_context``), as published (perturbed; a small
cell the dashboard hides, "<10", is hidden in the report too), so the
report can never say more than the page. Periods are written as people in the
office write them: ``2570`` (fiscal year 2570, October 2569 – September 2570),
``2570-Q1`` (its first quarter, October–December) or ``2569-11`` (November
2569, a Buddhist-Era year and month).
"""

from __future__ import annotations

import io
import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from markupsafe import Markup
from sqlalchemy.orm import Session

from dcatalog import tabular
from dcatalog.calendars.buddhist_era import format_datetime
from dcatalog.db import utcnow
from dcatalog.problems import FieldError, ValidationProblem
from dcatalog.stats import periods, service, thailand_map
from dcatalog.stats.dashboard_view import dashboard_context
from dcatalog.stats.report_summary import summary
from dcatalog.stats.suppression import HIDDEN_LABEL, SMALL_LABEL
from dcatalog.web.i18n import gettext as _
from dcatalog.web.i18n import set_language
from dcatalog.web.pdf import html_to_pdf
from dcatalog.web.templating import templates

_PERIOD = re.compile(r"^(\d{4})(?:-(?:[Qq]([1-4])|(\d{1,2})))?$")
TABLES = ("month", "virtue", "deed_type", "agency", "province")
_HIDDEN_MAP_FILL = "#e9cf8b"
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
    context["summary"] = summary(session, data, context, lang)
    # The map as the page colours it; a hidden province is amber here (the PDF
    # draws no hatching), as its legend says.
    fills = {
        p["id"]: _HIDDEN_MAP_FILL if p["hidden"] else p["fill"] for p in context["map"]["provinces"]
    }
    context["map_svg"] = Markup(thailand_map.inline_svg(fills))  # noqa: S704 (our own file)
    context["hidden_map_fill"] = _HIDDEN_MAP_FILL
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


def _value(text: str) -> int | float | None:
    """A figure as Excel should hold it: a number ("1,234" → 1234, "12.5" → 12.5),
    or None for an empty or hidden cell ("", "<10", "x")."""
    try:
        number = Decimal(text.replace(",", ""))
    except InvalidOperation:
        return None
    return int(number) if number == number.to_integral_value() else float(number)


def _width(value: Any) -> int:
    """Characters a value takes on screen (Thai vowel and tone marks above or below
    a letter take none)."""
    text = f"{value:,}" if isinstance(value, int | float) else str(value or "")
    return sum(1 for ch in text if unicodedata.category(ch) not in ("Mn", "Me"))


# Hidden cells are left empty, shaded, and their row's note says why.
_HIDDEN_FILL = "EEEEEE"
_MAX_WIDTH = 48


def to_xlsx(report: Report) -> bytes:
    """An "about" sheet, then one sheet per table with the PDF's figures: numbers as
    numbers in Thai number formats, dates in the Buddhist Era, the heading row and
    the labels frozen, widths that fit, a native bar chart of the first column, and
    a hidden figure as an empty shaded cell whose row's note reads "<10"
    (explained under the table), never text in a numeric column."""
    from openpyxl import Workbook  # here, not at start: only the XLSX needs it
    from openpyxl.styles import Alignment, Font, PatternFill

    set_language(report.lang)
    workbook = Workbook()
    about = workbook.active
    assert about is not None
    about.title = _("About this report")[:31]
    bold = Font(bold=True)
    hidden_fill = PatternFill("solid", fgColor=_HIDDEN_FILL)
    as_of = report.context["data"].freshness.as_of
    legend = _(
        "Cells counting fewer than 10 people show <10. Every other figure is adjusted slightly so "
        "that nobody can be singled out: a total may differ from the sum of its rows by a few."
    )
    for row in (
        [_("Progress report of the good deeds programme")],
        [_("Period"), report.context["period_label"]],
        [_("Figures as of"), format_datetime(as_of, report.lang, "long") if as_of else ""],
        [_("Made on"), format_datetime(report.generated_at, report.lang, "long")],
        [legend],
    ):
        about.append(tabular.xlsx_row(about, row))
    about["A1"].font = Font(bold=True, size=14)
    _summary_rows(about, report.context["summary"], report.context["period_label"], bold)
    about.column_dimensions["A"].width = 30
    about.column_dimensions["B"].width = 40
    for letter in "CD":
        about.column_dimensions[letter].width = 18
    titles = {
        "month": _("By month"),
        "virtue": _("By virtue"),
        "deed_type": _("By kind of good deed"),
        "agency": _("By agency"),
        "province": _("By province"),
    }
    for name in TABLES:
        table = report.context["tables"][name]
        columns = table["columns"]
        sheet = workbook.create_sheet(titles[name][:31])
        heading = [titles[name], *(c.title for c in columns), _("Note")]
        sheet.append(tabular.xlsx_row(sheet, heading))
        for cell in sheet[1]:
            cell.font = bold
            cell.alignment = Alignment(wrap_text=True, vertical="top")
        widths = [min(_width(h), 20) for h in heading]
        rows = [*((row.label, row.cells) for row in table["rows"]), (_("Total"), table["total"])]
        for label, cells in rows:
            shown = [cells[c.key] for c in columns]
            values = [_value(text) for text in shown]
            marks = sorted({t for t in shown if t in (SMALL_LABEL, HIDDEN_LABEL)})
            sheet.append(tabular.xlsx_row(sheet, [label, *values, " ".join(marks) or None]))
            line = sheet[sheet.max_row]
            for cell, text, value in zip(line[1:], shown, values, strict=False):
                if value is not None:
                    cell.number_format = "#,##0" if isinstance(value, int) else "#,##0.00"
                elif text in (SMALL_LABEL, HIDDEN_LABEL):
                    cell.fill = hidden_fill
            widths = [max(w, _width(v)) for w, v in zip(widths, [label, *values, ""], strict=False)]
        for cell in sheet[sheet.max_row]:
            cell.font = bold
        sheet.freeze_panes = "B2"
        for index, width in enumerate(widths, start=1):
            letter = sheet.cell(row=1, column=index).column_letter
            sheet.column_dimensions[letter].width = min(max(width + 2, 10), _MAX_WIDTH)
        sheet.append([])
        sheet.append([legend])
        _chart(sheet, titles[name], len(table["rows"]), len(heading))
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def _summary_rows(sheet: Any, summary: dict[str, Any], period_label: str, bold: Any) -> None:
    """The PDF's executive summary under the "about" rows: its sentences, each headline
    figure beside the period before's (numbers as numbers), and the targets."""

    def numbers(texts: list[str]) -> None:
        sheet.append(tabular.xlsx_row(sheet, [texts[0], *(_value(t) for t in texts[1:])]))
        for cell in sheet[sheet.max_row][1:]:
            if isinstance(cell.value, int | float):
                cell.number_format = "#,##0" if isinstance(cell.value, int) else "#,##0.00"

    sheet.append([])
    sheet.append([_("Summary for the executive")])
    sheet[sheet.max_row][0].font = bold
    for line in summary["sentences"]:
        sheet.append(tabular.xlsx_row(sheet, [line]))
    sheet.append([])
    sheet.append([_("Figure"), period_label, summary["before_label"], _("Change")])
    for cell in sheet[sheet.max_row]:
        cell.font = bold
    for c in summary["comparisons"]:
        numbers([c.title, c.now, c.before])
        sheet.cell(row=sheet.max_row, column=4, value=c.change or "—")
    if summary["targets"]:
        sheet.append([])
        heading = _("Towards the targets of %(year)s") % {"year": summary["targets_label"]}
        sheet.append([heading, _("Target"), _("So far"), _("Reached")])
        for cell in sheet[sheet.max_row]:
            cell.font = bold
        for t in summary["targets"]:
            so_far = "<10" if t.so_far is None else f"{t.so_far:,}"
            numbers([t.title, f"{t.target:,}", so_far])
            if t.share is not None:
                sheet.cell(row=sheet.max_row, column=4, value=t.share / 100).number_format = "0%"


def _chart(sheet: Any, title: str, rows: int, width: int) -> None:
    """A native bar chart of the table's first column (its rows, not the total),
    beside the table; hidden figures are gaps."""
    from openpyxl.chart import BarChart, Reference

    if rows == 0:
        return
    chart = BarChart()
    chart.type = "bar" if rows > 12 else "col"  # many rows (provinces) read better across
    chart.title = title
    chart.legend = None
    chart.height = max(7.5, min(0.45 * rows, 40)) if rows > 12 else 7.5
    chart.width = 16
    chart.add_data(Reference(sheet, min_col=2, min_row=1, max_row=rows + 1), titles_from_data=True)
    chart.set_categories(Reference(sheet, min_col=1, min_row=2, max_row=rows + 1))
    anchor = sheet.cell(row=2, column=width + 2).coordinate
    sheet.add_chart(chart, anchor)


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
