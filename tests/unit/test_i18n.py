"""English is the source, Thai must be complete: every text a page can show
has a Thai translation, and the catalogue holds nothing stale."""

from importlib.resources import files

from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

from tests.helpers import ROOT

METHODS = [("**.py", "python"), ("**/templates/**.html", "jinja2")]


def source_messages() -> set[str]:
    found = set()
    for _file, _line, message, _comments, _context in extract_from_dir(
        ROOT / "src" / "dcatalog", METHODS
    ):
        found.add(message if isinstance(message, str) else message[0])
    return found


def thai_catalogue() -> dict[str, str]:
    path = files("dcatalog.web") / "locale" / "th" / "LC_MESSAGES" / "messages.po"
    with path.open("rb") as handle:
        catalog = read_po(handle, locale="th")
    entries = {}
    for message in catalog:
        if not message.id:
            continue
        plural = isinstance(message.id, tuple)
        key = message.id[0] if plural else message.id
        entries[str(key)] = str(message.string[0] if plural else message.string)
    return entries


def test_every_text_has_a_thai_translation() -> None:
    catalogue = thai_catalogue()
    untranslated = sorted(m for m in source_messages() if not catalogue.get(m))
    assert untranslated == [], "run ./dev messages and translate these"


def test_the_catalogue_holds_no_stale_entries() -> None:
    stale = sorted(set(thai_catalogue()) - source_messages())
    assert stale == [], "run ./dev messages to drop these"
