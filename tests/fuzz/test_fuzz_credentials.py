"""A bounded fuzzing run of the credential verifier (atheris, libFuzzer): any
exception fails the run; the seeds are the W3C vectors shipped in tests/data."""

import shutil
import subprocess
import sys
from pathlib import Path

TARGET = Path(__file__).with_name("fuzz_credentials.py")
VECTORS = Path(__file__).resolve().parents[1] / "data" / "credentials" / "vectors"


def test_the_credential_verifier_survives_fuzzing(tmp_path: Path) -> None:
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    for number, seed in enumerate(sorted(VECTORS.rglob("signed*.json"))):
        shutil.copy(seed, corpus / f"{number}.json")
    assert len(list(corpus.iterdir())) >= 3
    run = subprocess.run(
        [
            sys.executable,
            str(TARGET),
            str(corpus),
            "-runs=3000",
            "-max_total_time=30",
            "-max_len=16384",
            "-rss_limit_mb=1024",
            "-timeout=20",
        ],
        capture_output=True,
        text=True,
        timeout=150,
        cwd=tmp_path,  # crash files, if any, land here
    )
    assert run.returncode == 0, run.stderr[-4000:]
    assert "DONE" in run.stderr  # the fuzzer ran to its bound
