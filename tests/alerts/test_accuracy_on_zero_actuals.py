"""An accuracy rule over actuals that are all 0 (an item that stopped selling): its WAPE is
undefined, and the signal said the version "has no backtest score to compare with"."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import numpy as np
import pandas as pd
import pytest

from tidecast.alerts import signals
from tidecast.alerts.rules import Rule
from tidecast.monitor.accuracy import Points


def test_when_every_actual_is_zero_then_the_accuracy_signal_says_so(monkeypatch: pytest.MonkeyPatch) -> None:
    points = Points(pd.DataFrame(), np.zeros(3), np.full(3, 4.0), np.zeros((3, 0)), (), 1)
    scored = signals.Scored(7, points, {"points": 3, "wape": None}, {"metric": "wape", "score": 0.2})
    monkeypatch.setattr(signals, "_scored", lambda *args: scored)
    rule = Rule.model_validate({"name": "acc", "kind": "accuracy", "window": "7d", "threshold": 1.5})
    sources: Any = type("Sources", (), {"monitor": None})()
    signal = signals._accuracy(rule, "shop", sources, datetime(2024, 1, 1))
    assert (signal.value, signal.breached) == (None, None)
    assert (
        signal.message
        == "realised wape over 7d is undefined: 3 points, every actual is 0 (drift reports a stop)"
    )
