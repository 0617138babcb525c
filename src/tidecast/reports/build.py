"""Build the model quality and business reports of a run from its `ReportInputs`.

This module only assembles: the numbers come from `quality`, `business` and `inventory`, the
charts are the same numbers drawn. `build_reports(inputs, "all", options)` is what the command
line and the API call.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from tidecast.automl.mean_estimate import implied_weights
from tidecast.automl.options import OPTIONS
from tidecast.data.schema import ITEM_ID, MEAN, TARGET, TIMESTAMP, quantile_column
from tidecast.errors import ConfigError
from tidecast.reports import business, inventory, quality
from tidecast.reports.document import BandChart, BarChart, Chart, Report, Section
from tidecast.reports.explanations import explanation_section
from tidecast.reports.inputs import ReportInputs, load_inputs, selected_backtests
from tidecast.wording import counted

KINDS = ("quality", "business", "all")
PLOT_HISTORY_HORIZONS = 4  # history shown before a forecast, in horizons


@dataclass(frozen=True)
class ReportOptions:
    """What the user may set; the defaults are where a planner would start."""

    service_level: float = 0.95
    lead_time: int | None = None  # forecast steps; None = the whole horizon
    top: int = 10
    items: tuple[str, ...] = ()  # items to plot; default the worst and the biggest
    volatility: float = 0.5
    change: float = 0.25
    wape_limit: float = 0.5


def build_reports(
    inputs: ReportInputs, kind: str = "all", options: ReportOptions | None = None
) -> list[Report]:
    """The reports of `kind` ("quality", "business" or "all") for one run."""
    if kind not in KINDS:
        raise ConfigError(f"unknown report kind {kind!r}: choose one of {', '.join(KINDS)}")
    options = options or ReportOptions()
    out = []
    if kind in ("quality", "all"):
        out.append(quality_report(inputs, options))
    if kind in ("business", "all"):
        out.append(business_report(inputs, options))
    return out


def _errors(inputs: ReportInputs) -> pd.DataFrame | None:
    rows = selected_backtests(inputs)
    if rows is None:
        return None
    return quality.item_errors(rows, inputs.history, inputs.quantiles, inputs.season_length)


def quality_report(inputs: ReportInputs, options: ReportOptions) -> Report:
    """Leaderboard, per-window and per-item errors, worst items, calibration, forecast plots."""
    report = Report("quality", inputs.name, notes=list(inputs.notes["quality"]))
    report.summary = {
        "selected_model": inputs.selected,
        "metric": inputs.report.get("metric", ""),
        "horizon": inputs.horizon,
        "quantiles": list(inputs.quantiles),
    }
    report.sections.append(
        Section(
            "Leaderboard",
            "Every candidate's backtest score, best first.",
            {"leaderboard": inputs.leaderboard},
        )
    )
    rows = selected_backtests(inputs)
    worst = pd.DataFrame(columns=[ITEM_ID])
    if rows is not None:
        windows = quality.window_errors(rows, inputs.history, inputs.quantiles, inputs.season_length)
        errors = quality.item_errors(rows, inputs.history, inputs.quantiles, inputs.season_length)
        worst = quality.worst_items(errors, options.top)
        model = rows["model"].iloc[0]
        report.sections.append(
            Section(
                "Errors per backtest window",
                f"{model} on each window (1 = oldest); wQL, WAPE, MAPE and bias as fractions.",
                {"window_errors": windows},
                [
                    BarChart(
                        "wQL per window",
                        [f"w{w}" for w in windows["window"]],
                        {"wql": _floats(windows["wql"])},
                    )
                ],
            )
        )
        report.sections.append(
            Section(
                "Errors per item",
                f"{model} over all windows; the worst {len(worst)} by WAPE first.",
                {"worst_items": worst, "item_errors": errors},
                [
                    BarChart(
                        "WAPE of the worst items",
                        _strs(worst[ITEM_ID]),
                        {"wape": _floats(worst["wape"])},
                        True,
                    )
                ],
            )
        )
        if len(inputs.quantiles) >= 1:
            y, qpred = quality.calibration_arrays(rows, inputs.quantiles)
            levels = sorted(inputs.quantiles)
            pit = quality.pit_histogram(y, qpred, levels)
            cover = quality.coverage_by_level(y, qpred, levels)
            report.sections.append(
                Section(
                    "Quantile calibration",
                    "Share of backtest actuals between consecutive forecast quantiles (PIT on the "
                    "quantile grid) against the share a calibrated forecast would put there; and "
                    "the share at or below each quantile, and inside each central interval."
                    + _calibration_text(inputs),
                    {"pit_histogram": pit, "coverage_by_level": cover},
                    [
                        BarChart(
                            "PIT histogram",
                            _strs(pit["bin"]),
                            {"observed": _floats(pit["observed"]), "expected": _floats(pit["expected"])},
                            True,
                        ),
                        BarChart(
                            "Coverage per level",
                            _strs(cover["level"]),
                            {"observed": _floats(cover["observed"]), "nominal": _floats(cover["nominal"])},
                            True,
                        ),
                    ],
                )
            )
    chosen = list(options.items) or _default_plot_items(inputs, worst, options)
    plots: list[Chart] = [c for c in (_band_chart(inputs, item) for item in chosen) if c is not None]
    missing = sorted(set(chosen) - {c.title for c in plots})
    if missing and inputs.forecasts is not None:
        report.notes.append(f"no forecast to plot for {', '.join(missing)}")
    if plots:
        report.sections.append(
            Section("Forecasts of chosen items", "Recent history, forecast and band.", {}, plots)
        )
    explained = explanation_section(inputs.explanations, inputs.explanation_importance)
    if explained is not None:
        report.sections.append(explained)
    return report


def business_report(inputs: ReportInputs, options: ReportOptions) -> Report:
    """Totals by attribute, high and low demand, volatile items, spikes and drops, accuracy
    warnings and inventory guidance at `options.service_level`."""
    report = Report("business", inputs.name, notes=list(inputs.notes["business"]))
    forecasts = inputs.forecasts
    if forecasts is None or not len(inputs.quantiles):
        if not report.notes:
            report.notes.append("no forecast with quantiles: the business report is empty")
        return report
    lead_time = min(options.lead_time or inputs.horizon, inputs.horizon)
    totals = business.forecast_totals(forecasts, inputs.quantiles)
    report.summary = {
        "items": len(totals),
        "horizon": inputs.horizon,
        "start": str(forecasts[TIMESTAMP].min().date()),
        "end": str(forecasts[TIMESTAMP].max().date()),
        "forecast_total": float(totals["forecast_total"].sum()),
        "service_level": options.service_level,
        "lead_time": lead_time,
    }
    attributes = business.item_attributes(inputs.history, inputs.static_columns)
    attributes = business.with_key_parts(attributes, totals[ITEM_ID], inputs.item_col)
    by_attribute = Section("Forecast totals by attribute", "Sum of the mean forecast over the horizon.")
    for column in [c for c in attributes.columns if c != ITEM_ID]:
        table = business.totals_by(totals, attributes, column)
        by_attribute.tables[f"totals_by_{column}"] = table
        by_attribute.charts.append(
            BarChart(
                f"Forecast total by {column}",
                _strs(table[column]),
                {"total": _floats(table["forecast_total"])},
            )
        )
    by_attribute.tables["item_totals"] = totals.merge(attributes, on=ITEM_ID, how="left")
    report.sections.append(by_attribute)

    high, low = business.demand_extremes(totals, options.top)
    report.sections.append(
        Section(
            "High and low demand items",
            f"The {counted(options.top, 'item')} with the highest and lowest forecast total.",
            {"high_demand": high, "low_demand": low},
            [
                BarChart(
                    "Highest forecast totals",
                    _strs(high[ITEM_ID]),
                    {"total": _floats(high["forecast_total"])},
                )
            ],
        )
    )
    lo, hi = business.outer_columns(inputs.quantiles)
    report.sections.append(
        Section(
            "Volatile items",
            f"Items whose {lo}–{hi} range over the horizon is at least {options.volatility:.0%} of their median.",
            {"volatile_items": business.volatile_items(forecasts, inputs.quantiles, options.volatility)},
        )
    )
    if inputs.history is not None:
        report.sections.append(
            Section(
                "Expected spikes and drops",
                f"Average forecast against the last {counted(inputs.horizon, 'step')} of history; "
                f"changes of {options.change:.0%} or more.",
                {
                    "spikes_and_drops": business.spikes_and_drops(
                        forecasts, inputs.history, inputs.horizon, options.change
                    )
                },
            )
        )
    report.sections.append(
        Section("Accuracy warnings", "", {"accuracy_warnings": _warnings(inputs, options)})
    )
    if len(inputs.quantiles) < 2:
        report.notes.append(
            "inventory guidance needs two forecast quantiles to read a spread; the run has one"
        )
        return report
    report.sections.append(
        Section(
            "Inventory guidance",
            f"Safety stock and order-up-to level for a {options.service_level:.0%} service level over "
            f"{counted(lead_time, 'step')}: normal approximation with each step's spread read from its "
            f"{lo}–{hi} range, steps independent (see tidecast.reports.inventory).",
            {
                "inventory": inventory.inventory_guidance(
                    forecasts, inputs.quantiles, options.service_level, lead_time
                )
            },
        )
    )
    return report


def _warnings(inputs: ReportInputs, options: ReportOptions) -> pd.DataFrame:
    rows = selected_backtests(inputs)
    errors = _errors(inputs)
    overall = nominal = None
    if rows is not None and len(inputs.quantiles) >= 2:
        y, qpred = quality.calibration_arrays(rows, inputs.quantiles)
        cover = quality.coverage_by_level(y, qpred, sorted(inputs.quantiles))
        outer = cover[cover["level"].str.contains("–")]
        if len(outer):
            overall, nominal = float(outer["observed"].iloc[0]), float(outer["nominal"].iloc[0])
    return business.accuracy_warnings(errors, overall, nominal, options.wape_limit)


# The implied mean of the default levels, as `mean_estimate` weighs them: "0.3 p10 + 0.4 p50 + 0.3 p90".
DEFAULT_LEVELS = next(o.default for o in OPTIONS if o.name == "quantiles")
_DEFAULT_MEAN_RULE = " + ".join(
    f"{w:g} {quantile_column(q)}"
    for q, w in zip(DEFAULT_LEVELS, implied_weights(DEFAULT_LEVELS), strict=True)
)


def _calibration_text(inputs: ReportInputs) -> str:
    """The run's calibration (level and bands), which the backtest rows predate and the
    forecast applies."""
    calibration = inputs.report.get("quantile_calibration") or {}
    factors = calibration.get("factors") or {}
    level = float(calibration.get("level") or 1.0)
    steps = []
    if level != 1.0:
        steps.append(f"multiplies the whole forecast by {level:g} (a bias every backtest window showed)")
    if factors and any(f != 1 for f in factors.values()):
        listed = ", ".join(f"{name} ×{factor:g}" for name, factor in factors.items())
        steps.append(f"scales each quantile's distance from the median by: {listed}")
    if calibration.get("mean_from_quantiles"):
        rmse = calibration.get("mean_backtest_rmse") or {}
        steps.append(
            f"takes its mean column from the calibrated quantiles ({_DEFAULT_MEAN_RULE} for the "
            f"default levels; backtest RMSE {rmse.get('quantiles', float('nan')):.4g} against the models' "
            f"own mean's {rmse.get('models', float('nan')):.4g})"
        )
    if not steps:
        return ""
    return f" These are the backtest forecasts before the run's calibration; the forecast {', then '.join(steps)}."


def _default_plot_items(inputs: ReportInputs, worst: pd.DataFrame, options: ReportOptions) -> list[str]:
    """Two of the worst items and two of the biggest: where the model struggles and where it matters."""
    picked = list(worst[ITEM_ID].head(2))
    if inputs.forecasts is not None:
        sizes = inputs.forecasts.groupby(ITEM_ID)[MEAN].sum().sort_values(ascending=False, kind="stable")
        picked += [i for i in sizes.index[:4] if i not in picked]
    return [str(i) for i in picked[:4]]


def _band_chart(inputs: ReportInputs, item: str) -> BandChart | None:
    forecasts = inputs.forecasts
    if forecasts is None or not len(inputs.quantiles):
        return None
    rows = forecasts[forecasts[ITEM_ID] == item].sort_values(TIMESTAMP)
    if rows.empty:
        return None
    lo, hi = business.outer_columns(inputs.quantiles)
    history = inputs.history
    past = pd.DataFrame(columns=[TIMESTAMP, TARGET])
    if history is not None:
        past = (
            history[history[ITEM_ID] == item]
            .sort_values(TIMESTAMP)
            .tail(PLOT_HISTORY_HORIZONS * inputs.horizon)
        )
    return BandChart(
        item,
        _dates(past[TIMESTAMP]),
        _floats(past[TARGET]),
        _dates(rows[TIMESTAMP]),
        _floats(rows[MEAN]),
        _floats(rows[lo]),
        _floats(rows[hi]),
        f"{lo}–{hi}",
    )


def _floats(values: Any) -> list[float]:
    return [float(v) for v in np.asarray(values, dtype=np.float64)]


def _strs(values: Any) -> list[str]:
    return [str(v) for v in values]


def _dates(values: Any) -> list[str]:
    return [pd.Timestamp(v).isoformat() for v in values]


def reports_for_folder(
    folder: str | Path, name: str | None = None, kind: str = "all", options: ReportOptions | None = None
) -> list[Report]:
    """The reports of a run folder or model folder: what `tidecast report` and the API call."""
    return build_reports(load_inputs(folder, name), kind, options)
