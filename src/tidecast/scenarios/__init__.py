"""What if: re-forecast with changed known covariates, without refitting.

`whatif(auto, rules, future=...)` (see `whatif`) applies Amazon Forecast-style rules
(`rules`: set / add / multiply a known covariate where conditions on item attributes, items,
dates and steps hold) or a replacement future file, and returns the baseline and the scenario
side by side with their difference in units and percent.
"""

from tidecast.scenarios.rules import Rule, Scenario, parse_scenario
from tidecast.scenarios.whatif import WhatIf, whatif

__all__ = ["Rule", "Scenario", "WhatIf", "parse_scenario", "whatif"]
