"""Why this forecast: contributions of covariates, holidays, attributes, level, trend and
seasonality to the selected ensemble's forecast, per item and step and globally.

`explain(auto, future=..., items=...)` returns an `Explanation`; see `core` for how members
are combined, `regression` (exact terms), `gbm` (TreeSHAP) and `ablation` for the methods, and
`terms` for the vocabulary of features and kinds.
"""

from tidecast.explain.core import Explanation, explain, explain_arrays

__all__ = ["Explanation", "explain", "explain_arrays"]
