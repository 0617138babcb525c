"""A batch's future covariates file and its output folder, as a nightly run meets them:
items the file leaves out, a file without a column, a folder a refused run left behind."""

from pathlib import Path

import pandas as pd
import pytest

from tidecast.automl.forecaster import AutoForecaster
from tidecast.batch import run_batch
from tidecast.batch.staging import chunk_of
from tidecast.data.demo import future_covariates, generate
from tidecast.errors import ConfigError, DataError

ITEM, TIME, TARGET = "item_id", "timestamp", "target_value"
COVARIATES = ["promotion", "is_holiday"]
ITEMS = 6


@pytest.fixture(scope="module")
def model(tmp_path_factory) -> Path:
    """A model that knows promotions and holidays but whose members read neither."""
    auto = AutoForecaster(
        horizon=7,
        models=["Naive", "SeasonalNaive"],
        known_covariates=COVARIATES,
        target_col=TARGET,
        backtest_windows=1,
    )
    return auto.fit(history()).save(tmp_path_factory.mktemp("model") / "model")


def history() -> pd.DataFrame:
    frame = generate(n_items=ITEMS, seed=4)
    frame = frame[frame[TIME] > frame[TIME].max() - pd.Timedelta(days=100)]
    return frame[[ITEM, TIME, TARGET, *COVARIATES]].reset_index(drop=True)


@pytest.fixture(scope="module")
def inputs(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("inputs")
    history().to_parquet(folder / "in.parquet", index=False)
    future_covariates(n_items=ITEMS, seed=4, horizon=7).to_csv(folder / "future.csv", index=False)
    return folder


def test_items_the_future_file_leaves_out_fail_whichever_chunk_they_land_in(model, inputs, tmp_path):
    """A chunk none of whose items had a row in the future file was forecast as if no file
    were given: its items came out forecast (this model's members read no covariate) while
    the same items beside a listed one failed for lack of their rows."""
    future = pd.read_csv(inputs / "future.csv")
    kept = sorted(future[ITEM].unique())[0]
    future[future[ITEM] == kept].to_csv(tmp_path / "one_item.csv", index=False)
    result = run_batch(
        model,
        inputs / "in.parquet",
        tmp_path / "out",
        future=tmp_path / "one_item.csv",
        chunk_rows=100,
        workers=1,
    )
    m = result.manifest
    items = history()[ITEM].unique()
    chunks = chunk_of(items, m["chunks"])
    assert set(chunks) - set(chunks[items == kept]), "every item shares the listed one's chunk"
    assert (m["items_in"], m["items_forecast"], m["items_failed"]) == (ITEMS, 1, ITEMS - 1)
    for failure in m["failures"]:
        assert "future values of the known covariates" in failure["reason"], failure
    frame = history()
    expected = AutoForecaster.load(model).predict(frame[frame[ITEM] == kept], future[future[ITEM] == kept])
    got = pd.read_parquet(tmp_path / "out" / "forecasts")
    pd.testing.assert_frame_equal(got[expected.columns], expected)


def test_a_future_file_without_a_known_covariate_is_refused_whole(model, inputs, tmp_path):
    """It used to be read through, every item failing alike, before anyone was told."""
    future = pd.read_csv(inputs / "future.csv").drop(columns="is_holiday")
    future.to_csv(tmp_path / "future.csv", index=False)
    with pytest.raises(DataError, match=r"the future covariates table has no column\(s\) \['is_holiday'\]"):
        run_batch(model, inputs / "in.parquet", tmp_path / "out", future=tmp_path / "future.csv", workers=1)
    assert not (tmp_path / "out" / "_chunks").exists()


def test_the_folder_of_a_batch_refused_at_staging_is_taken_by_the_corrected_run(model, inputs, tmp_path):
    """The refused run had claimed the folder: the rerun with the file corrected was told the
    folder held another batch's output, and needed --overwrite."""
    history().drop(columns=TARGET).to_csv(tmp_path / "in.csv", index=False)
    with pytest.raises(DataError, match="has no column"):
        run_batch(model, tmp_path / "in.csv", tmp_path / "out", future=inputs / "future.csv", workers=1)
    history().to_csv(tmp_path / "in.csv", index=False)
    result = run_batch(model, tmp_path / "in.csv", tmp_path / "out", future=inputs / "future.csv", workers=1)
    assert result.manifest["items_forecast"] == ITEMS
    # A folder with finished chunks stays another batch's, and so does one still staging.
    with pytest.raises(ConfigError, match="another batch"):
        run_batch(model, inputs / "in.parquet", tmp_path / "out", future=inputs / "future.csv", workers=1)
    (tmp_path / "staging").mkdir()
    (tmp_path / "staging" / "batch.json").write_text('{"type": "tidecast.BatchForecast"}')
    with pytest.raises(ConfigError, match="another batch"):
        run_batch(model, inputs / "in.parquet", tmp_path / "staging", future=inputs / "future.csv", workers=1)


def test_an_output_that_is_a_file_or_lies_under_one_is_one_error(model, inputs, tmp_path):
    """Both were a NotADirectoryError traceback."""
    (tmp_path / "taken.csv").write_text("x\n")
    for output, message in [
        ("taken.csv", "is a file"),
        ("taken.csv/out", "cannot write the batch output folder"),
    ]:
        with pytest.raises(ConfigError, match=message):
            run_batch(
                model, inputs / "in.parquet", tmp_path / output, future=inputs / "future.csv", workers=1
            )


def test_overwrite_replaces_a_batchs_output_never_a_folder_of_other_files(model, inputs, tmp_path):
    """--overwrite deleted whatever the folder held: a typo in --output cost its files."""
    (tmp_path / "plans").mkdir()
    (tmp_path / "plans" / "plan.xlsx").write_text("the quarter's plan")
    with pytest.raises(ConfigError, match="is not a batch output folder"):
        run_batch(
            model,
            inputs / "in.parquet",
            tmp_path / "plans",
            future=inputs / "future.csv",
            overwrite=True,
            workers=1,
        )
    assert (tmp_path / "plans" / "plan.xlsx").read_text() == "the quarter's plan"
