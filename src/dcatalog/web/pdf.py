"""HTML to PDF with WeasyPrint, in the self-hosted Sarabun (certificates, the
progress report).

WeasyPrint may only read the font files and ``data:`` URLs: the HTML is ours,
but a renderer that fetches whatever a document names is a server-side request
forgery waiting for a template mistake.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from importlib.resources import as_file, files
from pathlib import Path
from typing import Any

from weasyprint import HTML, Attachment, URLFetcher
from weasyprint.urls import URLFetcherResponse

# WeasyPrint reports each rendering step at INFO: noise in the service's logs.
logging.getLogger("weasyprint.progress").setLevel(logging.WARNING)

FONT_FILES = (
    "sarabun-thai-400-normal.woff2",
    "sarabun-thai-700-normal.woff2",
    "sarabun-latin-400-normal.woff2",
    "sarabun-latin-700-normal.woff2",
)


class _FontsOnly(URLFetcher):  # type: ignore[misc]
    """Serves the Sarabun files and data: URLs; refuses every other address."""

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


def html_to_pdf(
    html_for: Callable[[dict[str, str]], str], attachments: Sequence[Attachment] = ()
) -> bytes:
    """The PDF of the HTML that ``html_for`` writes, given the Sarabun font
    files' URIs by name (for its ``@font-face`` rules)."""
    folder = files("dcatalog.web").joinpath("static", "fonts", "sarabun")
    with as_file(folder) as fonts_dir:
        paths = {name: (Path(fonts_dir) / name).resolve() for name in FONT_FILES}
        uris = {name: path.as_uri() for name, path in paths.items()}
        fetcher = _FontsOnly({uris[name]: path for name, path in paths.items()})
        pdf: bytes = HTML(string=html_for(uris), url_fetcher=fetcher).write_pdf(
            attachments=list(attachments), custom_metadata=True
        )
    return pdf
