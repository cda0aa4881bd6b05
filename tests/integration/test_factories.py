"""The test kit keeps up with the models: every mapped class has a factory in
``tests.factories.FACTORIES``, and each factory, called with a session alone on
an empty catalog, leaves its row in the database (on both backends)."""

from __future__ import annotations

import pytest
from sqlalchemy import inspect
from sqlalchemy.orm import Session

from dcatalog import models
from dcatalog.db import Base, Database
from tests.factories import FACTORIES, Factory

assert models.__all__  # every table is imported, so the registry knows them all


def _name(model: type[Base]) -> str:
    return model.__name__


def test_every_mapped_class_has_a_factory() -> None:
    mapped = {mapper.class_ for mapper in Base.registry.mappers}
    missing = sorted(_name(model) for model in mapped - set(FACTORIES))
    assert not missing, (
        "no factory for " + ", ".join(missing) + ": add a make_<thing>() to tests/factories "
        "(through the service that writes it) and list it in FACTORIES"
    )
    assert set(FACTORIES) <= mapped


CASES = sorted(FACTORIES.items(), key=lambda case: _name(case[0]))


@pytest.mark.parametrize(("model", "factory"), CASES, ids=_name)
def test_the_factory_leaves_its_row_in_the_database(
    session: Session, database: Database, model: type[Base], factory: Factory
) -> None:
    row = factory(session)
    assert isinstance(row, model), f"{factory.__name__} returned a {type(row).__name__}"
    identity = inspect(row).identity
    assert identity is not None, f"{factory.__name__} returned a row that was never written"
    with database.session() as other:  # a session of its own: what is in the database
        found = other.get(model, identity)
        assert found is not None, f"{factory.__name__}: no {_name(model)} {identity} stored"
