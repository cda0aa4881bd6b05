from datetime import date
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from dcatalog.deeds.importing import parse_date, parse_quantity, template

THAI = str.maketrans("0123456789", "๐๑๒๓๔๕๖๗๘๙")


@given(st.dates(min_value=date(1950, 1, 1), max_value=date(2100, 12, 31)))
def test_every_spelling_of_a_date_means_the_same_day(day: date) -> None:
    spellings = [
        day.isoformat(),
        f"{day.day:02d}/{day.month:02d}/{day.year}",
        f"{day.day}/{day.month}/{day.year + 543}",
        f"{day.year + 543}-{day.month:02d}-{day.day:02d}",
        f"{day.day:02d}/{day.month:02d}/{day.year + 543}".translate(THAI),
    ]
    assert {parse_date(s) for s in spellings} == {day}


@pytest.mark.parametrize("text", ["31/02/2569", "yesterday", "2569/11/26", ""])
def test_impossible_dates_are_refused(text: str) -> None:
    with pytest.raises(ValueError):  # noqa: PT011 (the message is checked by the import tests)
        parse_date(text)


def test_quantities() -> None:
    assert parse_quantity("๓") == Decimal(3)
    assert parse_quantity("1,200.5") == Decimal("1200.5")
    for bad in ("three", "NaN", "inf"):
        with pytest.raises(ValueError, match="not a number"):
            parse_quantity(bad)


def test_template_opens_in_excel_as_utf8() -> None:
    text = template("kys.volunteer_activity")
    assert text.startswith("\ufeffNational ID,Deed type,Quantity")
    thai = template("kys.volunteer_activity", lang="th")
    assert thai.startswith("\ufeffเลขประจำตัวประชาชน,ประเภทความดี,จำนวน")
    assert "kys.volunteer_activity" in text.splitlines()[1]
