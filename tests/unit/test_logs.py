import pytest

from dcatalog.logs import REDACTED, redact, redact_national_ids


@pytest.mark.parametrize(
    "text",
    [
        "id 1234545678781 here",
        "id 1-2345-45678-78-1 here",
        "id 1 2345 45678 78 1 here",
        "id ๑๒๓๔๕๔๕๖๗๘๗๘๑ here",
        "/api/v1/citizens/1234545678781?x=1",
    ],
)
def test_national_id_shapes_are_masked(text: str) -> None:
    assert REDACTED in redact(text)
    assert "45678" not in redact(text)
    assert "๔๕๖๗๘" not in redact(text)


@pytest.mark.parametrize(
    "text",
    ["request 0197d9a0-5ba9-74f7", "12345678901234 (14 digits)", "took 123 ms", "2569-11-26"],
)
def test_other_numbers_are_left_alone(text: str) -> None:
    assert redact(text) == text


def test_nested_values_and_integers_are_masked() -> None:
    event = {"event": "x", "ids": ["1234545678781"], "n": 1234545678781, "ok": 7}
    masked = redact_national_ids(None, "info", event)
    assert masked == {"event": "x", "ids": [REDACTED], "n": REDACTED, "ok": 7}
