"""The benchmarks' AutoGluon client: the folder it hands over, and how it reads the answer back.

AutoGluon itself is not installed with the project, so an interpreter stand-in plays the
runner's part: it reads what the client wrote and answers as `autogluon_runner.py` does.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks"))
client = pytest.importorskip("autogluon_client")
systems = pytest.importorskip("systems")

# Stand-in for AutoGluon's Python: `python RUNNER FOLDER`. It checks the inputs, forecasts
# each item's last value for `horizon` steps and reports 1.5 s of fit and 0.25 s of predict.
FAKE = """
import json, sys
from pathlib import Path
import pandas as pd
folder = Path(sys.argv[2])
config = json.loads((folder / "config.json").read_text())
train = pd.read_parquet(folder / "train.parquet")
future = pd.read_parquet(folder / "future.parquet")
static = pd.read_parquet(folder / "static.parquet")
assert list(train.columns) == ["item_id", "timestamp", "target", *config["known"]], train.columns
assert list(future.columns) == ["item_id", "timestamp", *config["known"]], future.columns
assert sorted(static["item_id"]) == sorted(train["item_id"].unique())
last = train.groupby("item_id")["target"].last()
rows = future[["item_id", "timestamp"]].copy()
value = rows["item_id"].map(last).to_numpy()
for column in ("mean", "p10", "p50", "p90"):
    rows[column] = value
rows["item_id"] = rows["item_id"].astype("category")
rows.to_parquet(folder / "forecast.parquet")
(folder / "result.json").write_text(json.dumps({
    "fit_seconds": 1.5, "predict_seconds": 0.25, "best": "Fake",
    "leaderboard": [{"model": "Fake", "score_val": -0.5}],
    "config": config,
}))
sys.stdout.flush()
# Leave without the interpreter's teardown: under load pyarrow's thread pool aborted it at
# exit now and then ("terminate called without an active exception", exit 134) after the
# answer was written, and the client rightly read that as a failed run.
import os
os._exit(0)
"""


def panel() -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    days = pd.date_range("2024-01-01", periods=10, freq="D")
    train = pd.DataFrame(
        {
            "item_id": np.repeat(["a", "b"], 10),
            "timestamp": np.tile(days, 2),
            "target": np.r_[np.arange(10.0), np.arange(10.0) * 2],
            "promo": np.tile([0, 1], 10),
            "unused": 7.0,
        }
    )
    ahead = pd.date_range("2024-01-11", periods=3, freq="D")
    future = pd.DataFrame(
        {"item_id": np.repeat(["a", "b"], 3), "timestamp": np.tile(ahead, 2), "promo": 1, "unused": 0.0}
    )
    statics = pd.DataFrame({"item_id": ["a", "b"], "kind": ["x", "y"]})
    return train, future, statics


@pytest.fixture
def fake_python(tmp_path: Path) -> str:
    """An executable that runs FAKE with this interpreter, whatever runner path it is given."""
    script = tmp_path / "fake_runner.py"
    script.write_text(FAKE)
    wrapper = tmp_path / "python"
    wrapper.write_text(f'#!/bin/sh\nexec "{sys.executable}" "{script}" "$@"\n')
    wrapper.chmod(0o755)
    return str(wrapper)


def test_when_autogluon_answers_then_its_forecast_and_own_seconds_come_back(fake_python: str):
    train, future, statics = panel()
    run = client.run_autogluon(fake_python, train, future, statics, 3, "D", ["promo"], threads=1)
    assert run.error is None
    # Its own fit + predict time, not the interpreter's start or the parquet round trip.
    assert run.seconds == pytest.approx(1.75)
    forecast = run.forecast.sort_values(["item_id", "timestamp"]).reset_index(drop=True)
    assert forecast["item_id"].tolist() == ["a"] * 3 + ["b"] * 3
    assert forecast["item_id"].dtype == object and forecast["timestamp"].dtype == "datetime64[ns]"
    assert forecast["p50"].tolist() == [9.0] * 3 + [18.0] * 3
    assert run.notes[0].startswith("best Fake;") and "Fake -0.5000" in run.notes[0]


def test_when_autogluon_fails_then_the_run_says_so_with_its_last_error_line(tmp_path: Path):
    broken = tmp_path / "python"
    broken.write_text("#!/bin/sh\necho 'ImportError: no autogluon here' >&2\nexit 3\n")
    broken.chmod(0o755)
    train, future, statics = panel()
    run = client.run_autogluon(str(broken), train, future, statics, 3, "D", ["promo"], threads=1)
    assert run.error == "failed: ImportError: no autogluon here"
    assert run.forecast.empty and run.notes == [run.error]


def test_the_runner_gets_the_preset_quantiles_and_threads_every_benchmark_shares(
    fake_python: str, monkeypatch: pytest.MonkeyPatch
):
    seen: dict[str, object] = {}
    real_loads = json.loads

    def spy(text: str) -> object:
        answer = real_loads(text)
        if isinstance(answer, dict) and "config" in answer:
            seen.update(answer["config"])
        return answer

    monkeypatch.setattr(client.json, "loads", spy)
    train, future, statics = panel()
    client.run_autogluon(fake_python, train, future, statics, 3, "D", ["promo"], threads=2)
    assert seen == {
        "horizon": 3,
        "freq": "D",
        "known": ["promo"],
        "quantiles": [0.1, 0.5, 0.9],
        "preset": "medium_quality",
        "threads": 2,
    }


def test_the_history_grid_runs_every_item_to_the_origin_with_gaps_as_nan():
    day = pd.Timestamp("2024-01-01")
    train = pd.DataFrame(
        {
            "item_id": ["a", "a", "a", "b", "b"],
            "timestamp": [
                day,
                day + pd.Timedelta(days=1),
                day + pd.Timedelta(days=3),
                day,
                day + pd.Timedelta(days=1),
            ],
            "target": [1.0, 2.0, 4.0, 5.0, 6.0],
            "promo": [0, 1, 0, 1, 0],
        }
    )
    grid = systems.history_grid(train, day + pd.Timedelta(days=3), "D", ["promo"])
    assert grid["item_id"].tolist() == ["a"] * 4 + ["b"] * 4
    assert grid["timestamp"].tolist() == list(pd.date_range(day, periods=4, freq="D")) * 2
    np.testing.assert_array_equal(grid["target"], [1, 2, np.nan, 4, 5, 6, np.nan, np.nan])
    # The covariate of an absent row is the item's last known one (b's early end keeps 0).
    assert grid["promo"].tolist() == [0, 1, 1, 0, 1, 0, 0, 0]


def test_the_bars_against_autogluon_are_same_run_ratios_and_absent_without_it():
    tide = {"wql": 0.05, "seconds": 10.0}
    bars = client.versus_autogluon("panel", "panel: tidecast", tide, {"wql": 0.1, "seconds": 40.0})
    assert [(b["bar"], b["value"], b["passed"]) for b in bars] == [
        ("panel: tidecast wQL ÷ AutoGluon wQL", pytest.approx(0.5), True),
        ("panel: tidecast time ÷ AutoGluon time", pytest.approx(0.25), True),
    ]
    slower = client.versus_autogluon("panel", "panel: tidecast", tide, {"wql": 0.04, "seconds": 5.0})
    assert [b["passed"] for b in slower] == [False, False]
    assert client.versus_autogluon("panel", "panel: tidecast", tide, None) == []
    assert client.versus_autogluon("panel", "panel: tidecast", tide, {"wql": np.nan, "seconds": 1.0}) == []
