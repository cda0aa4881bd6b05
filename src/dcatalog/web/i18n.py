"""Thai first, English complete: gettext catalogues (Babel) and the page language.

Message ids are English; ``locale/th/LC_MESSAGES/messages.po`` gives the Thai.
The .po files are the only source: they are compiled in memory at start-up, so
no compiled .mo file can go stale. The language of a request comes from the
``lang`` cookie (set by the language switch), else the configured default.
"""

from __future__ import annotations

import gettext as gettext_module
from collections.abc import Mapping
from contextvars import ContextVar
from functools import cache
from importlib.resources import files
from io import BytesIO
from typing import Final

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import Translations
from starlette.types import ASGIApp, Receive, Scope, Send

LANGUAGES: Final = ("th", "en")
LANG_COOKIE: Final = "lang"
_current: ContextVar[str] = ContextVar("dcatalog_lang", default="th")


@cache
def translations(lang: str) -> gettext_module.NullTranslations:
    if lang == "en":
        return gettext_module.NullTranslations()
    po_file = files("dcatalog.web") / "locale" / lang / "LC_MESSAGES" / "messages.po"
    with po_file.open("rb") as handle:
        catalog = read_po(handle, locale=lang)
    compiled = BytesIO()
    write_mo(compiled, catalog)
    compiled.seek(0)
    return Translations(fp=compiled, domain="messages")


def current_language() -> str:
    return _current.get()


def set_language(lang: str) -> None:
    _current.set(lang if lang in LANGUAGES else LANGUAGES[0])


def gettext(message: str) -> str:
    return translations(current_language()).gettext(message)


def ngettext(singular: str, plural: str, n: int) -> str:
    return translations(current_language()).ngettext(singular, plural, n)


_ = gettext


class Message(str):
    """English text that remembers its message id and values, so that a page can
    show it in the reader's language later (``translated``) while the API sends the
    English as it is. Services raise problems with these: they have no reader."""

    msgid: str
    values: Mapping[str, object]

    def __new__(cls, msgid: str, values: Mapping[str, object]) -> Message:
        text = super().__new__(cls, msgid % values)
        text.msgid, text.values = msgid, values
        return text


def N_(msgid: str, /, **values: object) -> str:
    """Marks a message id for the catalogue, to be translated where it is shown; with
    values, the English text now and what ``translated`` needs later."""
    return Message(msgid, values) if values else msgid


def translated(text: str, lang: str | None = None) -> str:
    """``text`` in ``lang`` (the request's by default) when it is a message id of the
    catalogue or a ``Message``; anything else (a name, a person's words) as it is."""
    catalogue = translations(lang if lang in LANGUAGES else current_language())
    if isinstance(text, Message):
        return catalogue.gettext(text.msgid) % text.values
    return catalogue.gettext(text)


def in_thai(message: str) -> str:
    """The Thai of a message id, for a problem that carries both languages
    (``FieldError.detail_th``): Thai pages show it, partners' systems get it too."""
    return translated(message, "th")


class LanguageMiddleware:
    """Sets the language of each request for everything that runs inside it."""

    def __init__(self, app: ASGIApp, default: str = "th") -> None:
        self.app = app
        self.default = default if default in LANGUAGES else LANGUAGES[0]

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            set_language(_cookie_language(scope) or self.default)
        await self.app(scope, receive, send)


def _cookie_language(scope: Scope) -> str | None:
    for name, value in scope.get("headers", []):
        if name != b"cookie":
            continue
        for part in value.decode("latin-1").split(";"):
            key, _, val = part.strip().partition("=")
            if key == LANG_COOKIE and val in LANGUAGES:
                return str(val)
    return None
