"""Several horizons in one job: daily 14, weekly 13, monthly 12 from one dataset.

`MultiHorizonForecaster` fits one AutoForecaster per frequency on the same data, summed to
that frequency by the engine's own aggregation (the target summed, other columns by the
user's `aggregation`), so each frequency picks its own models on its own backtests. The
frequencies are taken finest first, whatever order they were given in (a note says so when
that reorders them): the finest keeps the known covariates and the future file, coarser ones
are fitted on the target (a daily future file does not say what a week's promotion share will
be). `W-SUN:4,D:14` had given the covariates and the daily future file to the weeks. When the
finest asked is coarser than the data's own frequency (weeks of daily data), it still keeps the
covariates, aggregated to it, and a note (or the error of a future too short for it) says so.

A trailing period the data does not cover to its last day (a week that ended on Wednesday)
is left out of that frequency's history by the engine's aggregation (`data.aggregation`), not
summed as if it were a whole week; the first forecast step is then that whole period.

Saved as one folder: `horizons.json` and one AutoForecaster model folder per frequency, so
one model version holds them. Not reconciled across time (a daily 14-day horizon covers no
whole month): each frequency's forecast is its own model's.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pandas as pd

from tidecast.data.grid import nominal_ns
from tidecast.errors import ConfigError, DataError
from tidecast.wording import counted

FREQUENCY = "frequency"  # the forecast column naming each row's frequency
INDEX = "horizons.json"
_PERIOD = {"MS": "M", "QS": "Q", "QS-JAN": "Q", "YS": "Y", "AS": "Y"}  # start-anchored -> period alias


def parse_horizons(value: str | dict[str, int]) -> dict[str, int]:
    """{"D": 14, "W-SUN": 13, "MS": 12} from ``D:14,W-SUN:13,MS:12`` (or the dict itself)."""
    pairs: list[tuple[str, int]] = []
    if isinstance(value, dict):
        pairs = [(str(f), int(n)) for f, n in value.items()]
    else:
        for part in (p.strip() for p in str(value).split(",") if p.strip()):
            name, _, count = part.partition(":")
            if not count.strip().isdigit():
                raise ConfigError(f"horizon {part!r}: write FREQUENCY:STEPS, e.g. W-SUN:13")
            pairs.append((name.strip(), int(count)))
    if not pairs:
        raise ConfigError("give at least one FREQUENCY:STEPS, e.g. D:14,W-SUN:13,MS:12")
    out: dict[str, int] = {}
    for freq, steps in pairs:
        try:
            pd.tseries.frequencies.to_offset(freq)
        except ValueError:
            raise ConfigError(f"unknown frequency {freq!r} (a pandas alias such as D, W-SUN, MS)") from None
        if steps < 1 or freq in out:
            raise ConfigError(f"horizon {freq}:{steps}: at least one step, each frequency once")
        out[freq] = steps
    return out


def finest_first(horizons: dict[str, int]) -> tuple[dict[str, int], list[str]]:
    """The horizons ordered by the nominal length of their step, finest first (a stable sort:
    two weekly frequencies keep their order), and the note saying so when that reorders them."""
    ordered = {freq: horizons[freq] for freq in sorted(horizons, key=nominal_ns)}
    if list(ordered) == list(horizons):
        return ordered, []
    steps = ",".join(f"{freq}:{n}" for freq, n in ordered.items())
    first = next(iter(ordered))
    note = f"horizons taken finest first ({steps}): {first}, the finest, keeps the known covariates"
    return ordered, [f"{note} and the future file"]


def coarser_than_data(source: str | None, finest: str, steps: int) -> str | None:
    """The note for covariates kept by a finest frequency coarser than the data's own
    (`source`), or None when it is the data's own (or the data's cannot be told)."""
    if source is None or nominal_ns(finest) <= 1.001 * nominal_ns(source):
        return None
    return (
        f"the data is at frequency {source} and the finest frequency asked is {finest}: {finest} "
        f"keeps the known covariates, aggregated to it, so their future must cover its "
        f"{counted(steps, 'step')}; ask for {source}:STEPS too to keep them at the data's own frequency"
    )


def _data_frequency(frame: pd.DataFrame, item: str, options: dict[str, Any]) -> str | None:
    """The data's own frequency, or None where it cannot be told (the fit will say why)."""
    from tidecast.data.arrays import series_indptr
    from tidecast.data.frequency import infer_frequency
    from tidecast.data.ingest import to_canonical
    from tidecast.data.schema import ITEM_ID, TIMESTAMP

    try:
        panel, _ = to_canonical(
            frame,
            item,
            options.get("timestamp_col", "timestamp"),
            None,
            allow_duplicates=True,
            date_format=options.get("date_format"),
        )
        return infer_frequency(panel[TIMESTAMP].to_numpy(), series_indptr(panel[ITEM_ID].to_numpy()))
    except DataError:
        return None


class MultiHorizonForecaster:
    """One AutoForecaster per frequency of `horizons`, fitted finest first; every other keyword
    is an AutoForecaster option. The finest frequency (best the data's own) keeps the
    covariates; `notes_` says when the order was changed or the finest is coarser than the data."""

    def __init__(self, horizons: str | dict[str, int], **options: Any) -> None:
        self.horizons = horizons
        self.options = options

    def fit(
        self, data: pd.DataFrame | str | Path, future: pd.DataFrame | str | Path | None = None
    ) -> MultiHorizonForecaster:
        from tidecast.automl.forecaster import AutoForecaster
        from tidecast.data.io import read_table
        from tidecast.data.item_keys import compose, item_column, text_columns

        horizons, self.notes_ = finest_first(parse_horizons(self.horizons))
        item = item_column(self.options.get("item_col", "item_id"))
        frame = data if isinstance(data, pd.DataFrame) else read_table(data, text_columns=text_columns(item))
        frame = compose(frame, item)
        target = self.options.get("target_col", "target")
        finest, finest_steps = next(iter(horizons.items()))
        covariates = self.options.get("known_covariates") or self.options.get("past_covariates")
        coarse = (
            coarser_than_data(_data_frequency(frame, item, self.options), finest, finest_steps)
            if covariates or future is not None
            else None
        )
        self.models_: dict[str, Any] = {}
        self.future_ = future
        for k, (freq, steps) in enumerate(horizons.items()):
            options = {**self.options, "horizon": steps, "frequency": freq}
            if k > 0:
                options.update(known_covariates=None, past_covariates=None)
                options["aggregation"] = {target: "sum", **(self.options.get("aggregation") or {})}
            try:
                self.models_[freq] = AutoForecaster(**options).fit(frame, future=future if k == 0 else None)
            except DataError as exc:
                if k > 0 or coarse is None:
                    raise
                raise DataError(f"{coarse}; {exc}") from exc
        self.notes_ += [coarse] if coarse else []
        return self

    def predict(self, future: pd.DataFrame | str | Path | None = None) -> pd.DataFrame:
        """Every frequency's forecast, one after another, with a `frequency` column first."""
        if not hasattr(self, "models_"):
            raise ConfigError("this MultiHorizonForecaster is not fitted yet: call fit() first")
        frames = []
        for k, (freq, auto) in enumerate(self.models_.items()):
            frame = auto.predict(future=future if k == 0 else None)
            frame.insert(0, FREQUENCY, freq)
            frames.append(frame)
        return pd.concat(frames, ignore_index=True)

    def leaderboards(self) -> dict[str, pd.DataFrame]:
        return {freq: auto.leaderboard() for freq, auto in self.models_.items()}

    def save(self, path: str | Path) -> Path:
        """One folder: `horizons.json` and a model folder per frequency."""
        folder = Path(path)
        folder.mkdir(parents=True, exist_ok=True)
        names = {}
        for k, (freq, auto) in enumerate(self.models_.items()):
            names[freq] = f"{k}_{freq.replace('-', '_')}"
            auto.save(folder / names[freq])
        (folder / INDEX).write_text(json.dumps({"horizons": names}, indent=2))
        return folder

    @classmethod
    def load(cls, path: str | Path) -> MultiHorizonForecaster:
        from tidecast.automl.forecaster import AutoForecaster

        folder = Path(path)
        names = json.loads((folder / INDEX).read_text())["horizons"]
        models = {freq: AutoForecaster.load(folder / name) for freq, name in names.items()}
        out = cls({freq: auto.horizon for freq, auto in models.items()})
        out.models_ = models
        return out
