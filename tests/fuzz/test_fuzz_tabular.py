"""A bounded fuzzing run of the reader of uploaded tables (atheris, libFuzzer): any
exception other than the reader's own ``FileProblem`` fails the run."""

import io
import subprocess
import sys
from pathlib import Path

from openpyxl import Workbook

TARGET = Path(__file__).with_name("fuzz_tabular.py")


def seeds(folder: Path) -> None:
    """A CSV and an XLSX to start from (the fuzzer mutates them)."""
    folder.mkdir()
    (folder / "deeds.csv").write_bytes(
        '\ufeffnational_id,quantity,evidence\r\n1234,๓,"a, b"\r\n,,\r\n'.encode()
    )
    book = Workbook()
    for row in (["national_id", "occurred_on"], ["1234", "26/11/2569"], [None, 3.0]):
        book.active.append(row)  # type: ignore[union-attr]
    out = io.BytesIO()
    book.save(out)
    (folder / "deeds.xlsx").write_bytes(out.getvalue())


def test_the_table_reader_survives_fuzzing(tmp_path: Path) -> None:
    corpus = tmp_path / "corpus"
    seeds(corpus)
    run = subprocess.run(
        [
            sys.executable,
            str(TARGET),
            str(corpus),
            "-runs=3000",
            "-max_total_time=25",
            "-max_len=65536",
            "-rss_limit_mb=1024",
            "-timeout=10",
        ],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=tmp_path,  # crash files, if any, land here
    )
    assert run.returncode == 0, run.stderr[-4000:]
