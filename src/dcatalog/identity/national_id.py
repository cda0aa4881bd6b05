"""Thai national ID numbers (เลขประจำตัวประชาชน): normalise, validate, mask.

The arithmetic (weights 13..2 over the first 12 digits, check digit
(11 - sum mod 11) mod 10) comes from python-stdnum. We do not call
``stdnum.th.pin.validate`` itself because it also refuses numbers that start
with 0, and those belong to people without Thai nationality who live here
and do good deeds too (donating blood, volunteering): they must be counted.
"""

from __future__ import annotations

import re
from typing import Literal

from stdnum.th import pin

# Thai digits ๐-๙ and the separators people type or paste (spaces of every
# kind, hyphen, non-breaking hyphen, figure/en/em dash, minus sign).
_THAI_DIGITS = str.maketrans("๐๑๒๓๔๕๖๗๘๙", "0123456789")
_SEPARATORS = re.compile(r"[\s\-\u2010-\u2015\u2212]+")

Problem = Literal["empty", "format", "length", "checksum"]

_MESSAGES: dict[Problem, tuple[str, str]] = {
    "empty": ("ไม่ได้กรอกเลขประจำตัวประชาชน", "the national ID is empty"),
    "format": (
        "เลขประจำตัวประชาชนต้องเป็นตัวเลขเท่านั้น",
        "a national ID has digits only (dashes and spaces are allowed)",
    ),
    "length": ("เลขประจำตัวประชาชนต้องมี 13 หลัก", "a national ID has 13 digits"),
    "checksum": (
        "เลขประจำตัวประชาชนไม่ถูกต้อง (หลักตรวจสอบไม่ตรง)",
        "the check digit does not match: the number has a typo",
    ),
}


class InvalidNationalId(ValueError):
    """The input is not a Thai national ID. The message never repeats the input."""

    def __init__(self, problem: Problem) -> None:
        self.problem = problem
        self.message_th, self.message_en = _MESSAGES[problem]
        super().__init__(self.message_en)


def normalise(raw: str) -> str:
    """Return the 13 ASCII digits of a valid ID, or raise ``InvalidNationalId``."""
    if len(raw) == 13 and raw.isascii() and raw.isdigit():
        number = raw  # the common case in files and APIs: nothing to clean
    else:
        number = _SEPARATORS.sub("", raw.translate(_THAI_DIGITS))
    if not number:
        raise InvalidNationalId("empty")
    if not number.isascii() or not number.isdigit():
        raise InvalidNationalId("format")
    if len(number) != 13:
        raise InvalidNationalId("length")
    if pin.calc_check_digit(number) != number[12]:
        raise InvalidNationalId("checksum")
    return number


def is_valid(raw: str) -> bool:
    try:
        normalise(raw)
    except InvalidNationalId:
        return False
    return True


def with_check_digit(first12: str) -> str:
    """Complete 12 digits into a valid ID (for synthetic data and tests)."""
    if len(first12) != 12 or not first12.isdigit():
        raise ValueError("need exactly 12 digits")
    return first12 + pin.calc_check_digit(first12)


def last4(national_id: str) -> str:
    """The only part of an ID that may be kept, for display (PDPA: data minimisation)."""
    return normalise(national_id)[-4:]


def mask(national_id: str) -> str:
    """``x-xxxx-xxxx5-67-8``: the usual grouping with all but the last 4 digits hidden."""
    tail = last4(national_id)
    return f"x-xxxx-xxxx{tail[0]}-{tail[1:3]}-{tail[3]}"
