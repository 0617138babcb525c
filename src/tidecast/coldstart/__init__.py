"""Forecasts for new items with no or little history, from the profile of similar items."""

from tidecast.coldstart.profile import COLD_START, ColdStart

__all__ = ["COLD_START", "ColdStart"]
