"""Bulk files: messy CSV and XLSX, every row accounted for, re-import is a no-op."""

import csv
import json
from collections.abc import Callable
from datetime import timedelta
from functools import partial
from pathlib import Path

import pytest
from openpyxl import Workbook
from sqlalchemy import func, select

from dcatalog.calendars.buddhist_era import today_in_thailand
from dcatalog.db import create_db_engine
from dcatalog.deeds.models import Deed
from tests import factories
from tests.conftest import DemoTemplate, copy_demo, demo_env
from tests.helpers import run_cli

TODAY = today_in_thailand()
THAI = str.maketrans("0123456789", "๐๑๒๓๔๕๖๗๘๙")


def be(day) -> str:  # type: ignore[no-untyped-def]
    return f"{day.day:02d}/{day.month:02d}/{day.year + 543}"


nid = partial(factories.nid, series="3")  # this file's own citizens


@pytest.fixture
def env(
    fresh_database_url: str,
    tmp_path: Path,
    backend: str,
    demo_template: Callable[..., DemoTemplate],
) -> dict[str, str]:
    """A copy of the demo without its accounts (``dcatalog demo`` run once, by
    ``demo_template``) and the settings to run the commands on it."""
    copy_demo(demo_template(backend, accounts=False), fresh_database_url, tmp_path / "var")
    return demo_env(fresh_database_url, tmp_path / "var", accounts=False)


def messy_rows() -> tuple[list[list[str]], dict[int, str]]:
    """Rows as a school clerk's export might have them, and what must happen to each
    (by spreadsheet row number: the heading is row 1)."""
    d = TODAY - timedelta(days=20)
    rows = [
        # 2: fine, Thai digits in ID and quantity, BE date
        [nid(1).translate(THAI), "kys.volunteer_activity", "๓", be(d), "TH-10", "cert 1", "r-1"],
        # 3: fine, dashed ID, ISO CE date, province by Thai name
        [
            f"{nid(2)[0]}-{nid(2)[1:5]}-{nid(2)[5:10]}-{nid(2)[10:12]}-{nid(2)[12]}",
            "kys.volunteer_activity",
            "2.5",
            d.isoformat(),
            "เชียงใหม่",
            "",
            "r-2",
        ],
        # 4: the same row as 2 again: unchanged, not a duplicate
        [nid(1).translate(THAI), "kys.volunteer_activity", "๓", be(d), "TH-10", "cert 1", "r-1"],
        # 5: bad checksum
        ["1234545678789", "kys.volunteer_activity", "1", be(d), "TH-10", "", "r-5"],
        # 6: an agency not allowed (a school recording blood donations)
        [nid(3), "redcross.blood_donation", "1", be(d), "TH-10", "", "r-6"],
        # 7: over the 12 hours per day (with row 2 the same day: 3 + 10)
        [nid(1), "kys.volunteer_activity", "10", be(d), "TH-10", "", "r-7"],
        # 8: a date in the future
        [nid(4), "kys.volunteer_activity", "1", be(TODAY + timedelta(days=3)), "TH-10", "", "r-8"],
        # 9: not a date
        [nid(5), "kys.volunteer_activity", "1", "yesterday", "TH-10", "", "r-9"],
        # 10: the same external id for a different deed
        [nid(6), "kys.volunteer_activity", "1", be(d), "TH-10", "", "r-1"],
        # 11: an empty quantity
        [nid(7), "kys.volunteer_activity", "", be(d), "TH-10", "", "r-11"],
    ]
    expected = {
        2: "imported",
        3: "imported",
        4: "unchanged",
        5: "national_id",
        6: "deed_type",
        7: "quantity",
        8: "occurred_on",
        9: "occurred_on",
        10: "external_id",
        11: "quantity",
    }
    return rows, expected


def write_csv(path: Path, rows: list[list[str]], thai_headings: bool = True) -> None:
    heading = (
        ["เลขประจำตัวประชาชน", "ประเภทความดี", "จำนวน", "วันที่", "จังหวัด", "หลักฐาน", "รหัสอ้างอิง"]
        if thai_headings
        else [
            "national_id",
            "deed_type",
            "quantity",
            "occurred_on",
            "province",
            "evidence",
            "external_id",
        ]
    )
    with path.open("w", encoding="utf-8-sig", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(heading)
        writer.writerows(rows)


def count_deeds(env: dict[str, str]) -> int:
    engine = create_db_engine(env["DCATALOG_DATABASE_URL"])
    with engine.connect() as conn:
        n = conn.scalar(select(func.count()).select_from(Deed))
    engine.dispose()
    return int(n or 0)


def test_a_messy_csv_every_row_accounted_for(env: dict[str, str], tmp_path: Path) -> None:
    rows, expected = messy_rows()
    source, report = tmp_path / "hours.csv", tmp_path / "errors.csv"
    write_csv(source, rows)
    result = run_cli(
        "import",
        "deeds",
        str(source),
        "--agency",
        "demouniv",
        "--errors",
        str(report),
        "--json",
        env=env,
    )
    assert result.returncode == 1, result.stderr  # rows were refused
    summary = json.loads(result.stdout.strip().splitlines()[-1])
    assert summary["rows"] == 10
    assert (summary["imported"], summary["unchanged"], summary["rejected"]) == (2, 1, 7)
    with report.open(encoding="utf-8-sig") as handle:
        errors = list(csv.DictReader(handle))
    refused = {int(e["row"]): e["column"] for e in errors}
    assert refused == {
        row: column for row, column in expected.items() if column not in ("imported", "unchanged")
    }
    assert all(e["reason"] for e in errors)
    assert nid(1) not in report.read_text(encoding="utf-8-sig")  # the report holds no ID
    assert count_deeds(env) == 2
    again = run_cli("import", "deeds", str(source), "--agency", "demouniv", "--json", env=env)
    summary = json.loads(again.stdout.strip().splitlines()[-1])
    assert (summary["imported"], summary["unchanged"]) == (0, 3)
    assert count_deeds(env) == 2


def test_all_or_nothing_imports_nothing_when_a_row_is_refused(
    env: dict[str, str], tmp_path: Path
) -> None:
    rows, _ = messy_rows()
    source = tmp_path / "hours.csv"
    write_csv(source, rows, thai_headings=False)
    result = run_cli(
        "import", "deeds", str(source), "--agency", "demouniv", "--all-or-nothing", env=env
    )
    assert result.returncode == 1
    assert "Nothing was imported" in result.stdout
    assert count_deeds(env) == 0
    good = tmp_path / "good.csv"
    write_csv(good, rows[:2])
    ok = run_cli("import", "deeds", str(good), "--agency", "demouniv", "--all-or-nothing", env=env)
    assert ok.returncode == 0, ok.stderr
    assert "2 imported" in ok.stdout
    assert count_deeds(env) == 2


def test_xlsx_with_real_dates(env: dict[str, str], tmp_path: Path) -> None:
    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.append(
        [
            "national_id",
            "deed_type",
            "quantity",
            "occurred_on",
            "province",
            "evidence",
            "external_id",
        ]
    )
    day = TODAY - timedelta(days=7)
    sheet.append([int(nid(11)), "kys.volunteer_activity", 4, day, "TH-40", "", "x-1"])
    sheet.append([nid(12), "kys.volunteer_activity", 2.5, be(day), "ขอนแก่น", "", "x-2"])
    path = tmp_path / "hours.xlsx"
    workbook.save(path)
    result = run_cli("import", "deeds", str(path), "--agency", "demouniv", "--json", env=env)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout.strip().splitlines()[-1])["imported"] == 2


def test_files_that_cannot_be_read(env: dict[str, str], tmp_path: Path) -> None:
    latin = tmp_path / "latin.csv"
    latin.write_bytes(b"national_id,deed_type\n" + "ทดสอบ".encode("cp874"))
    assert (
        "not UTF-8"
        in run_cli("import", "deeds", str(latin), "--agency", "demouniv", env=env).stderr
    )
    partial = tmp_path / "partial.csv"
    partial.write_text("national_id,deed_type\n1,2\n", encoding="utf-8")
    missing = run_cli("import", "deeds", str(partial), "--agency", "demouniv", env=env)
    assert missing.returncode == 1
    assert "missing column(s): quantity, occurred_on, province, external_id" in missing.stderr
    notes = tmp_path / "notes.pdf"
    notes.write_text("x")
    refused = run_cli("import", "deeds", str(notes), "--agency", "demouniv", env=env)
    assert refused.returncode == 1
    assert ".csv" in refused.stderr


def test_tallies_check_and_rebuild(env: dict[str, str], tmp_path: Path) -> None:
    source = tmp_path / "blood.csv"
    write_csv(
        source,
        [
            [
                nid(i),
                "redcross.blood_donation",
                "1",
                be(TODAY - timedelta(days=2)),
                "TH-30",
                "",
                f"b{i}",
            ]
            for i in range(5)
        ],
    )
    assert (
        run_cli("import", "deeds", str(source), "--agency", "korat_hospital", env=env).returncode
        == 0
    )
    assert run_cli("tallies", "check", env=env).returncode == 0
    engine = create_db_engine(env["DCATALOG_DATABASE_URL"])
    with engine.begin() as conn:
        conn.exec_driver_sql("UPDATE tally SET credits = credits + 1 WHERE period = 'lifetime'")
    engine.dispose()
    broken = run_cli("tallies", "check", env=env)
    assert broken.returncode == 1
    assert "differ" in broken.stderr
    assert run_cli("tallies", "rebuild", env=env).returncode == 0
    assert run_cli("tallies", "check", env=env).returncode == 0
