"""Bulk files of deeds: CSV (UTF-8, with or without BOM) and XLSX.

Columns: national_id, deed_type, quantity, occurred_on, province, evidence,
external_id — or their Thai headings. Digits may be Thai (๐-๙); dates may be
ISO (2569-11-26 or 2026-11-26) or DD/MM/YYYY, in the Buddhist or the Christian
Era (a year above 2400 is Buddhist). Every row ends imported, unchanged (sent
before) or in the error report with its row number, column and reason: nothing
is dropped silently.
"""

from __future__ import annotations

import io
import json
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from decimal import Decimal, InvalidOperation
from functools import lru_cache
from pathlib import Path
from typing import IO, Any

from sqlalchemy.orm import Session

from dcatalog import tabular
from dcatalog.actors import Actor
from dcatalog.config import Settings
from dcatalog.db import transaction
from dcatalog.deeds import reasons, service
from dcatalog.identity.citizen_key import CitizenKeyer
from dcatalog.logs import redact
from dcatalog.tabular import FileProblem as FileProblem

COLUMNS = (
    "national_id",
    "deed_type",
    "quantity",
    "occurred_on",
    "province",
    "evidence",
    "external_id",
)
REQUIRED = ("national_id", "deed_type", "quantity", "occurred_on", "province", "external_id")
THAI_HEADINGS = {
    "national_id": ("เลขประจำตัวประชาชน", "เลขบัตรประชาชน", "เลขบัตรประจำตัวประชาชน"),
    "deed_type": ("ประเภทความดี", "รหัสประเภทความดี", "ประเภท"),
    "quantity": ("จำนวน", "ปริมาณ"),
    "occurred_on": ("วันที่", "วันที่ทำความดี", "วันที่ทำกิจกรรม"),
    "province": ("จังหวัด",),
    "evidence": ("หลักฐาน",),
    "external_id": ("รหัสอ้างอิง", "เลขที่รายการ", "รหัสรายการ"),
}
_HEADINGS = {
    **{name: name for name in COLUMNS},
    **{heading.lower(): name for name, heading in reasons.HEADINGS_EN.items()},
    **{thai: name for name, alternatives in THAI_HEADINGS.items() for thai in alternatives},
}
_THAI_DIGITS = str.maketrans("๐๑๒๓๔๕๖๗๘๙", "0123456789")
_DMY = re.compile(r"^(\d{1,2})[/.-](\d{1,2})[/.-](\d{4})$")
_YMD = re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})$")
BATCH = 5000
_MEMO_LIMIT = 500_000  # keyed IDs remembered during one import (about 100 MB at most)


@dataclass(frozen=True)
class RowError:
    row: int  # as the spreadsheet numbers it: the heading is row 1
    column: str
    reason: str  # in English (the API's and the CLI's)
    external_id: str = ""
    code: str = ""  # the reason's code (dcatalog.deeds.reasons): pages translate it
    params: tuple[tuple[str, str], ...] = ()
    cells: tuple[str, ...] = field(default=(), compare=False, repr=False)  # the row as sent

    @classmethod
    def of(
        cls, row: int, column: str, code: str, external_id: str = "", cells: tuple[str, ...] = ()
    ) -> RowError:
        return cls(row, column, reasons.MESSAGES[code], external_id, code, (), cells)

    def text(self) -> str:
        """The reason in the page's language."""
        return reasons.shown(self.code, dict(self.params), self.reason)


class CellError(ValueError):
    """A cell that cannot be read as its column's value; ``code`` says why."""

    def __init__(self, code: str) -> None:
        self.code = code
        super().__init__(reasons.MESSAGES[code])


# A template's example row is checked like any other and never recorded: its
# reference number starts with one of these (see docs/recording.md).
EXAMPLE_PREFIXES = ("example-", "ตัวอย่าง-")


def is_example(external_id: str) -> bool:
    return external_id.strip().casefold().startswith(EXAMPLE_PREFIXES)


ERRORS_LISTED = Settings.model_fields["import_errors_listed"].default
REPORT_HEADING = ("row", "column", "reason", "external_id")


@dataclass
class ImportSummary:
    """What an import did. ``errors`` lists the first ``listed`` errors by row (an
    answer must not grow with the file: 500,000 bad rows once made a 128 MB one);
    ``error_count`` counts them all."""

    rows: int = 0
    imported: int = 0
    unchanged: int = 0
    rejected: int = 0
    errors: list[RowError] = field(default_factory=list)
    error_count: int = 0
    all_or_nothing: bool = False
    rolled_back: bool = False
    listed: int = ERRORS_LISTED
    examples: int = 0  # example rows checked and accepted, never recorded

    def add_errors(self, errors: list[RowError]) -> None:
        """Errors of later rows than any added before."""
        self.error_count += len(errors)
        room = self.listed - len(self.errors)
        if room > 0:
            self.errors.extend(errors[:room])

    @property
    def errors_not_listed(self) -> int:
        return self.error_count - len(self.errors)

    def as_dict(self) -> dict[str, Any]:
        return {
            "rows": self.rows,
            "imported": self.imported,
            "unchanged": self.unchanged,
            "rejected": self.rejected,
            "all_or_nothing": self.all_or_nothing,
            "rolled_back": self.rolled_back,
            "errors_total": self.error_count,
            "errors_not_listed": self.errors_not_listed,
        }


class ErrorReport:
    """The refused rows as CSV (row, column, reason, external_id), written as the
    import goes: at most ``limit`` errors, then one line saying how many more there
    were. ``redacted``: whatever looks like a national ID becomes ``[national-id]``
    (a reason may quote a cell, and a clerk may put an ID in any column)."""

    def __init__(self, out: IO[str], *, limit: int, redacted: bool = True, bom: bool = False):
        self._writer = tabular.CsvWriter(out, bom=bom)
        self._writer.writerow(REPORT_HEADING)
        self._limit, self._redacted = limit, redacted
        self.written = self.more = 0

    def start(self, heading: list[str]) -> None:
        pass  # this report names columns by their field names

    def add(self, errors: list[RowError]) -> None:
        for error in errors:
            if self.written >= self._limit:
                self.more += 1
                continue
            reason, external_id = error.reason, error.external_id
            if self._redacted:
                reason, external_id = redact(reason), redact(external_id)
            self._writer.writerow([error.row, error.column, reason, external_id])
            self.written += 1

    def close(self, summary: ImportSummary | None = None) -> None:
        if self.more:
            self._writer.writerow(["", "", more_errors(self.more), ""])


class RefusedRows:
    """The refused rows of a (page) import, kept to be given back: each row as it was
    uploaded, under the file's own headings, with its reasons as codes (translated
    when downloaded). JSON lines: the heading, at most ``limit`` rows, then a last
    line with how many rows were left out and how many example rows were checked.
    The text holds national IDs as uploaded: the job stores it sealed (see
    ``jobs.seal``), never in clear."""

    def __init__(
        self, out: IO[str], *, limit: int, written: int = 0, more: int = 0, started: bool = False
    ) -> None:
        # ``written``, ``more`` and ``started``: where a resumed import's report stands.
        self._out, self._limit = out, limit
        self.written, self.more, self._started = written, more, started
        self._closed = False

    def _line(self, value: Any) -> None:
        self._out.write(json.dumps(value, ensure_ascii=False, separators=(",", ":")) + "\n")

    def start(self, heading: list[str]) -> None:
        if not self._started:
            self._line({"heading": heading})
            self._started = True

    def add(self, errors: list[RowError]) -> None:
        """Errors in row order (a row's errors together)."""
        index = 0
        while index < len(errors):
            row = errors[index].row
            end = index
            while end < len(errors) and errors[end].row == row:
                end += 1
            if self.written >= self._limit:
                self.more += 1
            else:
                first = errors[index]
                self._line(
                    {
                        "row": row,
                        "cells": [_storable(cell) for cell in first.cells],
                        "external_id": first.external_id,
                        "errors": [
                            [e.column, e.code, dict(e.params), e.reason] for e in errors[index:end]
                        ],
                    }
                )
                self.written += 1
            index = end

    def close(self, summary: ImportSummary | None = None) -> None:
        if not self._closed:  # once, whoever closes it first
            self._line({"more": self.more, "examples": summary.examples if summary else 0})
            self._closed = True


_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def _storable(cell: str) -> str:
    # PostgreSQL text cannot hold NUL: a control character (that row's error) goes.
    return _CONTROL.sub("", cell)


def _unquoted(cell: str) -> str:
    """A cell as it was before a download of ours quoted it (``'=...`` back to
    ``=...``): a fixed error file imports the text that was sent."""
    if cell.startswith("'") and cell[1:2] and cell[1] in "=+-@\t\r":
        return cell[1:]
    return cell


def more_errors(count: int) -> str:
    return (
        f"… and {count:,} more errors not listed: fix these rows and import the same file "
        "again (rows recorded already come back as sent before)"
    )


@lru_cache(maxsize=8192)  # a file has few distinct dates and quantities
def parse_date(text: str) -> date:
    text = text.strip().translate(_THAI_DIGITS)
    match = _YMD.match(text)
    if match:
        year, month, day = (int(g) for g in match.groups())
    elif match := _DMY.match(text):
        day, month, year = (int(g) for g in match.groups())
    else:
        raise CellError("date_format")
    if year > 2400:  # Buddhist Era
        year -= 543
    try:
        return date(year, month, day)
    except ValueError as exc:  # 31/02/2569, month 13
        raise CellError("date_impossible") from exc


@lru_cache(maxsize=8192)
def parse_quantity(text: str) -> Decimal:
    cleaned = text.strip().translate(_THAI_DIGITS).replace(",", "")
    try:
        value = Decimal(cleaned)
    except InvalidOperation as exc:
        raise CellError("not_a_number") from exc
    if not value.is_finite():
        raise CellError("not_a_number")
    return value


def check_heading(path: Path, limits: tabular.Limits) -> None:
    """The file's first row names the columns an import needs (``FileProblem``):
    checked before a job is made, so such a file is refused at once."""
    rows = tabular.read(path, limits)
    try:
        heading = next(rows, None)
    finally:
        rows.close()  # type: ignore[attr-defined]
    if heading is None:
        raise FileProblem("the file is empty", thai="ไฟล์ว่างเปล่า")
    _columns(heading.cells)


def _columns(heading: list[str]) -> dict[str, int]:
    found: dict[str, int] = {}
    for index, title in enumerate(heading):
        name = _HEADINGS.get(title.strip().lower()) or _HEADINGS.get(title.strip())
        if name and name not in found:
            found[name] = index
    missing = [name for name in REQUIRED if name not in found]
    if missing:
        thai = [THAI_HEADINGS[name][0] for name in missing]
        raise FileProblem(
            f"missing column(s): {', '.join(missing)} (first row must name the columns: {', '.join(COLUMNS)})",
            thai=f"ไม่มีคอลัมน์ {', '.join(thai)} (แถวแรกต้องเป็นชื่อคอลัมน์: {', '.join(THAI_HEADINGS[c][0] for c in COLUMNS)})",
        )
    return found


# The reason column of our error file: a fixed file is uploaded as it is, and a
# line that has only a reason (the note on rows left out) is no row.
REASON_HEADINGS = ("เหตุที่ไม่รับ", "why refused")


def _reason_column(heading: list[str]) -> int | None:
    for index, title in enumerate(heading):
        if title.strip().casefold() in REASON_HEADINGS:
            return index
    return None


def _to_input(
    cells: list[str], columns: dict[str, int], row: int, control: int | None = None
) -> service.DeedInput | list[RowError]:
    width = len(cells)
    get = {name: _unquoted(cells[i].strip()) if i < width else "" for name, i in columns.items()}
    external_id = get["external_id"]
    sent = tuple(cells)
    if control is not None:  # NUL and the like: no ID, date or note holds one
        column = next((n for n, i in columns.items() if i == control), f"column {control + 1}")
        shown = "" if column == "external_id" else external_id
        return [RowError.of(row, column, "control_character", shown, sent)]
    errors = [
        RowError.of(row, name, "empty", external_id, sent) for name in REQUIRED if not get[name]
    ]
    quantity, occurred_on = Decimal(0), date.min
    if get["quantity"]:
        try:
            quantity = parse_quantity(get["quantity"])
        except CellError as exc:
            errors.append(RowError.of(row, "quantity", exc.code, external_id, sent))
    if get["occurred_on"]:
        try:
            occurred_on = parse_date(get["occurred_on"])
        except CellError as exc:
            errors.append(RowError.of(row, "occurred_on", exc.code, external_id, sent))
    if errors:
        return errors
    return service.DeedInput(
        national_id=get["national_id"],
        deed_type=get["deed_type"],
        quantity=quantity,
        occurred_on=occurred_on,
        province=get["province"],
        evidence=get.get("evidence", ""),
        external_id=external_id,
    )


class _RollBack(Exception):
    pass


def import_file(
    session: Session,
    actor: Actor,
    keyer: CitizenKeyer,
    rules: service.Rules,
    path: Path,
    *,
    all_or_nothing: bool = False,
    progress: Callable[[int], None] | None = None,
    limits: tabular.Limits | None = None,
    listed: int = ERRORS_LISTED,
    report: ErrorReport | RefusedRows | None = None,
    resume: ImportSummary | None = None,
    checkpoint: Callable[[Session, ImportSummary], None] | None = None,
) -> ImportSummary:
    """Import a file for the actor's agency. Without ``all_or_nothing`` each batch of
    rows is one transaction, committed as it goes (re-running the file is safe:
    recorded rows come back unchanged); with it, nothing is written unless every row
    is accepted.

    The whole file is checked against ``limits`` first (``FileProblem``), so a file
    refused for its size or a bad cell imports nothing. Errors are kept in row
    order, the first ``listed`` in the summary and every one in ``report``.

    A job resumes: ``resume`` holds the counts of the rows before (they are skipped),
    and ``checkpoint`` is called in each batch's transaction, after its rows (with
    ``all_or_nothing``: once, in the one transaction, just before it commits), to
    write where the import stands together with the work it covers."""
    limits = limits or tabular.Limits()
    tabular.check(path, limits)
    summary = ImportSummary(all_or_nothing=all_or_nothing, listed=listed)
    skip = 0
    if resume is not None:
        summary = replace(resume, errors=[], listed=listed, all_or_nothing=all_or_nothing)
        skip = resume.rows
    rows = tabular.read(path, limits)
    heading = next(rows, None)
    if heading is None:
        raise FileProblem("the file is empty", thai="ไฟล์ว่างเปล่า")
    columns = _columns(heading.cells)
    reason_at = _reason_column(heading.cells)
    if report is not None:
        report.start(heading.cells)

    def only_a_reason(cells: list[str]) -> bool:
        return reason_at is not None and all(
            not cell.strip() for i, cell in enumerate(cells) if i != reason_at
        )

    Batch = list[tuple[int, tuple[str, ...], service.DeedInput]]

    def batches() -> Iterator[tuple[Batch, list[RowError]]]:
        # A batch is BATCH rows read, good or bad: the errors of a file of bad rows
        # wait in memory one batch at a time too.
        batch: Batch = []
        refused: list[RowError] = []
        read = 0
        skipped = 0
        for row in rows:
            if row.blank or only_a_reason(row.cells):
                continue  # blank lines are not rows
            if skipped < skip:
                skipped += 1  # imported by an earlier run of the job
                continue
            summary.rows += 1
            read += 1
            parsed = _to_input(row.cells, columns, row.number, row.control)
            if isinstance(parsed, list):
                refused.extend(parsed)
                summary.rejected += 1
            else:
                batch.append((row.number, tuple(row.cells), parsed))
            if read >= BATCH:
                yield batch, refused
                batch, refused, read = [], [], 0
        if read:
            yield batch, refused

    citizens: service.CitizenMemo = {}

    def run() -> None:
        for batch, refused in batches():
            if all_or_nothing:
                one_batch(batch, refused)
            else:
                with transaction(session):
                    one_batch(batch, refused)
                    if checkpoint is not None:
                        checkpoint(session, summary)
        if all_or_nothing and summary.rejected:
            raise _RollBack
        if all_or_nothing and checkpoint is not None:
            checkpoint(session, summary)

    def one_batch(batch: Batch, refused: list[RowError]) -> None:
        if len(citizens) > _MEMO_LIMIT:
            citizens.clear()
        real = [entry for entry in batch if not is_example(entry[2].external_id)]
        examples = [entry for entry in batch if is_example(entry[2].external_id)]
        outcomes = (
            service.record(
                session, actor, keyer, rules, [item for *_, item in real], citizens=citizens
            )
            if real
            else []
        )
        checked = (
            service.record(
                session,
                actor,
                keyer,
                rules,
                [item for *_, item in examples],
                citizens=citizens,
                write=False,
            )
            if examples
            else []
        )
        for (number, cells, item), outcome, example in [
            *((entry, outcome, False) for entry, outcome in zip(real, outcomes, strict=True)),
            *((entry, outcome, True) for entry, outcome in zip(examples, checked, strict=True)),
        ]:
            if outcome.result == "created" and example:
                summary.examples += 1
            elif outcome.result == "created":
                summary.imported += 1
            elif outcome.result == "unchanged":
                summary.unchanged += 1
            else:
                summary.rejected += 1
                refused.extend(
                    RowError(
                        number,
                        (e.pointer or "#/").removeprefix("#/") or "row",
                        e.detail,
                        item.external_id,
                        e.code or "",
                        e.params,
                        cells,
                    )
                    for e in outcome.errors
                )
        refused.sort(key=lambda e: (e.row, e.column))
        summary.add_errors(refused)
        if report is not None:
            report.add(refused)
        if progress:
            progress(summary.rows)

    if all_or_nothing:
        try:
            with transaction(session):
                run()
        except _RollBack:
            summary.rolled_back = True
            summary.imported = summary.unchanged = 0
    else:
        run()
    if report is not None:
        report.close(summary)
    return summary


def error_report(summary: ImportSummary, out: IO[str]) -> None:
    """The errors listed in ``summary`` as CSV (with a BOM): row, column, reason,
    external_id, and a last line counting those not listed."""
    report = ErrorReport(out, limit=len(summary.errors), redacted=False, bom=True)
    report.add(summary.errors)
    report.more += summary.errors_not_listed
    report.close()


EXAMPLE_NATIONAL_ID = "1-2345-45678-78-1"  # a valid checksum, nobody's number


def template_rows(
    deed_type: str,
    *,
    lang: str = "en",
    today: date | None = None,
    max_per_record: Decimal | None = None,
) -> list[list[str]]:
    """A file to fill in: the headings of ``lang`` and one example row that the import
    accepts as it is (checked, and never recorded: see ``is_example``). Its quantity
    stays within the type's limit per record and its date is yesterday, so that a
    type taking one at a time (a blood donation) or a date a year back still passes."""
    from dcatalog.calendars.buddhist_era import today_in_thailand

    day = (today or today_in_thailand()) - timedelta(days=1)
    quantity = min(Decimal(1), max_per_record) if max_per_record else Decimal(1)
    thai = lang == "th"
    headings = [THAI_HEADINGS[c][0] if thai else reasons.HEADINGS_EN[c] for c in COLUMNS]
    sample = {
        "national_id": EXAMPLE_NATIONAL_ID,
        "deed_type": deed_type,
        "quantity": f"{quantity.normalize():f}",
        "occurred_on": f"{day.day:02d}/{day.month:02d}/{day.year + 543}"
        if thai
        else day.isoformat(),
        "province": "TH-10",
        "evidence": "ใบรับรอง เลขที่ 0001" if thai else "certificate no. 0001",
        "external_id": "ตัวอย่าง-0001" if thai else "example-0001",
    }
    return [headings, [sample[c] for c in COLUMNS]]


def template(deed_type: str, **options: Any) -> str:
    """The template as CSV (with a BOM: Excel opens it as UTF-8, Thai stays Thai)."""
    return tabular.csv_text(template_rows(deed_type, **options))


def template_xlsx(deed_type: str, **options: Any) -> bytes:
    """The template as an XLSX workbook."""
    from openpyxl import Workbook

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(deed_type[:31].replace(".", "_"))
    for row in template_rows(deed_type, **options):
        sheet.append(tabular.xlsx_row(sheet, row))
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()
