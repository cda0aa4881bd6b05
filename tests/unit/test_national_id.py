import pytest
from hypothesis import given
from hypothesis import strategies as st

from dcatalog.identity import national_id
from dcatalog.identity.national_id import InvalidNationalId

twelve_digits = st.text(alphabet="0123456789", min_size=12, max_size=12)
THAI = str.maketrans("0123456789", "๐๑๒๓๔๕๖๗๘๙")


@pytest.mark.parametrize(
    "raw",
    [
        "3100600445635",
        "1-2345-45678-78-1",
        "3 1006 00445 63 5",
        "๓๑๐๐๖๐๐๔๔๕๖๓๕",
        " 3-1006-00445-63-5\n",
    ],
)
def test_accepts_valid_ids_in_the_forms_people_type(raw: str) -> None:
    assert national_id.is_valid(raw)
    assert len(national_id.normalise(raw)) == 13


def test_worked_example_of_the_checksum() -> None:
    # 1 2 3 4 5 4 5 6 7 8 7 8 weighted 13..2: sum 263, 263 mod 11 = 10, (11 - 10) mod 10 = 1
    assert national_id.with_check_digit("123454567878") == "1234545678781"


@pytest.mark.parametrize(
    ("raw", "problem"),
    [
        ("", "empty"),
        (" - ", "empty"),
        ("1-2345-45678-78-9", "checksum"),
        ("310060044563", "length"),
        ("31006004456351", "length"),
        ("3100600A45635", "format"),
        ("３１００６００４４５６３５", "format"),  # full-width digits are not what we accept
    ],
)
def test_refuses_with_a_reason_that_never_repeats_the_input(raw: str, problem: str) -> None:
    with pytest.raises(InvalidNationalId) as caught:
        national_id.normalise(raw)
    assert caught.value.problem == problem
    assert caught.value.message_th
    assert caught.value.message_en
    digits = "".join(ch for ch in raw if ch.isdigit())
    if digits:
        assert digits not in str(caught.value)


def test_people_without_thai_nationality_are_counted_too() -> None:
    # stdnum refuses a leading 0; such IDs exist for residents without Thai nationality.
    assert national_id.is_valid(national_id.with_check_digit("001234567890"))


@given(twelve_digits)
def test_completed_ids_validate_in_every_spelling(first12: str) -> None:
    number = national_id.with_check_digit(first12)
    dashed = f"{number[0]}-{number[1:5]}-{number[5:10]}-{number[10:12]}-{number[12]}"
    for spelling in (number, dashed, number.translate(THAI), dashed.translate(THAI)):
        assert national_id.normalise(spelling) == number


@given(twelve_digits, st.integers(min_value=1, max_value=9))
def test_a_wrong_check_digit_is_always_caught(first12: str, shift: int) -> None:
    number = national_id.with_check_digit(first12)
    wrong = number[:12] + str((int(number[12]) + shift) % 10)
    assert not national_id.is_valid(wrong)


def test_mask_and_last4_keep_only_the_last_four_digits() -> None:
    assert national_id.last4("1-2345-45678-78-1") == "8781"
    assert national_id.mask("1234545678781") == "x-xxxx-xxxx8-78-1"
