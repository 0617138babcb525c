"""The alert rules as Prometheus alerting rules, for those who run Prometheus and Alertmanager.

Traffic and job rules query the series the service exports anyway (`tidecast.alerts.traffic`
names them). Accuracy, coverage and drift are measured inside the service, so it exports the
last value each rule measured as ``tidecast_alert_signal{rule, subject}`` (`SignalCollector`)
and their Prometheus rules compare that series with the threshold; it is bounded by rules times
endpoints.

The file is written as YAML by hand (every string a JSON-quoted scalar, which YAML reads as
is), so no YAML library is needed to export it.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator, Mapping
from typing import Any

from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from tidecast.alerts.incidents import threshold_text
from tidecast.alerts.rules import Rule, RuleKind
from tidecast.alerts.traffic import INVOCATIONS, JOBS, LATENCY

SIGNAL = "tidecast_alert_signal"
BREACHED = "tidecast_alert_breached"


class SignalCollector(Collector):
    """``tidecast_alert_signal{rule, subject}``, what each rule last measured, and
    ``tidecast_alert_breached{rule, subject}``, 1 while that value breaches the rule."""

    def __init__(self, values: Callable[[], Mapping[tuple[str, str], tuple[float, bool]]]) -> None:
        self._values = values

    def collect(self) -> Iterator[GaugeMetricFamily]:
        labels = ["rule", "subject"]
        signal = GaugeMetricFamily(SIGNAL, "The value each alert rule last measured.", labels=labels)
        breached = GaugeMetricFamily(
            BREACHED, "1 while an alert rule's last value breaches it.", labels=labels
        )
        for key, (value, over) in sorted(self._values().items()):
            signal.add_metric(list(key), value)
            breached.add_metric(list(key), float(over))
        yield signal
        yield breached

    def describe(self) -> Iterator[GaugeMetricFamily]:
        return iter(())


def _duration(rule: Rule) -> str:
    """The window in Prometheus's syntax: the rule's own (15m, 7d) when whole, else seconds."""
    window = rule.window.strip()
    return window if re.fullmatch(r"\d+[smhdw]", window) else f"{max(1, round(rule.span.total_seconds()))}s"


def _selector(rule: Rule, **labels: str) -> str:
    if rule.endpoint is not None:
        labels = {"endpoint": rule.endpoint, **labels}
    if not labels:
        return ""
    inner = ",".join(
        f"{key}{'=~' if key == 'status' else '='}{json.dumps(value)}" for key, value in labels.items()
    )
    return "{" + inner + "}"


def expression(rule: Rule) -> str:
    """The PromQL that is true while the rule is breached."""
    window, threshold = _duration(rule), f"{rule.threshold or 0:g}"
    if rule.kind == RuleKind.ERROR_RATE:
        errors = f"sum by (endpoint) (increase({INVOCATIONS}_total{_selector(rule, status='5..')}[{window}]))"
        total = f"sum by (endpoint) (increase({INVOCATIONS}_total{_selector(rule)}[{window}]))"
        return f"({errors} / {total}) > {threshold}"
    if rule.kind == RuleKind.P99_LATENCY:
        rate = f"sum by (endpoint, le) (rate({LATENCY}_bucket{_selector(rule)}[{window}]))"
        return f"histogram_quantile(0.99, {rate}) > {threshold}"
    if rule.kind == RuleKind.JOB_FAILED:
        return f'delta({JOBS}{{state="failed"}}[{window}]) > {threshold}'
    named = "{rule=" + json.dumps(rule.name) + "}"
    if rule.kind == RuleKind.COVERAGE:
        if rule.band is None:  # the band follows the logged quantile levels: the service knows it
            return f"{BREACHED}{named} == 1"
        return f"{SIGNAL}{named} < {rule.band[0]:g} or {SIGNAL}{named} > {rule.band[1]:g}"
    return f"{SIGNAL}{named} > {threshold}"


def prometheus_rules(rules: list[Rule], group: str = "tidecast") -> dict[str, Any]:
    """A Prometheus rule file's content: one group, one alerting rule per rule."""
    exported = []
    for rule in rules:
        subject = "" if rule.kind == RuleKind.JOB_FAILED else f" on {rule.endpoint or 'any endpoint'}"
        summary = f"{rule.kind.value}{subject} {threshold_text(rule)} over {rule.window}"
        exported.append(
            {
                "alert": rule.name,
                "expr": expression(rule),
                "labels": {"severity": rule.severity.value, "kind": rule.kind.value},
                "annotations": {"summary": rule.description or summary},
            }
        )
    return {"groups": [{"name": group, "rules": exported}]}


def to_yaml(value: Any, indent: int = 0) -> str:
    """Dicts, lists and scalars as block YAML; strings JSON-quoted (valid YAML scalars)."""
    pad = " " * indent
    if isinstance(value, dict):
        lines = []
        for key, item in value.items():
            if isinstance(item, dict | list) and item:
                lines.append(f"{pad}{key}:\n{to_yaml(item, indent + 2)}")
            else:
                lines.append(f"{pad}{key}: {_scalar(item)}")
        return "\n".join(lines)
    if isinstance(value, list):
        lines = []
        for item in value:
            text = to_yaml(item, indent + 2) if isinstance(item, dict | list) else f"{pad}  {_scalar(item)}"
            lines.append(f"{pad}- {text.lstrip()}")
        return "\n".join(lines)
    return pad + _scalar(value)


def _scalar(value: Any) -> str:
    if isinstance(value, dict | list):
        return "{}" if isinstance(value, dict) else "[]"
    return json.dumps(value)
