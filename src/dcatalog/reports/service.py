"""Eligibility reports: which of the citizens a partner names meet one of its
benefits' rules for an academic year, with the figures behind each answer.

We never keep national IDs in clear, so a partner cannot match our citizen keys:
it sends its own list (CSV or XLSX with a national-ID column and, if it likes, a
reference column of its own) and gets one row back for every row it sent: the
row number, its reference, the ID masked, whether the citizen's consent covers
what the rule reads, the figure of every condition and met yes/no. Without
consent (or, for a minor, without a guardian's consent too) the row says so and
shows no figures; a row whose ID is not a national ID says why.

The consent rules are those of one eligibility check
(``benefits.service.check_eligibility``), applied set-based: the file is read in
chunks of ``CHUNK`` rows and each chunk is answered in one transaction with a
handful of queries joined to a temporary table of the chunk's citizen keys
(active consents, birth dates, guardians' consents, and the rule itself compiled
to SQL by ``batch_query``), then its access-log lines are written by bulk insert
(PostgreSQL ``COPY``). Every citizen looked up is in the access log, with the
purpose and whether the read was allowed or refused. docs/benchmarks.md has what
this costs for a million rows.

"For an academic year": the partner names the academic year whose deeds count.
The rule is evaluated on the day that makes its academic-year conditions land on
that year (see ``as_of``); a rule whose conditions cannot all be placed on one
academic year is refused with the reason.
"""

from __future__ import annotations

import json
import queue
import threading
import uuid
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import IO, Any, Protocol

from sqlalchemy import Column, MetaData, String, Table, Text, cast, select, text
from sqlalchemy.orm import Session

from dcatalog import tabular
from dcatalog.accounts.permissions import Scope
from dcatalog.actors import Actor
from dcatalog.benefits import rules
from dcatalog.benefits.evaluation import batch_query
from dcatalog.benefits.models import Benefit
from dcatalog.calendars.periods import MonthDay, PeriodKind, academic_year, period_bounds
from dcatalog.catalog.models import DeedType, Virtue
from dcatalog.catalog.schemas import UNITS
from dcatalog.citizens import consent as consents
from dcatalog.citizens.disclosure import checked_purpose
from dcatalog.citizens.models import AccessLog, AccessOutcome, Consent, GuardianConsent
from dcatalog.db import bulk_insert, new_id, transaction, utcnow
from dcatalog.deeds.importing import THAI_HEADINGS
from dcatalog.identity.citizen_key import CitizenKeyer
from dcatalog.identity.models import Citizen
from dcatalog.identity.national_id import InvalidNationalId, normalise
from dcatalog.identity.sessions import AGE_OF_MAJORITY, is_minor
from dcatalog.logs import redact
from dcatalog.problems import FieldError, Forbidden, NotFound, ValidationProblem
from dcatalog.review import ReviewStatus
from dcatalog.tabular import FileProblem

# Rows answered per transaction. At national scale each chunk scans the consents,
# citizens and tallies once (PostgreSQL joins a big chunk by hashing; probing the
# indexes key by key costs more), so big chunks are faster: 1,000,000 rows in two
# take about 45 s, in four about 58 s (docs/benchmarks.md), for about 0.9 GB and
# 0.7 GB of memory at the peak. SQLite holds its one write lock for a chunk:
# smaller ones there.
CHUNK = 500_000
SQLITE_CHUNK = 20_000
LANGUAGES = ("th", "en")
_ID_HEADINGS = {"national_id", *THAI_HEADINGS["national_id"]}
_REFERENCE_HEADINGS = {
    "reference",
    "ref",
    "external_id",
    "borrower_id",
    "borrower_number",
    "เลขอ้างอิง",
    "รหัสอ้างอิง",
    "เลขที่ผู้กู้",
    "รหัสผู้กู้",
}
_REFERENCE_LENGTH = 100
_LOG_SLICE = 50_000  # access-log lines per bulk insert
_CENT = Decimal("0.01")

# The keys of the chunk being answered: the queries join it, so that thousands of
# keys cost no parameters (SQLite takes at most 32,766) and PostgreSQL plans one join.
# No primary key: the keys are distinct already, and its index would triple the
# time to fill the table.
_KEYS = Table("report_key", MetaData(), Column("citizen_key", String(64)), prefixes=["TEMPORARY"])
_ACCESS_LOG: Table = AccessLog.__table__  # type: ignore[assignment]


# --- what a report is for --------------------------------------------------------------


@dataclass(frozen=True)
class ReportSpec:
    """A checked request: the agency's own benefit, the academic year and the day
    the rule is evaluated on."""

    agency_id: uuid.UUID
    benefit_code: str
    rule: rules.Rule
    academic_year: int
    as_of: date
    purpose: str
    language: str


def _invalid(pointer: str, english: str, thai: str) -> ValidationProblem:
    return ValidationProblem(
        f"The report cannot be made: {english}",
        errors=[FieldError(english, pointer=pointer, detail_th=thai)],
    )


def as_of(rule: rules.Rule, year: int, academic_start: MonthDay) -> date:
    """The day on which the rule's academic-year conditions count academic year
    ``year``: the first day of academic year ``year - offset`` (for the Fund's
    renewal rule, offset -1, the first day of the year after). Lifetime conditions
    count everything up to the report whatever the day. Any other period (a
    calendar or fiscal year, rolling days), or academic years at several offsets,
    cannot be placed on one academic year: ``ValidationProblem``."""
    offsets = set()
    for condition in rules.conditions(rule):
        if condition.period == "academic_year":
            offsets.add(condition.offset)
        elif condition.period != "lifetime":
            raise _invalid(
                "#/benefit",
                f"its rule counts by {condition.period.replace('_', ' ')}, not by academic year.",
                "เกณฑ์ของสิทธิ์นี้ไม่ได้นับตามปีการศึกษา จึงออกรายงานตามปีการศึกษาไม่ได้",
            )
    if not offsets:
        raise _invalid(
            "#/benefit",
            "its rule does not count by academic year.",
            "เกณฑ์ของสิทธิ์นี้ไม่ได้นับตามปีการศึกษา จึงออกรายงานตามปีการศึกษาไม่ได้",
        )
    if len(offsets) > 1:
        raise _invalid(
            "#/benefit",
            "its rule reads several academic years at once, so it cannot be placed on one.",
            "เกณฑ์ของสิทธิ์นี้นับหลายปีการศึกษาพร้อมกัน จึงออกรายงานสำหรับปีการศึกษาเดียวไม่ได้",
        )
    (offset,) = offsets
    first_day = period_bounds(PeriodKind.ACADEMIC_YEAR, year - offset, academic_start).start
    assert first_day is not None  # an academic year has bounds
    return first_day


def reportable(session: Session, actor: Actor) -> list[Benefit]:
    """The approved benefits of the actor's agency (what it may report on)."""
    if actor.agency_id is None:
        return []
    query = select(Benefit).where(
        Benefit.agency_id == actor.agency_id, Benefit.status == ReviewStatus.APPROVED
    )
    return sorted(session.scalars(query), key=lambda b: b.sort_key)


def prepare(
    session: Session,
    actor: Actor,
    *,
    benefit_code: str,
    academic_year_be: int,
    purpose: str = "",
    language: str = "th",
    today: date,
    academic_start: MonthDay,
) -> ReportSpec:
    """Check a request for a report (the agency's own approved benefit, a year the
    rule can be placed on, a purpose the citizens will read)."""
    if not actor.can(Scope.ELIGIBILITY_READ) or actor.agency_id is None:
        raise Forbidden("Eligibility reports need the permission eligibility:read of an agency.")
    benefit = next((b for b in reportable(session, actor) if b.code == benefit_code.strip()), None)
    if benefit is None:  # another agency's benefit is not even said to exist
        raise NotFound(f"Your agency offers no benefit {benefit_code!r}.")
    current = academic_year(today, academic_start)
    if not 2500 <= academic_year_be <= current:
        raise _invalid(
            "#/academic_year",
            f"name an academic year in the Buddhist Era, up to the current one ({current}).",
            f"ระบุปีการศึกษาเป็นพุทธศักราช ไม่เกินปีการศึกษาปัจจุบัน ({current})",
        )
    rule = rules.parse(benefit.rule)
    day = as_of(rule, academic_year_be, academic_start)
    purpose = purpose.strip() or (
        f"eligibility report for {benefit.code}, academic year {academic_year_be}"
    )
    return ReportSpec(
        agency_id=actor.agency_id,
        benefit_code=benefit.code,
        rule=rule,
        academic_year=academic_year_be,
        as_of=day,
        purpose=checked_purpose(purpose),
        language=language if language in LANGUAGES else LANGUAGES[0],
    )


# --- where the rows go ---------------------------------------------------------------


class Sink(Protocol):
    """A result file being written, row by row."""

    def write(self, row: Sequence[Any]) -> None: ...

    def close(self) -> None: ...


class CsvSink:
    """CSV in UTF-8 with a byte-order mark, so that Excel reads the Thai right (and
    formula text neutralised: ``tabular.CsvWriter``)."""

    def __init__(self, handle: IO[str]) -> None:
        self._writer = tabular.CsvWriter(handle)
        self._handle = handle

    @classmethod
    def to_path(cls, path: Path) -> CsvSink:
        return cls(path.open("w", encoding="utf-8", newline=""))

    def write(self, row: Sequence[Any]) -> None:
        self._writer.writerow([_text(v) for v in row])

    def close(self) -> None:
        self._handle.close()


class XlsxSink:
    """XLSX written as it goes (openpyxl's write-only mode keeps memory flat)."""

    def __init__(self, path: Path) -> None:
        from openpyxl import Workbook

        self._path = path
        self._book = Workbook(write_only=True)
        self._sheet = self._book.create_sheet("report")

    def write(self, row: Sequence[Any]) -> None:
        self._sheet.append(tabular.xlsx_row(self._sheet, row))

    def close(self) -> None:
        self._book.save(self._path)


def sink_for(path: Path) -> Sink:
    """A sink writing the file at ``path``, CSV or XLSX by its suffix."""
    if path.suffix.lower() == ".xlsx":
        return XlsxSink(path)
    return CsvSink.to_path(path)


def _text(value: Any) -> Any:
    if isinstance(value, Decimal):
        return format(value.normalize(), "f")  # 36.00 → 36, 12.50 → 12.5
    return value


# --- the report ------------------------------------------------------------------------


@dataclass
class Summary:
    rows: int = 0
    met: int = 0
    not_met: int = 0
    refused: int = 0  # no consent covering the rule, or a minor without a guardian's
    invalid: int = 0  # not a national ID


@dataclass(slots=True)
class _Row:
    number: int  # as the spreadsheet numbers it: the heading is row 1
    reference: str
    masked: str = ""
    key: str | None = None
    invalid: InvalidNationalId | None = None
    control: bool = False  # a cell holds a control character (NUL and the like)


CONTROL_EN = "a cell holds a control character"
CONTROL_TH = "มีช่องที่มีอักขระควบคุม"

# Why a row has no figures (also the access log's words for a refused read).
NO_CONSENT = "no consent covering what the rule reads"
MINOR = "minor without a guardian's consent"
_WORDS = {
    "th": {
        "yes": "ใช่",
        "no": "ไม่ใช่",
        NO_CONSENT: "ไม่มีความยินยอมที่ครอบคลุมข้อมูลที่เกณฑ์ใช้",
        MINOR: "ผู้เยาว์ที่ยังไม่มีความยินยอมของผู้ปกครอง",
    },
    "en": {"yes": "yes", "no": "no", NO_CONSENT: NO_CONSENT, MINOR: MINOR},
}
_HEADINGS = {
    "th": ("แถว", "เลขอ้างอิง", "เลขประจำตัวประชาชน (ปิดบัง)", "ยินยอม", "ผ่านเกณฑ์", "หมายเหตุ"),
    "en": ("row", "reference", "national_id_masked", "consent", "met", "note"),
}


def headings(session: Session, spec: ReportSpec, academic_start: MonthDay) -> list[str]:
    """The result's first row: fixed columns around one column per condition, which
    names what is counted, over which period, and the bound."""
    row, reference, masked, consent, met, note = _HEADINGS[spec.language]
    thai = spec.language == "th"
    names = {f"virtue:{v.code}": v.name(spec.language) for v in session.scalars(select(Virtue))}
    units = {}
    for entry in session.scalars(select(DeedType)):
        if entry.in_force is not None:
            names[f"type:{entry.code}"] = entry.in_force.name(spec.language)
            units[f"type:{entry.code}"] = entry.in_force.unit
    figures = []
    for condition in rules.conditions(spec.rule):
        if condition.measure == "count":
            what = "จำนวนครั้ง" if thai else "times"
        elif condition.measure == "credits":
            what = "เครดิต" if thai else "credits"
        else:
            unit = units.get(condition.subject)
            thai_unit, english_unit = UNITS.get(unit or "", ("ปริมาณ", "quantity"))
            what = thai_unit if thai else english_unit
        if condition.period == "lifetime":
            period = "ทั้งหมด" if thai else "all time"
        else:
            year = academic_year(spec.as_of, academic_start) + condition.offset
            period = f"ปีการศึกษา {year}" if thai else f"academic year {year}"
        bound = _text(condition.at_least)
        name = names.get(condition.subject, condition.subject)
        need = f"เกณฑ์ {bound}" if thai else f"at least {bound}"
        figures.append(f"{what}: {name}, {period} ({need})")
    return [row, reference, masked, consent, *figures, met, note]


@dataclass(frozen=True, slots=True)
class _Answer:
    refused: str = ""  # why nothing is shown; empty when allowed
    met: bool = False
    figures: tuple[Decimal, ...] = ()


_REFUSED = _Answer(NO_CONSENT)
_REFUSED_MINOR = _Answer(MINOR)


def _cents(value: Any) -> Decimal:
    """A figure as the evaluator gives it (PostgreSQL sends it rounded already;
    SQLite sums quantities as floating point)."""
    if isinstance(value, Decimal) and value.as_tuple().exponent == -2:
        return value
    return Decimal(str(value or 0)).quantize(_CENT)


@dataclass
class _Context:
    session: Session
    actor: Actor
    spec: ReportSpec
    consent_rule: consents.Coverage
    today: date
    academic_start: MonthDay
    zeros: tuple[Decimal, ...] = field(default=())
    _scopes: dict[str, frozenset[str]] = field(default_factory=dict)

    def scope_of(self, json_text: str) -> frozenset[str]:
        """A consent's scope from its JSON text (decoded once per distinct text)."""
        known = self._scopes.get(json_text)
        if known is None:
            known = self._scopes[json_text] = frozenset(json.loads(json_text))
        return known


def build(
    session: Session,
    actor: Actor,
    keyer: CitizenKeyer,
    spec: ReportSpec,
    path: Path,
    sinks: Sequence[Sink],
    *,
    today: date,
    academic_start: MonthDay,
    progress: Callable[[int], None] | None = None,
    limits: tabular.Limits | None = None,
) -> Summary:
    """Answer every row of the file at ``path`` into the sinks (the caller closes
    them). ``today`` decides who is a minor; the rule is evaluated on
    ``spec.as_of``. Each chunk commits its access-log lines as it goes."""
    if actor.agency_id != spec.agency_id or not actor.can(Scope.ELIGIBILITY_READ):
        raise Forbidden("Eligibility reports need the permission eligibility:read of an agency.")
    source = tabular.read(path, limits or tabular.Limits())
    heading = next(source, None)
    if heading is None:
        raise FileProblem("the file is empty", thai="ไฟล์ว่างเปล่า")
    id_column, reference_column = _columns(heading.cells)
    head = headings(session, spec, academic_start)
    for sink in sinks:
        sink.write(head)
    context = _Context(
        session,
        actor,
        spec,
        consents.Coverage(session, [c.subject for c in rules.conditions(spec.rule)]),
        today,
        academic_start,
        tuple(Decimal(0) for _ in rules.conditions(spec.rule)),
    )
    words = _WORDS[spec.language]
    summary = Summary()
    size = CHUNK if session.get_bind().dialect.name == "postgresql" else min(CHUNK, SQLITE_CHUNK)
    chunks = _chunks(source, id_column, reference_column, keyer, size)
    for chunk in _read_ahead(chunks):
        summary.rows += len(chunk)
        answers = _answer(context, {r.key for r in chunk if r.key is not None})
        for row in chunk:
            out = _output(row, answers, context.zeros, words, spec.language, summary)
            for sink in sinks:
                sink.write(out)
        if progress is not None:
            progress(summary.rows)
    return summary


def _columns(heading: list[str]) -> tuple[int, int | None]:
    id_column = reference_column = None
    for index, title in enumerate(heading):
        name = title.strip().lower().replace(" ", "_")
        if id_column is None and name in _ID_HEADINGS:
            id_column = index
        elif reference_column is None and name in _REFERENCE_HEADINGS:
            reference_column = index
    if id_column is None:
        raise FileProblem(
            "no national_id column: the first row must name the columns, "
            "national_id (เลขประจำตัวประชาชน) and, if you like, reference (เลขอ้างอิง)",
            thai="ไม่มีคอลัมน์ national_id แถวแรกต้องเป็นชื่อคอลัมน์ national_id "
            "(เลขประจำตัวประชาชน) และถ้าต้องการ reference (เลขอ้างอิง)",
        )
    return id_column, reference_column


def _masked(digits: str) -> str:
    # identity.national_id.mask, on digits already checked (it would check them again)
    return f"x-xxxx-xxxx{digits[9]}-{digits[10:12]}-{digits[12]}"


def _chunks(
    source: Iterator[tabular.Row],
    id_column: int,
    reference_column: int | None,
    keyer: CitizenKeyer,
    size: int,
) -> Iterator[list[_Row]]:
    chunk: list[_Row] = []
    for line in source:  # the reader holds the file to the limits on rows and cells
        if line.blank:
            continue  # blank lines are not rows
        number, cells = line.number, line.cells
        width = len(cells)
        reference = ""
        if reference_column is not None and reference_column < width:
            # A reference is the partner's own number, but an ID typed into it is
            # redacted (the writers neutralise one that Excel would run as a formula).
            reference = redact(cells[reference_column].strip())[:_REFERENCE_LENGTH]
        row = _Row(number, reference)
        if line.control is not None:  # NUL and the like: the row says so, shows nothing
            row.reference, row.control = "", True
        try:
            digits = normalise(cells[id_column] if id_column < width else "")
        except InvalidNationalId as exc:
            row.invalid = exc
        else:
            if not row.control:
                row.key, row.masked = keyer.key_of_digits(digits), _masked(digits)
        chunk.append(row)
        if len(chunk) >= size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


_END = object()


def _read_ahead(chunks: Iterator[list[_Row]]) -> Iterator[list[_Row]]:
    """The chunks, the next one read and keyed in a thread while the caller answers
    this one: Python keys IDs while the database works (on the other core), which
    saves about a tenth of a national report. At most one chunk waits."""
    waiting: queue.Queue[Any] = queue.Queue(maxsize=1)
    stop = threading.Event()

    def hand_over(item: Any) -> bool:
        while not stop.is_set():
            try:
                waiting.put(item, timeout=0.2)
                return True
            except queue.Full:
                continue
        return False  # the caller gave up (an error): stop reading

    def read() -> None:
        try:
            for chunk in chunks:
                if not hand_over(chunk):
                    return
            hand_over(_END)
        except BaseException as exc:  # a FileProblem, say: raised where it is awaited
            hand_over(exc)

    reader = threading.Thread(target=read, name="dcatalog-report-reader", daemon=True)
    reader.start()
    try:
        while (item := waiting.get()) is not _END:
            if isinstance(item, BaseException):
                raise item
            yield item
    finally:
        stop.set()
        reader.join()


def _fill_keys(session: Session, keys: set[str]) -> None:
    """The temporary table of keys holds exactly ``keys`` (in this transaction)."""
    postgresql = session.get_bind().dialect.name == "postgresql"
    session.execute(
        text("CREATE TEMPORARY TABLE IF NOT EXISTS report_key (citizen_key VARCHAR(64))")
    )
    session.execute(text("TRUNCATE report_key" if postgresql else "DELETE FROM report_key"))
    bulk_insert(session, _KEYS, [{"citizen_key": key} for key in keys])
    if postgresql:
        session.execute(text("ANALYZE report_key"))  # the planner then knows its size


def _answer(context: _Context, keys: set[str]) -> dict[str, _Answer]:
    """One chunk's citizens, in one transaction: who consents, who is a minor
    without a guardian's consent, the figures of the allowed ones, and the access
    log of every one of them."""
    session, spec = context.session, context.spec
    answers: dict[str, _Answer] = {}
    if not keys:
        return answers
    with transaction(session):
        if session.get_bind().dialect.name == "postgresql":
            # Hash joins and sorts of a big chunk fit in memory instead of spilling
            # to disk (the default 4 MB halves the speed); for this transaction only.
            session.execute(text("SET LOCAL work_mem = '64MB'"))
        _fill_keys(session, keys)
        in_chunk = select(_KEYS.c.citizen_key)
        # The scope comes as its JSON text: a report meets the same few scopes again
        # and again, and decoding each row's JSON cost more than the whole query.
        active = select(
            Consent.citizen_key, cast(Consent.scope, Text), Consent.includes_health
        ).where(
            Consent.agency_id == spec.agency_id,
            Consent.withdrawn_at.is_(None),
            Consent.citizen_key.in_(in_chunk),
        )
        held: dict[str, tuple[frozenset[str], bool]] = {}
        for key, scope, includes_health in session.execute(active):
            subjects = context.scope_of(scope)
            if key in held:  # several active consents: together they cover more
                before, health = held[key]
                held[key] = (before | subjects, health or includes_health)
            else:
                held[key] = (subjects, includes_health)
        consenting = {
            key
            for key, (subjects, includes_health) in held.items()
            if context.consent_rule.covers(subjects, includes_health)
        }
        # Minors, as consents.needs_guardian sees them on the day of the report.
        born_after = date(context.today.year - AGE_OF_MAJORITY - 1, 1, 1)
        young = select(Citizen.citizen_key, Citizen.born_on).where(
            Citizen.born_on > born_after, Citizen.citizen_key.in_(in_chunk)
        )
        minors = {key for key, born in session.execute(young) if is_minor(born, context.today)}
        if minors & consenting:
            guarded = select(GuardianConsent.citizen_key).where(
                GuardianConsent.withdrawn_at.is_(None), GuardianConsent.citizen_key.in_(in_chunk)
            )
            minors -= set(session.scalars(guarded))
        allowed = consenting - minors
        for key in keys - allowed:
            answers[key] = _REFUSED_MINOR if key in consenting else _REFUSED
        if allowed:
            _fill_keys(session, allowed)  # the rule reads only the allowed citizens
            query = batch_query(
                session,
                spec.rule,
                spec.as_of,
                context.academic_start,
                citizen_keys=select(_KEYS.c.citizen_key),
            )
            for key, met, *figures in session.execute(query):
                answers[key] = _Answer("", bool(met), tuple(map(_cents, figures)))
            absent = _Answer("", False, context.zeros)  # no counted deed: nothing met
            for key in allowed - answers.keys():
                answers[key] = absent
        _log(context, answers)
    return answers


def _log(context: _Context, answers: dict[str, _Answer]) -> None:
    actor, spec = context.actor, context.spec
    now = utcnow()
    head = f"eligibility for {spec.benefit_code} (report, academic year {spec.academic_year}): "
    what = {reason: head + reason for reason in ("met", "not met", NO_CONSENT, MINOR)}
    # In key order: the log's index on the citizen key is then filled page by page
    # rather than at random. In slices, so that a big chunk's lines never all wait
    # in memory at once.
    ordered = sorted(answers.items())
    for start in range(0, len(ordered), _LOG_SLICE):
        lines = [
            {
                "id": new_id(),
                "citizen_key": key,
                "agency_id": actor.agency_id,
                "actor": actor.label,
                "purpose": spec.purpose,
                "what": what[answer.refused or ("met" if answer.met else "not met")],
                "outcome": AccessOutcome.REFUSED if answer.refused else AccessOutcome.ALLOWED,
                "at": now,
            }
            for key, answer in ordered[start : start + _LOG_SLICE]
        ]
        bulk_insert(context.session, _ACCESS_LOG, lines)


def _output(
    row: _Row,
    answers: dict[str, _Answer],
    zeros: tuple[Decimal, ...],
    words: dict[str, str],
    language: str,
    summary: Summary,
) -> list[Any]:
    blanks = [""] * len(zeros)
    if row.key is None:
        summary.invalid += 1
        if row.control:
            reason = CONTROL_TH if language == "th" else CONTROL_EN
        else:
            assert row.invalid is not None
            reason = row.invalid.message_th if language == "th" else row.invalid.message_en
        return [row.number, row.reference, "", "", *blanks, "", reason]
    answer = answers[row.key]
    if answer.refused:
        summary.refused += 1
        return [
            row.number,
            row.reference,
            row.masked,
            words["no"],
            *blanks,
            "",
            words[answer.refused],
        ]
    if answer.met:
        summary.met += 1
    else:
        summary.not_met += 1
    met = words["yes"] if answer.met else words["no"]
    return [row.number, row.reference, row.masked, words["yes"], *answer.figures, met, ""]
