"""`save` replaces a model folder, never anything else: an existing file, or a folder holding
files that are not a model's (a project folder with the user's data), is refused and left as
it was. Before, `save("project/")` moved the folder aside and deleted it, data and all."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from tidecast.automl.forecaster import AutoForecaster
from tidecast.errors import ModelError


@pytest.fixture(scope="module")
def fitted() -> AutoForecaster:
    days = pd.date_range("2024-01-01", periods=30, freq="D")
    frame = pd.DataFrame({"item_id": "a", "timestamp": days, "target": 10.0 + np.arange(30) % 7})
    return AutoForecaster(horizon=3, models=["Naive"], backtest_windows=1).fit(frame)


def test_when_saving_onto_a_folder_of_other_files_then_it_is_refused_and_kept(
    fitted: AutoForecaster, tmp_path: Path
) -> None:
    (tmp_path / "sales.csv").write_text("a,b\n1,2\n")
    with pytest.raises(ModelError, match=r"holds files that are not a tidecast model \(sales.csv\)"):
        fitted.save(tmp_path)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["sales.csv"]
    assert (tmp_path / "sales.csv").read_text() == "a,b\n1,2\n"


def test_when_saving_onto_a_file_then_it_is_refused_and_kept(fitted: AutoForecaster, tmp_path: Path) -> None:
    notes = tmp_path / "notes.txt"
    notes.write_text("mine")
    with pytest.raises(ModelError, match="is a file, not a model folder"):
        fitted.save(notes)
    assert notes.read_text() == "mine"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["notes.txt"]


def test_when_saving_onto_an_empty_folder_or_a_model_then_it_is_written(
    fitted: AutoForecaster, tmp_path: Path
) -> None:
    empty = tmp_path / "model"
    empty.mkdir()
    fitted.save(empty)
    fitted.save(empty)  # a model folder is replaced
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model"]
    loaded = AutoForecaster.load(empty)
    pd.testing.assert_frame_equal(loaded.predict(), fitted.predict())
