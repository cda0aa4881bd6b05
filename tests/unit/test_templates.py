"""Template guards: the form helpers need the page's context (its CSRF token)."""

from __future__ import annotations

import re
from pathlib import Path

import dcatalog

TEMPLATES = Path(dcatalog.__file__).parent / "web" / "templates"
IMPORT = re.compile(r'{%-?\s*from\s+"_forms\.html"\s+import\s+([^%]*?)\s*-?%}')


def test_every_import_of_the_form_helpers_takes_the_context() -> None:
    """Jinja imports macros without the context by default: ``csrf()`` then renders
    an empty token and the form is refused as expired (the dashboard's refresh was)."""
    bare = [
        str(path.relative_to(TEMPLATES))
        for path in sorted(TEMPLATES.rglob("*.html"))
        for names in IMPORT.findall(path.read_text(encoding="utf-8"))
        if not names.endswith("with context")
    ]
    assert bare == []
