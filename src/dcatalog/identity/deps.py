"""What routes need of identity, as FastAPI dependencies: the citizen-key maker
(built once per application from the pepper, see ``dcatalog.app``)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from dcatalog.identity.citizen_key import CitizenKeyer


def citizen_keyer(request: Request) -> CitizenKeyer:
    keyer: CitizenKeyer = request.app.state.keyer
    return keyer


KeyerDep = Annotated[CitizenKeyer, Depends(citizen_keyer)]
