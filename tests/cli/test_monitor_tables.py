"""`tidecast monitor`'s tables in a narrow terminal: every header and score in full."""

from typing import Any

import pytest

from tidecast.cli import monitor as monitor_cli

METRICS = {"wql": 0.0412346, "wape": 0.0523456, "mape": 123.4567, "mase": 0.812346}
METRICS |= {"bias": -0.0123456, "coverage": 0.833333}
# Version id 12 is what the registry calls demo-sql v1 (the report carries both).
V12 = {"model_version_id": 12, "model_group": "demo-sql", "model_version": 1}
REPORT: dict[str, Any] = {
    "forecasts": 120,
    "points": 2400,
    "versions": [
        {**V12, "points": 2400, **METRICS}
        | {"backtest": {"metric": "wql", "score": 0.0398765}, "realised_over_backtest": 1.03406}
    ],
    "over_time": [
        {**V12, "period": f"2024-01-{d:02d}T00:00:00", "points": 120, **METRICS} for d in (1, 8, 15)
    ],
    "by_step": [{**V12, "step": s, "points": 100, **METRICS} for s in (1, 2, 3)],
    "worst_items": [{**V12, "item_id": "17|42", "points": 10, **METRICS}],
    "drift": {
        **V12,
        "items_compared": 1,
        "items": [
            {"item_id": "17|42", "points": 7, "score": 1.23456}
            | {"level_shift": -1.23456, "volatility_ratio": 1.23457, "covariate_shift": 0.123457}
        ],
    },
}


def printed(monkeypatch: pytest.MonkeyPatch, width: int) -> str:
    monkeypatch.setattr(monitor_cli, "_with_monitor", lambda action: REPORT)
    monkeypatch.setattr(monitor_cli.out, "width", width)
    with monitor_cli.out.capture() as captured:
        monitor_cli.monitor("shop", period="W", items=10, as_json=False)
    return captured.get()


def test_when_the_terminal_has_80_columns_then_every_table_fits_with_its_scores_in_full(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    text = printed(monkeypatch, 80)
    assert "…" not in text
    assert max(len(line) for line in text.splitlines()) <= 80
    assert "wql 0.03988" in text and "1.034" in text  # the version's backtest and ratio, always
    assert text.count("0.04123") >= 4 and "2024-01-08" in text and "-1.235" in text
    assert "version" in text and "points" in text and "vs backtest" in text
    assert "with --json" in text  # the title says where the columns left out are


def test_when_the_terminal_is_wide_then_no_column_is_left_out(monkeypatch: pytest.MonkeyPatch) -> None:
    text = printed(monkeypatch, 200)
    assert "--json" not in text and "…" not in text
    assert text.count("coverage") == 4 and "covariate_shift" in text


def test_when_an_item_was_served_by_two_versions_then_each_worst_item_row_names_its_version(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """After a rollback the same item is scored once per version; the rows said only the item."""
    rows = [
        {"model_version_id": i, "model_group": "demo-sql", "model_version": v}
        | {"item_id": "17|42", "points": 10, **METRICS, "wape": w}
        for i, v, w in ((12, 1, 0.9), (13, 2, 0.5))
    ]
    monkeypatch.setitem(REPORT, "worst_items", rows)
    table = printed(monkeypatch, 120).split("worst items")[1].split("drift")[0]
    assert [line.split()[:3] for line in table.splitlines() if "17|42" in line] == [
        ["demo-sql", "v1", "17|42"],
        ["demo-sql", "v2", "17|42"],
    ]


def test_when_item_ids_share_a_long_prefix_then_the_tables_name_each_item_in_full(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    ids = ["electronics_headphones_Central", "electronics_headphones_East"]
    worst = [{**V12, "item_id": item, "points": 7, **METRICS} for item in ids]
    drift_items = [{"item_id": item, "points": 7, "score": 2.5, "level_shift": 2.5} for item in ids]
    report = REPORT | {"worst_items": worst, "drift": REPORT["drift"] | {"items": drift_items}}
    monkeypatch.setattr(monitor_cli, "_with_monitor", lambda action: report)
    monkeypatch.setattr(monitor_cli.out, "width", 80)
    with monitor_cli.out.capture() as captured:
        monitor_cli.monitor("shop", period="W", items=10, as_json=False)
    text = captured.get()
    assert all(text.count(item) == 2 for item in ids)  # worst items and drift
    assert "…" not in text and max(len(line) for line in text.splitlines()) <= 80
