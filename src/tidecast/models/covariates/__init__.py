"""How covariates become model inputs: the machinery every covariate-aware model shares.

- `horizon`: the one horizon extender, `append_horizon` (history and horizon rows per series);
- `encoding`: the one set of column rules (which columns are numbers, a text column's
  vocabulary and its codes, one-hot columns, event flags);
- `holiday_table`: holiday columns for every calendar day, gathered by date;
- `design`: the regression family's design columns built from those (`CovariateEncoder`).

The names below are also where models pickled before this package existed find the classes.
"""

from tidecast.models.covariates.design import CovariateEncoder, Exogenous, panel_exogenous
from tidecast.models.covariates.holiday_table import HolidayTable
from tidecast.models.covariates.horizon import append_horizon

__all__ = ["CovariateEncoder", "Exogenous", "HolidayTable", "append_horizon", "panel_exogenous"]
