"""Tables in and out: the one reader of uploaded CSV and XLSX files and the one
writer of CSV (and XLSX cells) for downloads.

Reading (deed imports, eligibility reports). An upload is checked before any work
is done with it, against ``Limits`` (settings ``DCATALOG_UPLOAD_*``):

- XLSX: the archive's unpacked size and each big part's compression ratio are
  read from the zip directory before openpyxl opens it (a 1 MB file can hold a
  gigabyte of spaces), and an XML part declaring a DTD or entities is refused
  (openpyxl parses with ``defusedxml`` as well, whose error is caught too);
- both: the number of rows, the characters in a cell (CSV: the csv module's own
  field limit, so a huge cell is never built) and the columns in a row.

A violation is a ``FileProblem`` (``status`` 413 for too large, 422 for a bad
file, ``row`` when a row is to blame) with an English and a Thai message. A cell
holding a control character (NUL and the like: PostgreSQL cannot store NUL, and
none belongs in an ID, a date or a note) is not the file's fault but its row's:
``Row.control`` says which cell, and the caller reports that row.

Writing (every CSV and XLSX download). A spreadsheet runs a cell that starts with
``=``, ``+``, ``-``, ``@``, a tab or a carriage return as a formula (OWASP "CSV
injection"), and our downloads carry text that others typed (an agency's external
ID or evidence, a citizen's ceremony name): such text gets a leading ``'``, which
spreadsheets show as text. Numbers, and text that is just a number, stay as they
are. CSV comes in UTF-8 with a byte-order mark, so that Excel reads the Thai.
"""

from __future__ import annotations

import csv
import io
import re
import zipfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import IO, Any
from xml.parsers import expat

from dcatalog.config import Settings
from dcatalog.problems import Problem, ValidationProblem, problem_type

# --- writing -----------------------------------------------------------------------------

BOM = "\ufeff"
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_PLAIN_NUMBER = re.compile(r"[+-]?(?:\d[\d,]*)(?:\.\d+)?|[+-]?\.\d+")


def neutralise(value: Any) -> Any:
    """``value``, with a leading ``'`` if it is text a spreadsheet would run as a formula."""
    if (
        isinstance(value, str)
        and value.startswith(_FORMULA_START)
        and not _PLAIN_NUMBER.fullmatch(value)
    ):
        return "'" + value
    return value


class CsvWriter:
    """``csv.writer`` for downloads: formula text neutralised, a BOM first (unless
    ``bom=False``, to append to a file that has one)."""

    def __init__(self, handle: IO[str], *, bom: bool = True) -> None:
        if bom:
            handle.write(BOM)
        self._writer = csv.writer(handle)

    def writerow(self, row: Iterable[Any]) -> None:
        self._writer.writerow([neutralise(value) for value in row])

    def writerows(self, rows: Iterable[Iterable[Any]]) -> None:
        for row in rows:
            self.writerow(row)


def csv_text(rows: Iterable[Iterable[Any]]) -> str:
    """A whole (small) CSV download as text, BOM included."""
    out = io.StringIO()
    CsvWriter(out).writerows(rows)
    return out.getvalue()


def xlsx_row(sheet: Any, values: Iterable[Any]) -> list[Any]:
    """``values`` ready for ``sheet.append`` (a normal or a write-only openpyxl
    sheet): openpyxl turns any text starting with ``=`` into a formula, so such
    text goes in a cell typed as text (and shown with Excel's quote prefix)."""
    from openpyxl.cell import WriteOnlyCell

    row: list[Any] = []
    for value in values:
        if neutralise(value) is not value:
            cell = WriteOnlyCell(sheet, value)
            cell.data_type = "s"
            cell.quotePrefix = True
            row.append(cell)
        else:
            row.append(value)
    return row


# --- reading: limits and problems ------------------------------------------------------

FILE_TOO_LARGE = problem_type(
    "file-too-large",
    "The file is too large",
    413,
    "The uploaded file has more rows than the service takes at once, or unpacks to more "
    "than it may (an XLSX file is a zip archive). The detail says which limit; split the "
    "file. Nothing was imported.",
    "ไฟล์ใหญ่เกินไป",
)

# Parts of an XLSX file smaller than this once unpacked are not held to the ratio:
# tiny XML parts compress very well and cost nothing.
_RATIO_FROM = 1024 * 1024
# Excel's own widest row (column XFD): a CSV line of a million commas is not a row.
MAX_COLUMNS = 16_384
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_PROLOG_CHUNK = 64 * 1024


def _default(name: str) -> Any:
    return Settings.model_fields[name].default


@dataclass(frozen=True)
class Limits:
    """What an uploaded table may hold (``Limits.of(settings)``)."""

    max_rows: int = field(default_factory=lambda: _default("upload_max_rows"))
    max_cell_chars: int = field(default_factory=lambda: _default("upload_max_cell_chars"))
    xlsx_max_unpacked_bytes: int = field(
        default_factory=lambda: _default("upload_xlsx_max_unpacked_bytes")
    )
    xlsx_max_ratio: int = field(default_factory=lambda: _default("upload_xlsx_max_ratio"))

    @classmethod
    def of(cls, settings: Settings) -> Limits:
        return cls(
            max_rows=settings.upload_max_rows,
            max_cell_chars=settings.upload_max_cell_chars,
            xlsx_max_unpacked_bytes=settings.upload_xlsx_max_unpacked_bytes,
            xlsx_max_ratio=settings.upload_xlsx_max_ratio,
        )


class FileProblem(ValueError):
    """The file as a whole cannot be read (not one row's fault): ``str()`` is the
    English reason, ``thai`` the Thai one; ``status`` 413 (too large) or 422."""

    def __init__(
        self, reason: str, *, thai: str = "", too_large: bool = False, row: int | None = None
    ) -> None:
        super().__init__(reason)
        self.thai = thai
        self.status = 413 if too_large else 422
        self.row = row

    def problem(self, lead: str) -> Problem:
        """The problem document for an API answer: ``lead`` then the reason."""
        extensions: dict[str, Any] = {"detail_th": self.thai} if self.thai else {}
        if self.row is not None:
            extensions["row"] = self.row
        if self.status == 413:
            return FileTooLarge(f"{lead}: {self}.", **extensions)
        return ValidationProblem(f"{lead}: {self}.", **extensions)


class FileTooLarge(Problem):
    kind = FILE_TOO_LARGE


def _too_many_rows(limits: Limits) -> FileProblem:
    return FileProblem(
        f"the file has more than {limits.max_rows:,} rows: split it",
        thai=f"ไฟล์มีเกิน {limits.max_rows:,} แถว กรุณาแบ่งเป็นหลายไฟล์",
        too_large=True,
    )


def _cell_too_long(limits: Limits, row: int) -> FileProblem:
    return FileProblem(
        f"row {row} has a cell longer than {limits.max_cell_chars:,} characters",
        thai=f"แถวที่ {row} มีช่องที่ยาวเกิน {limits.max_cell_chars:,} ตัวอักษร",
        row=row,
    )


def _too_wide(row: int) -> FileProblem:
    return FileProblem(
        f"row {row} has more than {MAX_COLUMNS:,} columns",
        thai=f"แถวที่ {row} มีเกิน {MAX_COLUMNS:,} คอลัมน์",
        row=row,
    )


def _not_xlsx() -> FileProblem:
    return FileProblem(
        "the file is not a readable XLSX file",
        thai="ไฟล์นี้ไม่ใช่ไฟล์ XLSX ที่อ่านได้",
    )


def _xml_declarations() -> FileProblem:
    return FileProblem(
        "the XLSX file declares XML entities or a DTD, which is not allowed: "
        "save it again from a spreadsheet program",
        thai="ไฟล์ XLSX นี้ประกาศ XML entity หรือ DTD ซึ่งไม่อนุญาต กรุณาบันทึกไฟล์ใหม่จากโปรแกรมตารางคำนวณ",
    )


WRONG_KIND = FileProblem("use a .csv (UTF-8) or .xlsx file", thai="ใช้ไฟล์ .csv (UTF-8) หรือ .xlsx")
SUFFIXES = (".csv", ".txt", ".xlsx")


# --- reading: rows -------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Row:
    number: int  # as the spreadsheet numbers it: the heading is row 1
    cells: list[str]
    control: int | None = None  # the first cell holding a control character, if any

    @property
    def blank(self) -> bool:
        return not any(c.strip() for c in self.cells)


def read(path: Path, limits: Limits) -> Iterator[Row]:
    """The file's rows as text cells, heading first, checked against ``limits`` as
    they come (``FileProblem``). Call ``check`` first to refuse a bad file before
    doing anything with its first rows."""
    suffix = path.suffix.lower()
    if suffix == ".xlsx":
        return _checked(_xlsx_rows(path, limits), limits)
    if suffix in (".csv", ".txt"):
        return _checked(_csv_rows(path, limits), limits)
    raise WRONG_KIND


def check(path: Path, limits: Limits) -> int:
    """Read the whole file against ``limits`` (``FileProblem``); the number of rows
    under the heading."""
    return max(sum(1 for _row in read(path, limits)) - 1, 0)


def inspect(path: Path, limits: Limits) -> int | None:
    """The checks that are quick before an upload is accepted: a CSV file is read
    through (as fast as counting its lines); of an XLSX file, the archive and the
    rows its sheet declares (its cells are checked when it is read). The number of
    rows under the heading, or None when the file does not say."""
    if path.suffix.lower() != ".xlsx":
        return check(path, limits)
    _check_archive(path, limits)
    from openpyxl import load_workbook

    try:
        workbook = load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:
        raise _as_file_problem(exc) from exc
    try:
        last = workbook.worksheets[0].max_row if workbook.worksheets else None
    finally:
        workbook.close()
    if not isinstance(last, int):
        return None
    if last - 1 > limits.max_rows:
        raise _too_many_rows(limits)
    return max(last - 1, 0)


def _checked(rows: Iterator[list[str]], limits: Limits) -> Iterator[Row]:
    for number, cells in enumerate(rows, start=1):
        if number - 1 > limits.max_rows:
            raise _too_many_rows(limits)
        if len(cells) > MAX_COLUMNS:
            raise _too_wide(number)
        if cells and max(map(len, cells)) > limits.max_cell_chars:
            raise _cell_too_long(limits, number)
        control = None
        # One search per row (tabs are allowed, so they can join the cells).
        if _CONTROL.search("\t".join(cells)):
            control = next(i for i, c in enumerate(cells) if _CONTROL.search(c))
        yield Row(number, cells, control)


def _csv_rows(path: Path, limits: Limits) -> Iterator[list[str]]:
    # The csv module's limit is process-wide; every reader sets it from the same
    # settings. One more than the limit, so that a cell of exactly the limit passes.
    csv.field_size_limit(limits.max_cell_chars + 1)
    records = 0
    with path.open("rb") as raw:
        text = io.TextIOWrapper(raw, encoding="utf-8-sig", newline="")
        reader = csv.reader(text)
        try:
            for cells in reader:
                records += 1  # the row at fault, if the next one cannot be read
                yield cells
        except UnicodeDecodeError as exc:
            raise FileProblem(
                "the CSV file is not UTF-8: save it as 'CSV UTF-8'",
                thai="ไฟล์ CSV นี้ไม่ได้เข้ารหัส UTF-8 กรุณาบันทึกเป็น 'CSV UTF-8'",
            ) from exc
        except csv.Error as exc:
            row = records + 1
            if "field larger than field limit" in str(exc):
                raise _cell_too_long(limits, row) from exc
            raise FileProblem(
                f"row {row} cannot be read as CSV ({exc})",
                thai=f"อ่านแถวที่ {row} เป็น CSV ไม่ได้",
                row=row,
            ) from exc


def _as_file_problem(exc: Exception) -> FileProblem:
    from defusedxml import DefusedXmlException

    if isinstance(exc, FileProblem):
        return exc
    if isinstance(exc, DefusedXmlException):
        return _xml_declarations()
    return _not_xlsx()


def _xlsx_rows(path: Path, limits: Limits) -> Iterator[list[str]]:
    _check_archive(path, limits)
    from openpyxl import load_workbook

    try:
        workbook = load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many kinds for a bad file
        raise _as_file_problem(exc) from exc
    try:
        if not workbook.worksheets:
            raise _not_xlsx()
        sheet = workbook.worksheets[0]
        try:
            for row in sheet.iter_rows(values_only=True):
                yield [_cell(v) for v in row]
        except FileProblem:
            raise
        except Exception as exc:  # the sheet is parsed as it is read
            raise _as_file_problem(exc) from exc
    finally:
        workbook.close()


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


def _check_archive(path: Path, limits: Limits) -> None:
    """Refuse a zip bomb and XML with a DTD before openpyxl reads anything. The zip
    directory's sizes can be trusted as bounds: Python's zipfile never unpacks more
    than a part's declared size."""
    try:
        archive = zipfile.ZipFile(path)
    except Exception as exc:  # BadZipFile, but also EOFError, ValueError … for a broken one
        raise _not_xlsx() from exc
    with archive:
        parts = archive.infolist()
        unpacked = sum(part.file_size for part in parts)
        if unpacked > limits.xlsx_max_unpacked_bytes:
            raise FileProblem(
                f"the XLSX file unpacks to more than {limits.xlsx_max_unpacked_bytes:,} bytes",
                thai=f"ไฟล์ XLSX นี้เมื่อแตกไฟล์แล้วใหญ่เกิน {limits.xlsx_max_unpacked_bytes:,} ไบต์",
                too_large=True,
            )
        for part in parts:
            if part.file_size > _RATIO_FROM and part.file_size > limits.xlsx_max_ratio * max(
                part.compress_size, 1
            ):
                raise FileProblem(
                    f"the XLSX file is compressed more than {limits.xlsx_max_ratio} times "
                    "(a real spreadsheet is not)",
                    thai=f"ไฟล์ XLSX นี้ถูกบีบอัดเกิน {limits.xlsx_max_ratio} เท่า ซึ่งไม่ใช่ตารางคำนวณปกติ",
                    too_large=True,
                )
        for part in parts:
            if part.filename.lower().endswith((".xml", ".rels", ".vml")):
                try:
                    with archive.open(part) as handle:
                        _refuse_declarations(handle)
                except FileProblem:
                    raise
                except Exception as exc:  # a broken part (bad CRC, unknown compression …)
                    raise _not_xlsx() from exc


class _RootReached(Exception):
    pass


def _refuse_declarations(handle: IO[bytes]) -> None:
    """A DTD (and so any entity) can only come before an XML document's root element:
    read up to it and refuse a declaration."""
    parser = expat.ParserCreate()

    def refuse(*_args: Any) -> None:
        raise _xml_declarations()

    def root(*_args: Any) -> None:
        raise _RootReached

    parser.StartDoctypeDeclHandler = refuse
    parser.EntityDeclHandler = refuse
    parser.StartElementHandler = root
    try:
        while chunk := handle.read(_PROLOG_CHUNK):
            parser.Parse(chunk, False)
        parser.Parse(b"", True)
    except _RootReached:
        return
    except expat.ExpatError as exc:
        raise _not_xlsx() from exc
