"""Models and migrations must describe the same schema, on both databases."""

import uuid
from datetime import UTC, date, datetime, timedelta

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import MetaData, Table, inspect, select, text
from sqlalchemy import types as sa_types

from dcatalog.catalog.models import Virtue
from dcatalog.db import create_db_engine
from dcatalog.models import Base
from dcatalog.schema import alembic_config, current_revisions, head_revisions, ours, upgrade_engine


def test_migrations_match_the_models(fresh_database_url: str) -> None:
    engine = create_db_engine(fresh_database_url)
    upgrade_engine(engine)
    with engine.connect() as conn:
        context = MigrationContext.configure(
            conn,
            opts={"compare_type": True, "compare_server_default": True, "include_name": ours},
        )
        differences = compare_metadata(context, Base.metadata)
    engine.dispose()
    assert differences == [], f"models and migrations differ; run ./dev migration: {differences}"


def test_migrations_go_down_and_up_again(fresh_database_url: str) -> None:
    engine = create_db_engine(fresh_database_url)
    upgrade_engine(engine)
    config = alembic_config()
    with engine.begin() as conn:
        config.attributes["connection"] = conn
        command.downgrade(config, "base")
    assert set(inspect(engine).get_table_names()) <= {"alembic_version"}
    upgrade_engine(engine)
    with engine.connect() as conn:
        assert current_revisions(conn) == head_revisions()
    engine.dispose()


def test_the_five_virtues_are_reference_data(fresh_database_url: str) -> None:
    engine = create_db_engine(fresh_database_url)
    upgrade_engine(engine)
    with engine.connect() as conn:
        codes = conn.scalars(select(Virtue.code).order_by(Virtue.position)).all()
    engine.dispose()
    assert codes == ["sufficiency", "discipline", "honesty", "volunteering", "health"]


def test_upgrading_a_database_with_data_keeps_it(fresh_database_url: str) -> None:
    """New NOT NULL columns must fill rows that already exist (agency.contact, 0006)."""
    engine = create_db_engine(fresh_database_url)
    upgrade_engine(engine, "0005")
    agency_id = uuid.uuid4()
    with engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO agency (id, code, name_th, name_en, kind, status, website, created_at)"
                " VALUES (:id, 'old', 'เก่า', 'Old', 'ngo', 'active', '', CURRENT_TIMESTAMP)"
            ),
            {"id": agency_id.hex if engine.dialect.name == "sqlite" else agency_id},
        )
    upgrade_engine(engine)
    with engine.connect() as conn:
        assert conn.execute(text("SELECT contact FROM agency WHERE code = 'old'")).scalar() == ""
    engine.dispose()


def test_upgrading_gives_each_citizen_an_alias_and_renames_their_mentions(
    fresh_database_url: str,
) -> None:
    """0018: the old ``citizen:<key prefix>`` names in the audit trail and in
    proposals become the citizen's new random alias; nobody else's change."""
    engine = create_db_engine(fresh_database_url)
    upgrade_engine(engine, "0017")
    key = "ab" * 32
    with engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO citizen (citizen_key, first_seen_at, last_seen_at)"
                " VALUES (:key, CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)"
            ),
            {"key": key},
        )
        for actor in (f"citizen:{key[:12]}", "staff:someone@example.org"):
            event_id = uuid.uuid4()
            conn.execute(
                text(
                    "INSERT INTO audit_event (id, at, actor, action, entity_type, entity_id,"
                    " reason, request_id)"
                    " VALUES (:id, CURRENT_TIMESTAMP, :actor, 'x', 'x', 'x', '', '')"
                ),
                {
                    "id": event_id.hex if engine.dialect.name == "sqlite" else event_id,
                    "actor": actor,
                },
            )
    upgrade_engine(engine)
    with engine.connect() as conn:
        alias = conn.execute(text("SELECT alias FROM citizen")).scalar_one()
        actors = set(conn.execute(text("SELECT actor FROM audit_event")).scalars())
    engine.dispose()
    assert len(alias) == 16
    assert alias not in key
    assert actors == {f"citizen:{alias}", "staff:someone@example.org"}


def _row(table: Table, **values: object) -> dict[str, object]:
    """A row for ``table`` as the schema of that revision has it: every required
    column filled with a plain value of its type, then ``values``."""
    plain = {
        sa_types.Uuid: lambda: uuid.uuid4(),
        sa_types.DateTime: lambda: datetime.now(UTC),
        sa_types.Date: lambda: date(2026, 1, 1),
        sa_types.Boolean: lambda: False,
        sa_types.Integer: lambda: 1,
        sa_types.Numeric: lambda: 1,
        sa_types.JSON: lambda: {},
        sa_types.String: lambda: "x",
    }
    row: dict[str, object] = {}
    for column in table.columns:
        if column.nullable or column.server_default is not None:
            continue
        make = next(f for kind, f in plain.items() if isinstance(column.type, kind))
        row[column.name] = make()
    return {**row, **values}


def test_upgrading_puts_every_review_on_the_one_lifecycle(fresh_database_url: str) -> None:
    """0019: a proposed deed type version becomes submitted; a benefit whose last
    review event was a submission becomes submitted (since then, with the office's
    earlier note); one sent back stays a draft with the note; others keep theirs."""
    engine = create_db_engine(fresh_database_url)
    upgrade_engine(engine, "0018")
    tables = MetaData()
    tables.reflect(
        engine,
        only=["agency", "benefit", "audit_event", "virtue", "deed_type", "deed_type_version"],
    )
    agency, benefit, event = (tables.tables[n] for n in ("agency", "benefit", "audit_event"))
    deed_type, version = tables.tables["deed_type"], tables.tables["deed_type_version"]
    sqlite = engine.dialect.name == "sqlite"

    def ident(value: uuid.UUID) -> object:  # as each database stores a UUID
        return value.hex if sqlite else value

    agency_id = ident(uuid.uuid4())
    waiting, sent_back, approved = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    first = datetime(2026, 11, 1, 9, tzinfo=UTC)
    with engine.begin() as conn:
        conn.execute(
            agency.insert().values(
                _row(agency, id=agency_id, code="kys", status="active", kind="government")
            )
        )
        for benefit_id, code, status in (
            (waiting, "kys.waiting", "draft"),
            (sent_back, "kys.sent_back", "draft"),
            (approved, "kys.approved", "approved"),
        ):
            conn.execute(
                benefit.insert().values(
                    _row(
                        benefit,
                        id=ident(benefit_id),
                        code=code,
                        agency_id=agency_id,
                        status=status,
                        kind="thanks",
                        rule={},
                    )
                )
            )
        history = [
            (waiting, "benefit.submit", "", 0),
            (waiting, "benefit.send_back", "say who may claim it", 1),
            (waiting, "benefit.submit", "", 2),
            (sent_back, "benefit.submit", "", 0),
            (sent_back, "benefit.send_back", "too vague", 1),
            (approved, "benefit.submit", "", 0),
        ]
        for benefit_id, action, reason, hours in history:
            conn.execute(
                event.insert().values(
                    _row(
                        event, id=ident(uuid.uuid4()), action=action, entity_type="benefit", entity_id=str(benefit_id),
                        reason=reason, at=first + timedelta(hours=hours), request_id="",
                    )
                )
            )  # fmt: skip
        virtue = conn.execute(select(tables.tables["virtue"].c.code)).scalars().first()
        conn.execute(
            deed_type.insert().values(_row(deed_type, code="kys.x", owner_agency_id=agency_id))
        )
        conn.execute(
            version.insert().values(
                _row(version, id=ident(uuid.uuid4()), deed_type_code="kys.x", version=1, status="proposed", virtue_code=virtue,
                     verification_policy="agency_attested", credits_per_unit=1, unit="hour")
            )
        )  # fmt: skip
    upgrade_engine(engine)
    with engine.connect() as conn:
        got = {
            code: (status, at, note)
            for code, status, at, note in conn.execute(
                text("SELECT code, status, submitted_at, decision_note FROM benefit")
            )
        }
        version_status = conn.execute(text("SELECT status FROM deed_type_version")).scalar_one()
    engine.dispose()
    assert version_status == "submitted"
    assert got["kys.waiting"][0] == "submitted"
    assert str(got["kys.waiting"][1]).startswith("2026-11-01 11:00")
    assert got["kys.waiting"][2] == "say who may claim it"
    assert got["kys.sent_back"][:3:2] == ("draft", "too vague")
    assert got["kys.sent_back"][1] is None
    assert got["kys.approved"] == ("approved", None, "")
