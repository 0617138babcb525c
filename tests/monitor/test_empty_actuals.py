"""Bad actuals, through the real CLI and the HTTP API on 127.0.0.1: each refused with a reason,
nothing stored. A CSV upload with a header and no rows was a 200 that loaded 0 rows, where the
CLI refuses the same file (exit 2) and JSON needs at least one row: a broken export looked loaded."""

from __future__ import annotations

import io
import os
import subprocess
import sys
from pathlib import Path

import httpx
import pandas as pd
import pytest

from conftest import serve_in_thread
from tidecast.registry.db import Database
from tidecast.registry.settings import ServiceSettings
from tidecast.service.app import create_app

HEADER = b"item_id,timestamp,value\n"
SRC = str(Path(__file__).resolve().parents[2] / "src")


def test_when_an_upload_has_no_rows_then_the_service_refuses_it_and_stores_nothing(
    tmp_path: Path, database_url: str, database: Database
) -> None:
    settings = ServiceSettings(home=tmp_path, open_mode=True, database_url=database_url, data_root=tmp_path)
    parquet = io.BytesIO()
    pd.DataFrame({"item_id": pd.Series([], dtype=str), "value": pd.Series([], dtype=float)}).to_parquet(
        parquet
    )
    with serve_in_thread(create_app(settings, database=database)) as url, httpx.Client(base_url=url) as http:
        for body, kind in ((HEADER, "text/csv"), (parquet.getvalue(), "application/x-parquet")):
            refused = http.post("/v1/actuals", content=body, headers={"content-type": kind})
            assert refused.status_code == 422, refused.text
            assert refused.json()["detail"] == "the upload is empty: it has a header but no rows"
        nan = http.post(
            "/v1/actuals", content=HEADER + b"a,2024-01-01,\n", headers={"content-type": "text/csv"}
        )
        assert (nan.status_code, nan.json()["detail"]) == (422, "row 0: value is missing (empty or NaN)")
        assert http.get("/v1/monitoring/nosuch").status_code == 404
        assert http.get("/v1/actuals", params={"item_id": "a"}).json()["actuals"] == []


@pytest.mark.parametrize(
    ("body", "said"),
    [(HEADER, "it has a header but no rows"), (HEADER + b"a,2024-01-01,nan\n", "value is missing")],
)
def test_when_the_cli_reads_an_empty_or_nan_file_then_it_exits_2_naming_it(
    tmp_path: Path, body: bytes, said: str
) -> None:
    file = tmp_path / "actuals.csv"
    file.write_bytes(body)
    env = {**os.environ, "TIDECAST_HOME": str(tmp_path / "home"), "PYTHONPATH": SRC, "COLUMNS": "200"}
    done = subprocess.run(
        [sys.executable, "-m", "tidecast.cli", "actuals", "ingest", str(file)],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2 and said in done.stderr, done.stderr
