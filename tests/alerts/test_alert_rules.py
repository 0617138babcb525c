"""The rules file: what it accepts, and that each mistake is named where the user made it."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from tidecast.alerts.rules import RuleKind, Severity, load_config, parse_duration
from tidecast.errors import ConfigError

GOOD = """
[[webhooks]]
url = "https://hooks.example/tidecast"
secret_env = "ALERT_TEST_SECRET"
min_severity = "critical"

[smtp]
host = "127.0.0.1"
port = 2525
from = "tidecast@example.com"
to = ["ops@example.com"]

[[rules]]
name = "sales-accuracy"
kind = "accuracy"
endpoint = "sales"
window = "7d"
threshold = 1.5
severity = "critical"

[[rules]]
name = "coverage"
kind = "coverage"
window = "14d"
band = [0.7, 0.9]

[[rules]]
name = "failures"
kind = "job_failed"
window = "1h"
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "rules.toml"
    path.write_text(text)
    return path


def test_when_the_file_is_complete_then_rules_and_channels_are_typed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ALERT_TEST_SECRET", "from-the-environment")
    config = load_config(write(tmp_path, GOOD))
    accuracy, coverage, failures = config.rules
    assert (accuracy.kind, accuracy.span, accuracy.severity) == (
        RuleKind.ACCURACY,
        timedelta(days=7),
        Severity.CRITICAL,
    )
    assert coverage.band == (0.7, 0.9) and coverage.endpoint is None
    assert failures.threshold == 0.0  # a job rule fires on any failure unless told otherwise
    (webhook,) = config.webhooks
    assert webhook.secret == "from-the-environment" and webhook.min_severity == Severity.CRITICAL
    assert config.smtp is not None and (config.smtp.sender, config.smtp.port) == (
        "tidecast@example.com",
        2525,
    )


@pytest.mark.parametrize(
    ("edit", "named"),
    [
        (
            lambda t: t.replace('window = "7d"', 'window = "a week"'),
            "rules[0].window: 'a week' is not a duration",
        ),
        (lambda t: t.replace("threshold = 1.5\n", ""), "rules[0]: accuracy rules need a threshold"),
        (lambda t: t.replace("band = [0.7, 0.9]", "band = [0.9, 0.7]"), "rules[1]: band [0.9, 0.7] must be"),
        (lambda t: t.replace("band = [0.7, 0.9]", ""), "rules[1]: a coverage rule needs band"),
        (
            lambda t: t.replace("band = [0.7, 0.9]", "band = [0.7, 0.9]\nthreshold = 0.1"),
            "rules[1]: a coverage rule takes band = [low, high] or a threshold",
        ),
        (
            lambda t: t + '\n[[rules]]\nname = "errors"\nkind = "error_rate"\nwindow = "1h"\nthreshold = 5\n',
            "rules[3]: an error_rate threshold is a share of invocations below 1 (0.05 for 5 %), got 5",
        ),
        (lambda t: t.replace('kind = "accuracy"', 'kind = "vibes"'), "rules[0].kind"),
        (lambda t: t.replace('name = "coverage"', 'name = "sales-accuracy"'), "repeated: sales-accuracy"),
        (
            lambda t: t.replace('window = "1h"', 'window = "1h"\nendpoint = "sales"'),
            "watches jobs, not an endpoint",
        ),
        (
            lambda t: t.replace('secret_env = "ALERT_TEST_SECRET"', ""),
            "webhooks[0]: a webhook needs a secret",
        ),
        (
            lambda t: t.replace('secret_env = "ALERT_TEST_SECRET"', 'secret_env = "NOPE_UNSET"'),
            "'NOPE_UNSET', which is not set",
        ),
        (lambda t: t + "\n[pager]\nx = 1\n", "pager: Extra inputs are not permitted"),
        (lambda t: t.replace("[[rules]]", "[[rules]", 1), "is not valid TOML"),
    ],
)
def test_when_the_file_has_a_mistake_then_the_error_names_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, edit: object, named: str
) -> None:
    monkeypatch.setenv("ALERT_TEST_SECRET", "x")
    monkeypatch.delenv("NOPE_UNSET", raising=False)
    path = write(tmp_path, edit(GOOD))  # type: ignore[operator]
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    assert named in str(caught.value) and str(path) in str(caught.value)


def test_when_the_file_is_missing_then_the_error_says_so(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="does not exist"):
        load_config(tmp_path / "nowhere.toml")


@pytest.mark.parametrize(
    ("text", "seconds"), [("90s", 90), ("15m", 900), ("1.5h", 5400), ("7d", 604800), ("2w", 1209600)]
)
def test_when_a_duration_is_read_then_its_unit_counts(text: str, seconds: float) -> None:
    assert parse_duration(text).total_seconds() == seconds


@pytest.mark.parametrize("text", ["0m", "15", "m", "-1h", "1y"])
def test_when_a_duration_is_not_one_then_it_is_refused(text: str) -> None:
    with pytest.raises(ValueError, match="is not a duration"):
        parse_duration(text)
