"""Every table of the application, imported in one place so that the metadata
Alembic compares with the migrations is complete."""

from dcatalog.agencies.models import Agency
from dcatalog.catalog.models import Virtue
from dcatalog.db import Base
from dcatalog.ops.models import InstanceMeta

__all__ = ["Agency", "Base", "InstanceMeta", "Virtue"]
