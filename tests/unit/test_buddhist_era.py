from datetime import UTC, date, datetime

import pytest

from dcatalog.calendars.buddhist_era import (
    InvalidDate,
    be_year,
    ce_year,
    format_date,
    format_datetime,
    parse_be_date,
)

DAY = date(2026, 11, 26)


def test_years() -> None:
    assert be_year(2026) == 2569
    assert ce_year(2569) == 2026


@pytest.mark.parametrize(
    ("style", "thai", "english"),
    [
        ("long", "26 พฤศจิกายน พ.ศ. 2569", "26 November 2026"),
        ("medium", "26 พ.ย. 2569", "26 Nov 2026"),
        ("short", "26/11/2569", "26/11/2026"),
    ],
)
def test_dates_in_thai_use_the_buddhist_era(style: str, thai: str, english: str) -> None:
    assert format_date(DAY, "th", style) == thai  # type: ignore[arg-type]
    assert format_date(DAY, "en", style) == english  # type: ignore[arg-type]


def test_times_are_shown_in_bangkok() -> None:
    moment = datetime(2026, 11, 26, 17, 5, tzinfo=UTC)  # 00:05 the next day in Bangkok
    assert format_datetime(moment, "th") == "27 พ.ย. 2569 00:05 น."
    assert format_datetime(moment, "en") == "27 Nov 2026, 00:05"
    with pytest.raises(ValueError, match="naive"):
        format_datetime(datetime(2026, 11, 26), "th")  # noqa: DTZ001


# --- dates people type (issue 15): day/month/year in the Buddhist Era -----------------


@pytest.mark.parametrize(
    "typed",
    [
        "01/06/2548",
        "1/6/2548",
        " 01-06-2548 ",
        "1.6.2548",
        "๐๑/๐๖/๒๕๔๘",
        "2005-06-01",
        "2548-06-01",
    ],
)
def test_a_be_date_is_read_however_it_is_typed(typed: str) -> None:
    assert parse_be_date(typed) == date(2005, 6, 1)


@pytest.mark.parametrize(
    ("typed", "reason"),
    [
        ("", "empty"),
        ("   ", "empty"),
        ("1 June 2548", "format"),
        ("06/2548", "format"),
        ("01/06/2005", "christian_era"),  # a CE year where a BE one belongs
        ("31/02/2548", "no_such_day"),
        ("01/13/2548", "no_such_day"),
    ],
)
def test_what_is_not_a_be_date_says_why(typed: str, reason: str) -> None:
    with pytest.raises(InvalidDate) as refused:
        parse_be_date(typed)
    assert refused.value.reason == reason
