"""How the API writes decimal amounts (quantities, limits, sums): one way only.

Every decimal the API answers is a JSON string with exactly two decimal places
("3.00", "0.50"), the scale the database keeps them at. Without this, a value
answered straight from the request ("3") and the same value read back from the
database ("3.00") would differ between a first answer and its replay. Requests
may send a number or a string.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated

from pydantic import PlainSerializer, WithJsonSchema

CENT = Decimal("0.01")


def two_places(value: Decimal) -> str:
    return str(value.quantize(CENT))


_SCHEMA = {
    "type": "string",
    "pattern": r"^-?\d+\.\d{2}$",
    "description": "A decimal with exactly two places, as a string.",
    "examples": ["3.00"],
}

# A decimal in an answer (``Amount | None`` where it may be null).
Amount = Annotated[
    Decimal,
    PlainSerializer(two_places, return_type=str, when_used="json"),
    WithJsonSchema(_SCHEMA, mode="serialization"),
]
