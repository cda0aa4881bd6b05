"""Buddhist Era (พ.ศ.) years and how Thai pages show dates and times.

Month names come from Babel's CLDR data; only the year is ours (CE + 543).
Times are stored in UTC and shown in Asia/Bangkok.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Literal
from zoneinfo import ZoneInfo

from babel.dates import format_date as babel_format_date
from babel.dates import get_month_names

BE_OFFSET = 543
BANGKOK = ZoneInfo("Asia/Bangkok")

Style = Literal["short", "medium", "long"]


def today_in_thailand() -> date:
    """The date on Thai calendars now (the server's clock may run in UTC)."""
    return datetime.now(BANGKOK).date()


def be_year(ce_year: int) -> int:
    return ce_year + BE_OFFSET


def ce_year(be: int) -> int:
    return be - BE_OFFSET


def format_date(value: date, lang: str = "th", style: Style = "medium") -> str:
    """Thai: ``26 พ.ย. 2569`` (medium), ``26 พฤศจิกายน พ.ศ. 2569`` (long),
    ``26/11/2569`` (short). English follows CLDR with the Christian Era."""
    if lang != "th":
        return babel_format_date(value, format=style, locale="en_GB")
    year = be_year(value.year)
    if style == "short":
        return f"{value.day:02d}/{value.month:02d}/{year}"
    if style == "long":
        month = get_month_names("wide", locale="th")[value.month]
        return f"{value.day} {month} พ.ศ. {year}"
    month = get_month_names("abbreviated", locale="th")[value.month]
    return f"{value.day} {month} {year}"


def format_datetime(value: datetime, lang: str = "th", style: Style = "medium") -> str:
    """A UTC (or any aware) time shown in Bangkok: ``26 พ.ย. 2569 23:55 น.``."""
    if value.tzinfo is None:
        raise ValueError("naive datetimes are ambiguous: store and pass UTC")
    local = value.astimezone(BANGKOK)
    day = format_date(local.date(), lang, style)
    clock = f"{local.hour:02d}:{local.minute:02d}"
    return f"{day} {clock} น." if lang == "th" else f"{day}, {clock}"
