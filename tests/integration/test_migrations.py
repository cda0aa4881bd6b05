"""Models and migrations must describe the same schema, on both databases."""

import uuid

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect, select, text

from dcatalog.catalog.models import Virtue
from dcatalog.db import create_db_engine
from dcatalog.models import Base
from dcatalog.schema import alembic_config, current_revisions, head_revisions, upgrade_engine


def test_migrations_match_the_models(fresh_database_url: str) -> None:
    engine = create_db_engine(fresh_database_url)
    upgrade_engine(engine)
    with engine.connect() as conn:
        context = MigrationContext.configure(
            conn, opts={"compare_type": True, "compare_server_default": True}
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
