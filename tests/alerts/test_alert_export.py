"""Traffic windows and quantiles worked out by hand, and the Prometheus export: every series it
queries is one the service exports, and the CLI writes a rule file YAML reads."""

from __future__ import annotations

import math
import re
from datetime import UTC, datetime
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from tidecast.alerts.prometheus import BREACHED, SIGNAL, SignalCollector, prometheus_rules
from tidecast.alerts.rules import AlertConfig, Rule
from tidecast.alerts.signals import Sources, measure
from tidecast.alerts.traffic import TrafficHistory, quantile, sample_traffic
from tidecast.cli.main import app
from tidecast.service.metrics import ServiceMetrics

RULES = [
    {"name": "errors", "kind": "error_rate", "endpoint": "sales", "window": "1h", "threshold": 0.05},
    {"name": "slow", "kind": "p99_latency", "window": "90s", "threshold": 0.5},
    {"name": "accuracy", "kind": "accuracy", "window": "7d", "threshold": 1.5},
    {"name": "band", "kind": "coverage", "window": "7d", "band": [0.7, 0.9]},
    {"name": "nominal", "kind": "coverage", "window": "7d", "threshold": 0.1},
    {"name": "drift", "kind": "drift", "window": "7d", "threshold": 2, "statistic": "max"},
    {"name": "jobs", "kind": "job_failed", "window": "1d", "severity": "critical"},
]


def test_when_a_histogram_is_read_then_the_quantile_interpolates_like_prometheus() -> None:
    buckets = {0.1: 50.0, 0.5: 90.0, 1.0: 100.0, math.inf: 100.0}
    assert quantile(buckets, 0.5) == pytest.approx(0.1)
    assert quantile(buckets, 0.7) == pytest.approx(0.1 + 0.4 * 20 / 40)
    assert quantile(buckets, 0.99) == pytest.approx(0.5 + 0.5 * 9 / 10)
    assert quantile({0.1: 1.0, math.inf: 2.0}, 0.99) == 0.1  # in the +Inf bucket: the last bound
    assert quantile({0.1: 0.0, math.inf: 0.0}, 0.99) is None


def test_when_traffic_is_sampled_then_the_window_counts_only_what_came_after_its_start() -> None:
    metrics = ServiceMetrics()
    history = TrafficHistory()
    for _ in range(3):
        metrics.observe_invocation("sales", 200, 0.01)
    history.record(0.0, sample_traffic(metrics.registry), keep_seconds=60)
    metrics.observe_invocation("sales", 500, 2.0)
    metrics.observe_invocation("sales", 200, 0.01)
    history.record(100.0, sample_traffic(metrics.registry), keep_seconds=60)
    recent = history.window("sales", 60)
    assert (recent.requests, recent.errors) == (2, 1)
    everything = history.window("sales", 1000)  # older than the first sample: since the start
    assert (everything.requests, everything.errors) == (5, 1)
    assert history.window("elsewhere", 60).requests == 0


@pytest.mark.parametrize(
    ("options", "breached"),
    [
        ({"threshold": 0.1}, True),
        ({"threshold": 0.25}, False),
        ({"threshold": 0.1, "min_requests": 20}, None),
    ],
)
def test_when_a_fifth_of_invocations_fail_then_the_error_rate_rule_measures_it(
    options: dict, breached: bool | None
) -> None:
    metrics, history = ServiceMetrics(), TrafficHistory()
    for status in [200] * 8 + [500, 503]:
        metrics.observe_invocation("sales", status, 0.2)
    metrics.observe_invocation("sales", 404, 0.2)  # the caller's mistake, not the endpoint's
    history.record(0.0, sample_traffic(metrics.registry), keep_seconds=3600)
    rule = Rule.model_validate({"name": "errors", "kind": "error_rate", "window": "1h", **options})
    signal = measure(rule, "sales", Sources(monitor=None, traffic=history), datetime.now(UTC))  # type: ignore[arg-type]
    assert signal.breached is breached
    if breached is not None:
        assert signal.value == pytest.approx(2 / 11) and signal.details == {"requests": 11, "errors": 2}


def test_when_rules_are_exported_then_every_series_they_query_is_one_the_service_exports() -> None:
    metrics = ServiceMetrics(count_jobs=lambda: {"failed": 1})
    metrics.observe_invocation("sales", 200, 0.01)
    metrics.registry.register(SignalCollector(lambda: {("accuracy", "sales"): (3.0, True)}))
    exported = set(re.findall(r"^(\w+)[{ ]", metrics.render()[0].decode(), flags=re.M))
    rules = prometheus_rules([Rule.model_validate(r) for r in RULES])["groups"][0]["rules"]
    queried = {name for r in rules for name in re.findall(r"\b(tidecast_\w+)", r["expr"])}
    assert queried <= exported, queried - exported
    assert {SIGNAL, BREACHED} <= queried
    by_name = {r["alert"]: r for r in rules}
    assert by_name["slow"]["expr"].endswith("[90s]))) > 0.5")
    assert by_name["jobs"]["labels"] == {"severity": "critical", "kind": "job_failed"}
    assert by_name["band"]["expr"] == f'{SIGNAL}{{rule="band"}} < 0.7 or {SIGNAL}{{rule="band"}} > 0.9'


def test_when_the_cli_exports_then_the_file_is_a_prometheus_rule_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    rules_file = tmp_path / "alerts.toml"
    rules_file.write_text(
        "\n".join("[[rules]]\n" + "\n".join(f"{k} = {_toml(v)}" for k, v in r.items()) for r in RULES)
    )
    AlertConfig.model_validate({"rules": RULES})  # the same rules, as the file holds them
    monkeypatch.setenv("TIDECAST_HOME", str(tmp_path / "home"))  # no database: the file's rules only
    out = tmp_path / "tidecast.rules.yml"
    result = CliRunner().invoke(
        app, ["alerts", "rules-export", "--format", "prometheus", "--rules", str(rules_file), "-o", str(out)]
    )
    assert result.exit_code == 0, result.output
    (group,) = yaml.safe_load(out.read_text())["groups"]
    assert group["name"] == "tidecast" and [r["alert"] for r in group["rules"]] == [r["name"] for r in RULES]
    assert all(set(r) == {"alert", "expr", "labels", "annotations"} for r in group["rules"])
    bad = CliRunner().invoke(app, ["alerts", "rules-export", "--rules", str(tmp_path / "none.toml")])
    assert bad.exit_code == 2 and "does not exist" in bad.output


def _toml(value: object) -> str:
    if isinstance(value, str):
        return f'"{value}"'
    return str(value).lower() if isinstance(value, bool) else str(value)
