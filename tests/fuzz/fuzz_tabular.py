"""Fuzz target: the reader of uploaded tables (``dcatalog.tabular``) on any bytes,
as a CSV or an XLSX file. The only exception allowed out is ``FileProblem``.

Run by tests/fuzz/test_fuzz_tabular.py; by hand:
``.venv/bin/python tests/fuzz/fuzz_tabular.py CORPUS_DIR -runs=100000``.
"""

import sys
import tempfile
from pathlib import Path

import atheris
import defusedxml.ElementTree  # noqa: F401 (imported before: only our reader is instrumented)
import openpyxl  # noqa: F401

import dcatalog.config
import dcatalog.problems  # noqa: F401

with atheris.instrument_imports(include=["dcatalog.tabular"]):
    from dcatalog import tabular

# Small limits, so that the limits themselves are reached too.
LIMITS = tabular.Limits(
    max_rows=50, max_cell_chars=200, xlsx_max_unpacked_bytes=2_000_000, xlsx_max_ratio=50
)
FOLDER = Path(tempfile.mkdtemp(prefix="dcatalog-fuzz-"))


def one_input(data: bytes) -> None:
    # The first byte chooses the kind: the rest is the file.
    suffix = ".xlsx" if data[:1] in (b"P", b"x") else ".csv"
    path = FOLDER / f"upload{suffix}"
    path.write_bytes(data[1:] if data[:1] == b"x" else data)
    try:
        tabular.check(path, LIMITS)
        for row in tabular.read(path, LIMITS):
            assert len(row.cells) <= tabular.MAX_COLUMNS
            assert all(len(cell) <= LIMITS.max_cell_chars for cell in row.cells)
    except tabular.FileProblem as problem:
        if problem.status not in (413, 422) or not str(problem) or not problem.thai:
            raise RuntimeError(f"an unclear refusal: {problem!r}") from problem


if __name__ == "__main__":
    atheris.Setup(sys.argv, one_input)
    atheris.Fuzz()
