"""The one rule for a name a person gives to be printed or shown about herself
(her name on a certificate, on the public thank-you page): spaces collapsed,
1 to ``NAME_MAX`` characters. Control characters never get this far
(``web.request_guard`` refuses them on every request)."""

from __future__ import annotations

from dcatalog.problems import FieldError, ValidationProblem

NAME_MAX = 100


def given_name(text: str, *, pointer: str, message: str) -> str:
    """``text`` tidied, or a ValidationProblem with ``message`` naming ``pointer``."""
    name = " ".join(text.split())
    if not name or len(name) > NAME_MAX:
        raise ValidationProblem(
            message, errors=[FieldError(f"1 to {NAME_MAX} characters", pointer=pointer)]
        )
    return name
