"""The CLI details a new user met first: help, version, model names, ids for scripts, rates."""

import pandas as pd
import pytest
from typer.testing import CliRunner

from tidecast import __version__
from tidecast.automl.forecaster import AutoForecaster
from tidecast.cli import jobs as jobs_cli
from tidecast.cli.main import app
from tidecast.data.demo import generate
from tidecast.errors import ConfigError
from tidecast.jobs.request import JobRequest
from tidecast.models.catalog import model_name

runner = CliRunner()


@pytest.mark.parametrize("command", [[], ["train"], ["backtest"], ["jobs", "create"], ["models", "list"]])
def test_when_dash_h_then_help_is_printed(command):
    result = runner.invoke(app, [*command, "-h"])
    assert result.exit_code == 0, result.output
    assert "Usage:" in result.output


def test_when_version_then_it_is_printed():
    result = runner.invoke(app, ["--version"])
    assert result.exit_code == 0 and result.output.strip() == f"tidecast {__version__}"


def test_horizon_keeps_its_long_name():
    result = runner.invoke(app, ["train", "-h"], env={"COLUMNS": "200"})
    assert "--horizon" in result.output


def test_when_model_names_differ_in_case_then_they_resolve_to_the_catalog():
    assert model_name("autoets") == "AutoETS" and model_name("SEASONALNAIVE") == "SeasonalNaive"
    with pytest.raises(ConfigError, match="unknown model 'autoet'"):
        model_name("autoet")
    assert JobRequest.model_validate({"data": "x.csv", "horizon": 3, "models": ["naive"]}).models == ["Naive"]


def test_when_model_names_are_lower_case_then_automl_fits_them():
    frame = generate(n_items=2, seed=1)[["item_id", "timestamp", "target_value"]].tail(200)
    auto = AutoForecaster(
        horizon=3,
        models=["naive", "seasonalnaive"],
        model_params={"naive": {}},
        target_col="target_value",
        backtest_windows=1,
    ).fit(frame)
    assert set(auto.leaderboard()["model"]) >= {"Naive", "SeasonalNaive"}


def test_when_jobs_create_is_quiet_then_only_the_id_is_printed(tmp_path, monkeypatch):
    body = tmp_path / "job.json"
    body.write_text('{"data": "x.csv", "horizon": 3}')
    monkeypatch.setattr(
        jobs_cli, "_request", lambda *a, **k: {"id": "j-123", "name": "n", "status": "queued"}
    )
    result = runner.invoke(app, ["jobs", "create", str(body), "--quiet"])
    assert result.exit_code == 0 and result.output == "j-123\n"


def test_models_register_help_names_only_commands_that_exist():
    result = runner.invoke(app, ["models", "register", "--help"], env={"COLUMNS": "200"})
    assert "tidecast fit" not in result.output and "tidecast train" in result.output


def test_when_a_finished_batch_runs_again_then_no_rate_is_claimed(tmp_path):
    frame = generate(n_items=3, seed=2)
    frame = frame[frame["timestamp"] >= "2023-09-01"][["item_id", "timestamp", "target_value"]]
    auto = AutoForecaster(horizon=4, models=["Naive"], target_col="target_value", backtest_windows=1)
    auto.fit(frame).save(tmp_path / "model")
    frame.to_csv(tmp_path / "history.csv", index=False)
    args = ["batch", "--model", str(tmp_path), "--input", str(tmp_path / "history.csv")]
    args += ["--output", str(tmp_path / "o"), "--jobs", "1"]
    assert runner.invoke(app, args).exit_code == 0
    again = runner.invoke(app, args)
    assert again.exit_code == 0, again.output
    assert "items/s" not in again.output and "1 of 1 chunk already done" in again.output


def test_at_80_columns_the_leaderboard_shows_every_score_in_full(monkeypatch):
    from tidecast.cli import train as train_cli

    monkeypatch.setattr(train_cli.out, "width", 80)
    rows = []
    for name in ["DynamicRegression", "WeightedEnsemble", "LightGBM"]:
        row = {"model": name, "selected": True, "score": 0.012345, "weight": 0.5}
        row |= {"fit_seconds": 123.4, "predict_seconds": 12.3, "error": ""}
        row |= {f"window_{k}": 0.0123456 for k in range(5)}
        rows.append(row)
    with train_cli.out.capture() as captured:
        train_cli.print_leaderboard(pd.DataFrame(rows), "wql")
    text = captured.get()
    assert "…" not in text and text.count("0.0123") >= 3 * 2
    assert max(len(line) for line in text.splitlines()) <= 80
    assert "pred s" in text and "w5" in text


def test_a_candidate_stopped_or_skipped_by_design_is_not_shown_as_failed():
    from tidecast.cli import train as train_cli

    errors = {
        "NPTS": "stopped after window 1: its wql there was 0.2586, 26.44x the best so far",
        "MSTL": "skipped: on a sample of 60 series its wql was 0.2121",
        "Prophet": "ValueError: no finite forecast for 3 backtest points of window 1",
        "Naive": "",
    }
    rows = [
        {"model": m, "selected": False, "score": 0.5 if not e else float("nan"), "weight": 0.0}
        | {"fit_seconds": 1.0, "predict_seconds": 0.1, "error": e, "window_1": 0.5}
        for m, e in errors.items()
    ]
    with train_cli.out.capture() as captured:
        train_cli.print_leaderboard(pd.DataFrame(rows), "wql")
    text = captured.get()
    lines = text.splitlines()
    row = {m: next(line for line in lines if line.strip().startswith(m) and " 1.0 " in line) for m in errors}
    assert "stopped" in row["NPTS"] and "skipped" in row["MSTL"] and "failed" in row["Prophet"]
    assert not any("failed" in row[m] for m in ("NPTS", "MSTL", "Naive"))
    assert "\nNPTS stopped after window 1: its wql there was 0.2586, 26.44x" in text
    assert "\nMSTL skipped: on a sample of 60 series its wql was 0.2121\n" in text
    assert "\nProphet failed: ValueError: no finite forecast for 3 backtest points of window 1\n" in text
    assert [train_cli.outcome(e) for e in list(errors.values())[:3]] == ["stopped", "skipped", "failed"]


def test_a_stopped_candidate_is_said_once_not_again_among_the_notes():
    from tidecast.cli import train as train_cli

    reason = "stopped after window 1: its wql there was 0.2201, 4.20x the best so far"
    board = pd.DataFrame(
        [
            {"model": "NPTS", "error": reason},
            {"model": "LightGBM", "error": ""},
        ]
    )
    notes = [f"NPTS {reason}", "LightGBMHorizonLags not refitted: its ensemble weight 0.06 is under 0.1"]
    with train_cli.out.capture() as captured:
        train_cli.print_notes(notes, board)
    text = captured.get()
    assert "stopped after window 1" not in text
    assert text.count("note:") == 1 and "not refitted" in text
