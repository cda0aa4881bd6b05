"""Thai pages speak Thai: every page a person can reach, as each kind of person,
shows no English sentence from our own code.

The crawl starts from every page route without parameters and follows the links
it finds (one page per route shape), as the public, the demo student and each
demo staff account. A run of three or more English words in the visible text,
or in a title, label, placeholder or alt text, is a message someone forgot to
translate (or a service message that never went through the catalogue). Names
people chose, codes and addresses are not sentences and are left out.
"""

from __future__ import annotations

import re
from collections import deque
from html.parser import HTMLParser
from urllib.parse import urljoin, urlsplit

import pytest
from fastapi import FastAPI
from fastapi.routing import APIRoute, iter_route_contexts
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from dcatalog.demo.data import DEMO_ACCOUNTS, DEMO_PASSWORD
from dcatalog.demo.service import load_demo
from dcatalog.identity.citizen_key import CitizenKeyer
from tests.conftest import TEST_PEPPER
from tests.factories import sign_in, sign_in_citizen

# On the demo's reference data, loaded once; the words of a page are the same on any database.
pytestmark = [pytest.mark.demo_data, pytest.mark.one_backend("sqlite")]

STUDENT = "1103700123458"
PAGES_PER_PERSON = 120

# Three English words in a row (letters only, so codes like "redcross.donor_7",
# e-mails and URLs, taken out first, do not count).
ENGLISH_RUN = re.compile(r"\b[A-Za-z][a-z']+(?:[ ,:;-]+[A-Za-z][a-z']+){2,}\b")
NOT_SENTENCES = re.compile(
    r"(?<!\S)/\S*|\S+@\S+|\b\w+:\w+|https?://\S+|\b[\w.-]+\.[a-z]{2,}\S*|\b\w+[._/]\w+\S*"
)
ATTRIBUTES = ("title", "aria-label", "placeholder", "alt")
# Links that end the visit or fetch files instead of pages.
SKIP = re.compile(
    r"/(sign-out|logout)\b|^/lang/|\.(csv|json|pdf|png|xlsx|svg|js|css)$|^/api/|^/static/"
)


HIDING = {"script", "style", "code", "pre", "kbd", "samp", "template", "textarea"}
VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "wbr"}
# Names that are English in Thai too.
PROPER_NAMES = re.compile(r"SIL Open Font License|Open Font License|Tae Noppakun Wongsrinoppakun")


class _Visible(HTMLParser):
    """The text a person sees (and hears from a screen reader), and the links."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.texts: list[str] = []
        self.links: list[str] = []
        self._hidden = 0  # inside <script>, <style>, <code>, <pre>, <template>
        self._open: list[bool] = []  # per open element: does it hide its text?

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        # Code, and what is marked English on purpose (lang="en": the language
        # switch, a name given only in English), are not untranslated messages.
        hides = tag in HIDING or (values.get("lang") or "th") != "th"
        if tag not in VOID:
            self._open.append(hides)
            self._hidden += hides
        if self._hidden:
            return
        for name in ATTRIBUTES:
            if values.get(name):
                self.texts.append(str(values[name]))
        if tag == "a" and values.get("href"):
            self.links.append(str(values["href"]))
        if tag == "input" and values.get("type") in {"submit", "button"} and values.get("value"):
            self.texts.append(str(values["value"]))

    def handle_endtag(self, tag: str) -> None:
        if tag not in VOID and self._open:
            self._hidden -= self._open.pop()

    def handle_data(self, data: str) -> None:
        if not self._hidden and data.strip():
            self.texts.append(data)


def english_in(html: str) -> tuple[list[str], list[str]]:
    parser = _Visible()
    parser.feed(html)
    found = []
    for text in parser.texts:
        plain = PROPER_NAMES.sub(" ", NOT_SENTENCES.sub(" ", text))
        for run in ENGLISH_RUN.findall(plain):
            found.append(run)
    return found, parser.links


def _shape(path: str) -> str:
    """One visit per route shape: ids, numbers and filters are the same page for this."""
    return re.sub(r"/[0-9a-f-]{32,36}|/\d+", "/{id}", path.partition("?")[0])


def _start_pages(app: FastAPI) -> list[str]:
    pages = []
    for route in (context.original_route for context in iter_route_contexts(app.routes)):
        if (
            isinstance(route, APIRoute)
            and "GET" in route.methods
            and "{" not in route.path
            and not SKIP.search(route.path)
            and route.path not in {"/metrics", "/healthz"}
        ):
            pages.append(route.path)
    # And where people land by mistake: error pages speak Thai too.
    mistakes = ["/no-such-page", "/catalog/no.such_type", "/proposals/not-an-id",
                "/proposals/00000000-0000-0000-0000-000000000000", "/me/explain?subject=x"]  # fmt: skip
    return sorted(pages) + mistakes


def crawl(client: TestClient, starts: list[str]) -> tuple[dict[str, list[str]], set[str]]:
    """The English runs found on each reachable page (path → runs), and the pages."""
    queue: deque[str] = deque(starts)
    seen: set[str] = set()  # route shapes
    visited: set[str] = set()  # addresses
    found: dict[str, list[str]] = {}
    while queue and len(seen) < PAGES_PER_PERSON:
        path = queue.popleft()
        if path in visited or (_shape(path) in seen and path not in starts):
            continue
        visited.add(path)
        seen.add(_shape(path))
        response = client.get(path)
        if "text/html" not in response.headers.get("content-type", ""):
            continue
        runs, links = english_in(response.text)
        if runs:
            found[path] = runs
        for link in links:
            target = urlsplit(urljoin("http://testserver" + path, link))
            if target.netloc == "testserver" and not SKIP.search(target.path):
                queue.append(target.path + (f"?{target.query}" if target.query else ""))
    return found, seen


def test_no_english_sentence_on_any_thai_page(app: FastAPI, session: Session) -> None:
    load_demo(session, with_accounts=True, keyer=CitizenKeyer(TEST_PEPPER.encode()))
    session.commit()
    starts = _start_pages(app)
    people: dict[str, TestClient] = {"the public": TestClient(app)}
    student = TestClient(app)
    sign_in_citizen(student, session, STUDENT)
    people["the student"] = student
    for account in DEMO_ACCOUNTS:
        staff = TestClient(app)
        sign_in(staff, str(account["email"]), DEMO_PASSWORD)
        people[str(account["email"])] = staff
    english = {}
    for who, client in people.items():
        found, visited = crawl(client, starts)
        assert len(visited) > 10, f"{who} reached only {sorted(visited)}"
        for path, runs in found.items():
            english[f"{who} {path}"] = sorted(set(runs))
    assert english == {}, "English on Thai pages:\n" + "\n".join(
        f"{where}: {runs}" for where, runs in sorted(english.items())
    )


def test_the_check_finds_english() -> None:
    """The detector itself: an English sentence is found, Thai, codes and addresses are not."""
    runs, _ = english_in(
        "<p>ความดีของฉัน redcross.donor_7 office@pmdu.demo https://example.org/a/b</p>"
        "<p>Choose an agency that takes part.</p><code>Not this one here</code>"
        '<p lang="en">Nor this English name</p><p>Open Font License</p>'
        "<p>ความดี <span lang='en'>Thai Red Cross Society</span> ของฉัน</p>"
        '<input placeholder="e.g. renewing my loan">'
    )
    assert runs == ["Choose an agency that takes part", "renewing my loan"]
