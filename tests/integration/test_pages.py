import re
from importlib.resources import files

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from dcatalog.demo.service import load_demo


@pytest.fixture
def demo(session: Session) -> None:
    load_demo(session)


@pytest.mark.usefixtures("demo")
def test_home_page_is_thai_by_default(client: TestClient) -> None:
    response = client.get("/")
    assert response.status_code == 200
    html = response.text
    assert '<html lang="th">' in html
    assert "ความดีที่นับได้ มองเห็นได้ และได้รับคำขอบคุณ" in html
    for virtue in ("พอเพียง", "วินัย", "สุจริต", "จิตอาสา", "สุขภาวะ"):
        assert virtue in html
    assert "กองทุนเงินให้กู้ยืมเพื่อการศึกษา (กยศ.)" in html
    assert "สภากาชาดไทย" in html
    assert re.search(r"วันนี้วันที่ \d{1,2} \S+ พ\.ศ\. 25\d\d", html)


@pytest.mark.usefixtures("demo")
def test_language_switch_remembers_english(client: TestClient) -> None:
    switch = client.get("/lang/en", params={"next": "/"}, follow_redirects=False)
    assert switch.status_code == 303
    assert switch.headers["location"] == "/"
    assert "lang=en" in switch.headers["set-cookie"]
    html = client.get("/").text
    assert '<html lang="en">' in html
    assert "Good deeds, counted, seen and thanked" in html
    assert "Student Loan Fund (SLF)" in html
    assert re.search(r"Today is \d{1,2} \w+ 20\d\d\.", html)
    client.get("/lang/th")
    assert '<html lang="th">' in client.get("/").text


@pytest.mark.parametrize("target", ["//evil.example/", "https://evil.example/", "evil"])
def test_language_switch_is_not_an_open_redirect(client: TestClient, target: str) -> None:
    response = client.get("/lang/en", params={"next": target}, follow_redirects=False)
    assert response.headers["location"] == "/"


def test_unknown_language_is_refused(client: TestClient) -> None:
    assert client.get("/lang/fr", follow_redirects=False).status_code == 404


def test_home_page_without_data_explains_itself(client: TestClient) -> None:
    html = client.get("/").text
    assert "ยังไม่มีหน่วยงานพันธมิตรเข้าร่วม" in html


@pytest.mark.parametrize(
    "path",
    [
        "/static/css/app.css",
        "/static/vendor/htmx/htmx.min.js",
        "/static/fonts/sarabun/sarabun-thai-400-normal.woff2",
    ],
)
def test_assets_are_self_hosted(client: TestClient, path: str) -> None:
    response = client.get(path)
    assert response.status_code == 200
    assert len(response.content) > 1000


def test_vendored_assets_keep_their_licences() -> None:
    static = files("dcatalog.web") / "static"
    assert "Zero-Clause BSD" in (static / "vendor" / "htmx" / "LICENSE").read_text()
    assert "SIL Open Font License" in (static / "fonts" / "sarabun" / "LICENSE").read_text()


def test_api_docs_load_nothing_from_elsewhere(client: TestClient) -> None:
    html = client.get("/api/docs").text
    assert "/static/vendor/swagger-ui/swagger-ui-bundle.js" in html
    assert "cdn." not in html
    spec = client.get("/api/v1/openapi.json").json()
    assert spec["info"]["title"] == "D-Catalog API"
    assert "/readyz" in spec["paths"]
