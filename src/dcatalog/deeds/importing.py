"""Bulk files of deeds: CSV (UTF-8, with or without BOM) and XLSX.

Columns: national_id, deed_type, quantity, occurred_on, province, evidence,
external_id — or their Thai headings. Digits may be Thai (๐-๙); dates may be
ISO (2569-11-26 or 2026-11-26) or DD/MM/YYYY, in the Buddhist or the Christian
Era (a year above 2400 is Buddhist). Every row ends imported, unchanged (sent
before) or in the error report with its row number, column and reason: nothing
is dropped silently.
"""

from __future__ import annotations

import csv
import io
import re
import shutil
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from functools import lru_cache
from pathlib import Path
from typing import IO, Any

from sqlalchemy.orm import Session

from dcatalog.actors import Actor
from dcatalog.db import transaction
from dcatalog.deeds import service
from dcatalog.identity.citizen_key import CitizenKeyer

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


class FileProblem(ValueError):
    """The file as a whole cannot be read (not a row's fault)."""


@dataclass(frozen=True)
class RowError:
    row: int  # as the spreadsheet numbers it: the heading is row 1
    column: str
    reason: str
    external_id: str = ""


@dataclass
class ImportSummary:
    rows: int = 0
    imported: int = 0
    unchanged: int = 0
    rejected: int = 0
    errors: list[RowError] = field(default_factory=list)
    all_or_nothing: bool = False
    rolled_back: bool = False

    def as_dict(self) -> dict[str, Any]:
        return {
            "rows": self.rows,
            "imported": self.imported,
            "unchanged": self.unchanged,
            "rejected": self.rejected,
            "all_or_nothing": self.all_or_nothing,
            "rolled_back": self.rolled_back,
        }


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


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.date().isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def read_rows(path: Path) -> Iterator[list[str]]:
    """The file's rows as text cells, heading first."""
    suffix = path.suffix.lower()
    if suffix == ".xlsx":
        from openpyxl import load_workbook

        try:
            workbook = load_workbook(path, read_only=True, data_only=True)
        except Exception as exc:  # openpyxl raises many kinds for a bad file
            raise FileProblem(f"{path.name} is not a readable XLSX file") from exc
        sheet = workbook.worksheets[0]
        for row in sheet.iter_rows(values_only=True):
            yield [_cell(v) for v in row]
        workbook.close()
        return
    if suffix not in (".csv", ".txt"):
        raise FileProblem("use a .csv (UTF-8) or .xlsx file")
    with path.open("rb") as raw:
        text = io.TextIOWrapper(raw, encoding="utf-8-sig", newline="")
        try:
            yield from csv.reader(text)
        except UnicodeDecodeError as exc:
            raise FileProblem("the CSV file is not UTF-8: save it as 'CSV UTF-8'") from exc


def _columns(heading: list[str]) -> dict[str, int]:
    found: dict[str, int] = {}
    for index, title in enumerate(heading):
        name = _HEADINGS.get(title.strip().lower()) or _HEADINGS.get(title.strip())
        if name and name not in found:
            found[name] = index
    missing = [name for name in REQUIRED if name not in found]
    if missing:
        raise FileProblem(
            f"missing column(s): {', '.join(missing)} (first row must name the columns: {', '.join(COLUMNS)})"
        )
    return found


def _to_input(
    cells: list[str], columns: dict[str, int], row: int
) -> service.DeedInput | list[RowError]:
    width = len(cells)
    get = {name: cells[i].strip() if i < width else "" for name, i in columns.items()}
    external_id = get["external_id"]
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
) -> ImportSummary:
    """Import a file for the actor's agency. Without ``all_or_nothing`` each batch of
    rows is committed as it goes (by ``service.record``) (re-running the file is safe: recorded rows come
    back unchanged); with it, nothing is written unless every row is accepted."""
    summary = ImportSummary(all_or_nothing=all_or_nothing)
    rows = read_rows(path)
    heading = next(rows, None)
    if heading is None:
        raise FileProblem("the file is empty")
    columns = _columns(heading)

    def batches() -> Iterator[list[tuple[int, service.DeedInput]]]:
        batch: list[tuple[int, service.DeedInput]] = []
        for number, cells in enumerate(rows, start=2):
            if not any(c.strip() for c in cells):
                continue  # blank lines are not rows
            summary.rows += 1
            parsed = _to_input(cells, columns, number)
            if isinstance(parsed, list):
                summary.errors.extend(parsed)
                summary.rejected += 1
                continue
            batch.append((number, parsed))
            if len(batch) >= BATCH:
                yield batch
                batch = []
        if batch:
            yield batch

    citizens: service.CitizenMemo = {}

    def run() -> None:
        for batch in batches():
            if len(citizens) > _MEMO_LIMIT:
                citizens.clear()
            outcomes = service.record(
                session, actor, keyer, rules, [item for _, item in batch], citizens=citizens
            )
            for (number, item), outcome in zip(batch, outcomes, strict=True):
                if outcome.result == "created":
                    summary.imported += 1
                elif outcome.result == "unchanged":
                    summary.unchanged += 1
                else:
                    summary.rejected += 1
                    summary.errors.extend(
                        RowError(
                            number,
                            (e.pointer or "#/").removeprefix("#/") or "row",
                            e.detail,
                            item.external_id,
                        )
                        for e in outcome.errors
                    )
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
    summary.errors.sort(key=lambda e: (e.row, e.column))
    return summary


def error_report(summary: ImportSummary, out: IO[str]) -> None:
    """The rows not imported, as CSV: row, column, reason, external_id."""
    writer = csv.writer(out)
    writer.writerow(["row", "column", "reason", "external_id"])
    for error in summary.errors:
        writer.writerow([error.row, error.column, error.reason, error.external_id])


def template(deed_type: str, example: dict[str, str] | None = None) -> str:
    """A CSV to fill in: the headings and one example row."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
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
    return "\ufeff" + buffer.getvalue()  # BOM: Excel opens it as UTF-8 (Thai stays Thai)


def import_upload_file(
    database: Any,
    keyer: CitizenKeyer,
    rules: service.Rules,
    actor: Actor,
    upload: Any,
    all_or_nothing: bool = False,
) -> ImportSummary:
    """Import an uploaded file (API or page): kept in a private temporary file meanwhile."""
    name = Path(upload.filename or "upload.csv").name
    suffix = Path(name).suffix.lower()
    if suffix not in (".csv", ".txt", ".xlsx"):
        raise FileProblem("use a .csv (UTF-8) or .xlsx file")
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / f"upload{suffix}"
        with path.open("wb") as handle:
            shutil.copyfileobj(upload.file, handle)
        with database.write_session() as session:
            return import_file(session, actor, keyer, rules, path, all_or_nothing=all_or_nothing)
