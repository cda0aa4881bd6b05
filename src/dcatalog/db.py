"""Storage: one engine and one session factory per process, on SQLite or PostgreSQL.

SQLite is the embedded default (a file in the instance folder, WAL, foreign keys
on); PostgreSQL (psycopg 3) serves the nation. Everything above this module
uses the same SQLAlchemy 2 models and sessions on both.
"""

from __future__ import annotations

import functools
import uuid
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar, cast

from sqlalchemy import DateTime, Engine, Enum, MetaData, Table, create_engine, event, text
from sqlalchemy.engine import Connection, make_url
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker
from sqlalchemy.pool import ConnectionPoolEntry
from sqlalchemy.types import TypeDecorator
from uuid_utils.compat import uuid7

from dcatalog.problems import FieldError, ValidationProblem
from dcatalog.snapshots import Snapshots

if TYPE_CHECKING:
    from dcatalog.config import Settings

# Deterministic constraint names, so Alembic can alter them (batch mode on
# SQLite rebuilds tables and needs every constraint named).
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class Bilingual:
    """Records with ``<field>_th`` and ``<field>_en`` columns: pick by language."""

    def text(self, field: str, lang: str) -> str:
        return str(getattr(self, f"{field}_th" if lang == "th" else f"{field}_en"))

    def name(self, lang: str) -> str:
        return self.text("name", lang)

    def description(self, lang: str) -> str:
        return self.text("description", lang)


def new_id() -> uuid.UUID:
    """A UUIDv7: time-ordered, so inserts land at the end of the primary-key index."""
    return uuid7()


def utcnow() -> datetime:
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator[datetime]):
    """An aware UTC datetime on both databases (SQLite would forget the zone)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime: pass an aware UTC time")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def str_enum(enum: type[StrEnum]) -> Enum:
    """A portable enum column: VARCHAR plus a named CHECK of the allowed values
    (no native PostgreSQL ENUM types: adding a value would need DDL outside Alembic's batch)."""
    return Enum(
        enum,
        native_enum=False,
        create_constraint=True,
        length=max(len(member.value) for member in enum),
        values_callable=lambda members: [member.value for member in members],
        name=enum.__name__.lower(),
    )


def normalise_url(url: str) -> str:
    """Accept the plain ``postgresql://`` people write and use psycopg 3 for it."""
    parsed = make_url(url)
    if parsed.drivername in ("postgresql", "postgres"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    return parsed.render_as_string(hide_password=False)


def create_db_engine(url: str, **kwargs: Any) -> Engine:
    url = normalise_url(url)
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        engine = create_engine(
            url, connect_args={"check_same_thread": False, "timeout": 30}, **kwargs
        )
        _configure_sqlite(engine)
        _refuse_nul_text(engine)
        return engine
    kwargs = {"pool_pre_ping": False, "pool_size": 20, "max_overflow": 10, **kwargs}
    engine = create_engine(url, **kwargs)
    _configure_postgresql(engine)
    _refuse_nul_text(engine)
    return engine


def _refuse_nul_text(engine: Engine) -> None:
    """PostgreSQL cannot store NUL in text (a DataError, a 500) and SQLite stores it
    silently. Input is checked for control characters where it arrives (see
    dcatalog.web.request_guard, the file readers); this is the last line, the same on
    both databases, for any path that missed it: a clear error, nothing written."""

    @event.listens_for(engine, "before_cursor_execute")
    def _check(
        _conn: Any, _cursor: Any, _statement: str, parameters: Any, _context: Any, many: bool
    ) -> None:
        for row in parameters if many else (parameters,):
            refuse_nul(row.values() if isinstance(row, dict) else row or ())


def refuse_nul(values: Iterable[Any]) -> None:
    """A clear error for a NUL in any text of ``values`` (see _refuse_nul_text)."""
    if any(isinstance(value, str) and "\x00" in value for value in values):
        raise ValidationProblem(
            "A text contains the NUL character, which cannot be stored; remove it and "
            "send again. Nothing was changed.",
            errors=[FieldError("contains NUL")],
        )


def _configure_postgresql(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: ConnectionPoolEntry) -> None:
        # psycopg prepares a statement after a few runs, and PostgreSQL may then reuse
        # a generic plan; for "= ANY(array)" lookups that plan can be a full scan,
        # which turns a bulk import quadratic. Plan each query for its values.
        with dbapi_connection.cursor() as cursor:
            cursor.execute("SET plan_cache_mode = force_custom_plan")
        dbapi_connection.commit()


def _configure_sqlite(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: ConnectionPoolEntry) -> None:
        # Let SQLAlchemy, not the sqlite3 module, say when transactions begin;
        # otherwise SAVEPOINT and transactional DDL misbehave.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")  # readers never wait for the writer
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA synchronous=NORMAL")  # durable in WAL mode at checkpoints
        cursor.execute("PRAGMA busy_timeout=30000")
        # A national-scale file outgrows SQLite's 2 MB default page cache quickly, and
        # every import reads earlier deeds at random: a bigger cache is 3-5x faster.
        cursor.execute("PRAGMA cache_size=-131072")  # 128 MB, allocated only as used
        cursor.execute("PRAGMA temp_store=MEMORY")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Connection) -> None:
        # A write transaction asks for the write lock up front (IMMEDIATE): a
        # deferred one that later tries to write can fail at once with "database
        # is locked" instead of waiting its turn.
        mode = connection.get_execution_options().get("sqlite_begin", "DEFERRED")
        connection.exec_driver_sql(f"BEGIN {mode}")


class Database:
    """The engine and session factories of one database."""

    def __init__(
        self,
        engine: Engine,
        *,
        connection: Connection | None = None,
        snapshot_seconds: float = 5.0,
    ) -> None:
        self.engine = engine
        self.is_sqlite = engine.dialect.name == "sqlite"
        self.snapshots = Snapshots(snapshot_seconds)
        info = {"snapshots": self.snapshots}  # shared by every session of this database
        if connection is not None:
            # Tests: every session joins the test's outer transaction through a
            # savepoint, so a service's commit is real to it and rolled back after.
            self._reader = sessionmaker(
                connection,
                expire_on_commit=False,
                join_transaction_mode="create_savepoint",
                info=info,
            )
            self._writer = self._reader
            return
        self._reader = sessionmaker(engine, expire_on_commit=False, info=info)
        writer = engine.execution_options(sqlite_begin="IMMEDIATE") if self.is_sqlite else engine
        self._writer = sessionmaker(writer, expire_on_commit=False, info=info)

    @classmethod
    def from_url(cls, url: str, *, snapshot_seconds: float = 5.0) -> Database:
        return cls(create_db_engine(url), snapshot_seconds=snapshot_seconds)

    @classmethod
    def from_settings(cls, settings: Settings) -> Database:
        """The database the settings name (what ``serve``, ``worker`` and the CLI open)."""
        return cls.from_url(
            settings.resolved_database_url, snapshot_seconds=settings.snapshot_seconds
        )

    @classmethod
    @contextmanager
    def opened(cls, settings: Settings) -> Iterator[Database]:
        """The settings' database for one command: its connections are closed after."""
        database = cls.from_settings(settings)
        try:
            yield database
        finally:
            database.dispose()

    @property
    def backend(self) -> str:
        return self.engine.dialect.name

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A session for reading (and for small writes that rarely contend)."""
        with self._reader() as session:
            yield session

    @contextmanager
    def write_session(self) -> Iterator[Session]:
        """A session that will write: on SQLite it takes the write lock when it begins."""
        with self._writer() as session:
            yield session

    def dispose(self) -> None:
        self.engine.dispose()


F = TypeVar("F", bound=Callable[..., Any])


@contextmanager
def transaction(session: Session) -> Iterator[None]:
    """One unit of work: commits when the outermost block ends, rolls back if it
    fails. A service called by another service joins its caller's transaction,
    so an operation spanning both is written whole or not at all."""
    depth = session.info.get("dcatalog_depth", 0)
    session.info["dcatalog_depth"] = depth + 1
    try:
        yield
        if depth == 0:
            session.commit()
    except BaseException:
        if depth == 0:
            session.rollback()
        raise
    finally:
        session.info["dcatalog_depth"] = depth


def changed_rows(result: Any) -> int:
    """The rows an UPDATE or DELETE changed (``session.execute`` is typed as returning
    any ``Result``; for these statements it is a ``CursorResult``)."""
    return int(result.rowcount or 0)


def transactional(function: F) -> F:
    """Run a service function (its first argument is the session) as one unit of work."""

    @functools.wraps(function)
    def wrapper(session: Session, *args: Any, **kwargs: Any) -> Any:
        with transaction(session):
            return function(session, *args, **kwargs)

    return cast(F, wrapper)


def bulk_insert(session: Session, table: Table, rows: list[dict[str, Any]]) -> None:
    """Insert many rows (dicts with the same keys) in the session's transaction, as
    fast as the database allows: PostgreSQL ``COPY`` (about twice ``executemany``),
    SQLite ``executemany`` on the driver's cursor. Values go through SQLAlchemy's own
    bind processors, as they would through ``session.execute`` (whose statement
    layer costs more per row than the database's insert)."""
    if not rows:
        return
    columns = list(rows[0])
    params = _parameters(session, table, columns, rows)
    if session.get_bind().dialect.name == "postgresql" and len(rows) >= 100:
        _copy(session, table.name, columns, params)
    else:
        _insert_rows(session, f"INSERT INTO {table.name}", columns, params)


def bulk_add(
    session: Session,
    table: Table,
    keys: Sequence[str],
    amounts: Sequence[str],
    rows: list[dict[str, Any]],
) -> None:
    """Upsert rows that add ``amounts`` to the row with the same ``keys`` (running
    totals). Rows are applied in the order given: callers sort them, so that
    concurrent writers lock in one order and cannot deadlock. Many rows on
    PostgreSQL go through a ``COPY`` into a temporary table and one set-based
    ``INSERT … SELECT … ON CONFLICT``."""
    if not rows:
        return
    columns = [*keys, *amounts]
    params = _parameters(session, table, columns, rows)
    adding = ", ".join(f"{a} = {table.name}.{a} + excluded.{a}" for a in amounts)
    conflict = f"ON CONFLICT ({', '.join(keys)}) DO UPDATE SET {adding}"
    if session.get_bind().dialect.name != "postgresql" or len(rows) < 100:
        _insert_rows(session, f"INSERT INTO {table.name}", columns, params, suffix=conflict)
        return
    staging = f"{table.name}_increment"
    session.execute(
        text(
            f"CREATE TEMPORARY TABLE IF NOT EXISTS {staging} "
            f"(LIKE {table.name} INCLUDING DEFAULTS) ON COMMIT DELETE ROWS"
        )
    )
    session.execute(text(f"TRUNCATE {staging}"))
    _copy(session, staging, columns, params)
    names = ", ".join(columns)
    session.execute(
        text(
            f"INSERT INTO {table.name} ({names}) SELECT {names} FROM {staging} "  # noqa: S608 (names from our tables)
            f"ORDER BY {', '.join(keys)} {conflict}"
        )
    )


def _parameters(
    session: Session, table: Table, columns: Sequence[str], rows: list[dict[str, Any]]
) -> list[tuple[Any, ...]]:
    """The rows as the driver takes them, converted column by column (one C-level
    ``map`` per column rather than a Python call per value)."""
    dialect = session.get_bind().dialect
    converted = []
    for name in columns:
        process = table.c[name].type.dialect_impl(dialect).bind_processor(dialect)
        values = [row[name] for row in rows]
        refuse_nul(values)  # the bulk paths bypass the engine's events
        converted.append(list(map(process, values)) if process else values)
    return list(zip(*converted, strict=True))


def _copy(
    session: Session, table: str, columns: Sequence[str], rows: list[tuple[Any, ...]]
) -> None:
    dbapi: Any = session.connection().connection.dbapi_connection  # psycopg's, in our transaction
    statement = f"COPY {table} ({', '.join(columns)}) FROM STDIN"
    with dbapi.cursor() as cursor, cursor.copy(statement) as copy:
        for row in rows:
            copy.write_row(row)


def _insert_rows(
    session: Session,
    verb: str,
    columns: Sequence[str],
    rows: list[tuple[Any, ...]],
    suffix: str = "",
) -> None:
    """A few rows (an API request's deed and its tallies) as one multi-row statement:
    one round trip. Many rows: ``executemany`` (SQLite runs it in process)."""
    dbapi: Any = session.connection().connection.dbapi_connection  # in our transaction
    mark = "?" if session.get_bind().dialect.paramstyle == "qmark" else "%s"
    row_marks = f"({', '.join([mark] * len(columns))})"
    head = f"{verb} ({', '.join(columns)}) VALUES"
    cursor = dbapi.cursor()
    try:
        if len(rows) <= _FEW_ROWS:
            values = ", ".join([row_marks] * len(rows))
            cursor.execute(f"{head} {values} {suffix}".rstrip(), [v for row in rows for v in row])
        else:
            cursor.executemany(f"{head} {row_marks} {suffix}".rstrip(), rows)
    finally:
        cursor.close()


_FEW_ROWS = 50  # × at most 20 columns: well under SQLite's 32,766 parameters
