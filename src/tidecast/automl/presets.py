"""Presets: typed bundles of candidates and backtest settings, from quick to thorough."""

from __future__ import annotations

from dataclasses import dataclass

from tidecast.errors import ConfigError


@dataclass(frozen=True)
class Preset:
    """Which candidates run and how many backtest windows judge them."""

    name: str
    models: tuple[str, ...]
    backtest_windows: int
    ensemble_size: int = 20
    description: str = ""


STATISTICAL = (
    "SeasonalNaive",
    "Naive",
    "NPTS",
    "CrostonSBA",
    "TSB",
    "AutoTheta",
    "AutoETS",
    "MSTL",
    "MSTLETS",
)

PRESETS: dict[str, Preset] = {
    "fast": Preset(
        name="fast",
        models=("Naive", "SeasonalNaive", "AutoTheta", "CrostonSBA"),
        backtest_windows=1,
        description="seconds: baselines and the quickest statistical models",
    ),
    "medium": Preset(
        name="medium",
        models=(*STATISTICAL, "DynamicRegression", "LightGBM"),
        backtest_windows=3,
        description=(
            "default: every statistical family but the costly ARIMA search, the dynamic regression "
            "and the global LightGBM (both use covariates, holidays and item attributes)"
        ),
    ),
    "best": Preset(
        name="best",
        models=(
            *STATISTICAL,
            "Average",
            "AutoARIMA",
            "DynamicRegression",
            "LightGBM",
            "Prophet",
            "DeepAR",
            "CNNQR",
        ),
        backtest_windows=5,
        description="everything, neural nets and Prophet included, more backtest windows",
    ),
}


def get_preset(name: str) -> Preset:
    try:
        return PRESETS[name]
    except KeyError:
        raise ConfigError(f"unknown preset {name!r}; choose one of {', '.join(PRESETS)}") from None
