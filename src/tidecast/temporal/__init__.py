"""Several horizons from one dataset: one AutoForecaster per frequency (`horizons`)."""

from tidecast.temporal.horizons import FREQUENCY, MultiHorizonForecaster, parse_horizons

__all__ = ["FREQUENCY", "MultiHorizonForecaster", "parse_horizons"]
