"""Who may call a route. Every route states it: either ``public`` or a rule
from the accounts domain. A test walks every route of the application and
fails when one states nothing, so a new route can't be open by accident."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from fastapi import Depends

Rule = TypeVar("Rule", bound=Callable[..., Any])


def access_rule(function: Rule) -> Rule:
    """Mark a dependency as an access rule (what the route guard test looks for)."""
    function.__dcatalog_access_rule__ = True  # type: ignore[attr-defined]
    return function


def is_access_rule(function: object) -> bool:
    return bool(getattr(function, "__dcatalog_access_rule__", False))


@access_rule
def _anyone() -> None:
    """Open to everyone, signed in or not."""


public: Any = Depends(_anyone)
