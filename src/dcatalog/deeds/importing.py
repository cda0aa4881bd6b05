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
import re
import shutil
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal, InvalidOperation
from functools import lru_cache
from pathlib import Path
from typing import IO, Any

from sqlalchemy.orm import Session

from dcatalog import tabular
from dcatalog.actors import Actor
from dcatalog.config import Settings
from dcatalog.db import transaction
from dcatalog.deeds import service
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
    reason: str
    external_id: str = ""


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

    def close(self) -> None:
        if self.more:
            self._writer.writerow(["", "", more_errors(self.more), ""])


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
        raise ValueError("write the date as DD/MM/YYYY or YYYY-MM-DD")
    if year > 2400:  # Buddhist Era
        year -= 543
    return date(year, month, day)


@lru_cache(maxsize=8192)
def parse_quantity(text: str) -> Decimal:
    cleaned = text.strip().translate(_THAI_DIGITS).replace(",", "")
    try:
        value = Decimal(cleaned)
    except InvalidOperation as exc:
        raise ValueError("not a number") from exc
    if not value.is_finite():
        raise ValueError("not a number")
    return value


def _columns(heading: list[str]) -> dict[str, int]:
    found: dict[str, int] = {}
    for index, title in enumerate(heading):
        name = _HEADINGS.get(title.strip().lower()) or _HEADINGS.get(title.strip())
        if name and name not in found:
            found[name] = index
    missing = [name for name in REQUIRED if name not in found]
    if missing:
        raise FileProblem(
            f"missing column(s): {', '.join(missing)} (first row must name the columns: {', '.join(COLUMNS)})",
            thai=f"ไม่มีคอลัมน์ {', '.join(missing)} (แถวแรกต้องเป็นชื่อคอลัมน์: {', '.join(COLUMNS)})",
        )
    return found


def _to_input(
    cells: list[str], columns: dict[str, int], row: int, control: int | None = None
) -> service.DeedInput | list[RowError]:
    width = len(cells)
    get = {name: cells[i].strip() if i < width else "" for name, i in columns.items()}
    external_id = get["external_id"]
    if control is not None:  # NUL and the like: no ID, date or note holds one
        column = next((n for n, i in columns.items() if i == control), f"column {control + 1}")
        shown = "" if column == "external_id" else external_id
        return [RowError(row, column, "control character", shown)]
    errors = [RowError(row, name, "empty", external_id) for name in REQUIRED if not get[name]]
    quantity, occurred_on = Decimal(0), date.min
    if get["quantity"]:
        try:
            quantity = parse_quantity(get["quantity"])
        except ValueError as exc:
            errors.append(RowError(row, "quantity", str(exc), external_id))
    if get["occurred_on"]:
        try:
            occurred_on = parse_date(get["occurred_on"])
        except ValueError as exc:
            errors.append(RowError(row, "occurred_on", str(exc), external_id))
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
    report: ErrorReport | None = None,
) -> ImportSummary:
    """Import a file for the actor's agency. Without ``all_or_nothing`` each batch of
    rows is committed as it goes (by ``service.record``) (re-running the file is safe: recorded rows come
    back unchanged); with it, nothing is written unless every row is accepted.

    The whole file is checked against ``limits`` first (``FileProblem``), so a file
    refused for its size or a bad cell imports nothing. Errors are kept in row
    order, the first ``listed`` in the summary and every one in ``report``."""
    limits = limits or tabular.Limits()
    tabular.check(path, limits)
    summary = ImportSummary(all_or_nothing=all_or_nothing, listed=listed)
    rows = tabular.read(path, limits)
    heading = next(rows, None)
    if heading is None:
        raise FileProblem("the file is empty", thai="ไฟล์ว่างเปล่า")
    columns = _columns(heading.cells)

    def batches() -> Iterator[tuple[list[tuple[int, service.DeedInput]], list[RowError]]]:
        # A batch is BATCH rows read, good or bad: the errors of a file of bad rows
        # wait in memory one batch at a time too.
        batch: list[tuple[int, service.DeedInput]] = []
        refused: list[RowError] = []
        read = 0
        for row in rows:
            if row.blank:
                continue  # blank lines are not rows
            summary.rows += 1
            read += 1
            parsed = _to_input(row.cells, columns, row.number, row.control)
            if isinstance(parsed, list):
                refused.extend(parsed)
                summary.rejected += 1
            else:
                batch.append((row.number, parsed))
            if read >= BATCH:
                yield batch, refused
                batch, refused, read = [], [], 0
        if read:
            yield batch, refused

    citizens: service.CitizenMemo = {}

    def run() -> None:
        for batch, refused in batches():
            if len(citizens) > _MEMO_LIMIT:
                citizens.clear()
            outcomes = (
                service.record(
                    session, actor, keyer, rules, [item for _, item in batch], citizens=citizens
                )
                if batch
                else []
            )
            for (number, item), outcome in zip(batch, outcomes, strict=True):
                if outcome.result == "created":
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
                        )
                        for e in outcome.errors
                    )
            refused.sort(key=lambda e: (e.row, e.column))
            summary.add_errors(refused)
            if report is not None:
                report.add(refused)
            if progress:
                progress(summary.rows)
        if all_or_nothing and summary.rejected:
            raise _RollBack

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
        report.close()
    return summary


def error_report(summary: ImportSummary, out: IO[str]) -> None:
    """The errors listed in ``summary`` as CSV (with a BOM): row, column, reason,
    external_id, and a last line counting those not listed."""
    report = ErrorReport(out, limit=len(summary.errors), redacted=False, bom=True)
    report.add(summary.errors)
    report.more += summary.errors_not_listed
    report.close()


def template(deed_type: str, example: dict[str, str] | None = None) -> str:
    """A CSV to fill in: the headings and one example row."""
    buffer = io.StringIO()
    writer = tabular.CsvWriter(buffer)  # BOM: Excel opens it as UTF-8 (Thai stays Thai)
    writer.writerow(COLUMNS)
    sample = {
        "national_id": "1-2345-45678-78-1",
        "deed_type": deed_type,
        "quantity": "3",
        "occurred_on": "26/11/2569",
        "province": "TH-10",
        "evidence": "",
        "external_id": "your-own-id-0001",
        **(example or {}),
    }
    writer.writerow([sample[c] for c in COLUMNS])
    return buffer.getvalue()


def import_upload_file(
    database: Any,
    keyer: CitizenKeyer,
    rules: service.Rules,
    actor: Actor,
    upload: Any,
    all_or_nothing: bool = False,
    *,
    limits: tabular.Limits | None = None,
    listed: int = ERRORS_LISTED,
) -> ImportSummary:
    """Import an uploaded file (the API): kept in a private temporary file meanwhile."""
    name = Path(upload.filename or "upload.csv").name
    suffix = Path(name).suffix.lower()
    if suffix not in tabular.SUFFIXES:
        raise tabular.WRONG_KIND
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / f"upload{suffix}"
        with path.open("wb") as handle:
            shutil.copyfileobj(upload.file, handle)
        with database.write_session() as session:
            return import_file(
                session,
                actor,
                keyer,
                rules,
                path,
                all_or_nothing=all_or_nothing,
                limits=limits,
                listed=listed,
            )
