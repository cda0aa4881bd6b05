"""HTML to PDF with WeasyPrint, in the self-hosted Sarabun (certificates, the
progress report).

WeasyPrint may only read the font files and ``data:`` URLs: the HTML is ours,
but a renderer that fetches whatever a document names is a server-side request
forgery waiting for a template mistake.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import cache
from importlib.resources import as_file, files
from pathlib import Path
from typing import Any

# WeasyPrint (with its fonts and Pango bindings) is imported when the first PDF is
# made, not with the module: it costs about a second, and every command, server
# and worker that never typesets one would pay it at start.

# WeasyPrint reports each rendering step at INFO: noise in the service's logs.
logging.getLogger("weasyprint.progress").setLevel(logging.WARNING)

FONT_FILES = (
    "sarabun-thai-400-normal.woff2",
    "sarabun-thai-700-normal.woff2",
    "sarabun-latin-400-normal.woff2",
    "sarabun-latin-700-normal.woff2",
)


@dataclass(frozen=True)
class EmbeddedFile:
    """A file carried inside the PDF (WeasyPrint's ``Attachment``)."""

    content: bytes
    name: str
    description: str
    relationship: str = "Source"


@cache
def _fonts_only() -> type:
    """The URL fetcher that serves the Sarabun files and data: URLs and refuses
    every other address (a class made once, when WeasyPrint is first needed)."""
    from weasyprint import URLFetcher
    from weasyprint.urls import URLFetcherResponse

    class FontsOnly(URLFetcher):  # type: ignore[misc]
        def __init__(self, fonts: dict[str, Path]) -> None:
            super().__init__(allowed_protocols=("data", "file"), allow_redirects=False)
            self._fonts = fonts

        def fetch(self, url: str, headers: Any = None) -> URLFetcherResponse:
            if url.startswith("data:"):
                return super().fetch(url, headers)
            font = self._fonts.get(url)
            if font is None:
                raise ValueError(f"the PDF may not load {url[:80]!r}")
            return URLFetcherResponse(url, font.read_bytes(), {"Content-Type": "font/woff2"})

    return FontsOnly


def html_to_pdf(
    html_for: Callable[[dict[str, str]], str], attachments: Sequence[EmbeddedFile] = ()
) -> bytes:
    """The PDF of the HTML that ``html_for`` writes, given the Sarabun font
    files' URIs by name (for its ``@font-face`` rules)."""
    from weasyprint import HTML, Attachment

    embedded = [
        Attachment(
            string=file.content,
            name=file.name,
            description=file.description,
            relationship=file.relationship,
        )
        for file in attachments
    ]
    folder = files("dcatalog.web").joinpath("static", "fonts", "sarabun")
    with as_file(folder) as fonts_dir:
        paths = {name: (Path(fonts_dir) / name).resolve() for name in FONT_FILES}
        uris = {name: path.as_uri() for name, path in paths.items()}
        fetcher = _fonts_only()({uris[name]: path for name, path in paths.items()})
        pdf: bytes = HTML(string=html_for(uris), url_fetcher=fetcher).write_pdf(
            attachments=embedded, custom_metadata=True
        )
    return pdf
