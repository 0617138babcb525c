"""Coherent forecasts for hierarchies of items built from their static attributes.

`structure` declares the levels and builds the summing matrix, `aggregate` sums the items up,
`reconcile` holds the reconciliation kernels (bottom-up, top-down, MinTrace, non-negativity),
`coherent` gives the coherent means and moves every node's own quantiles with its mean,
`selection` chooses the method on the backtests, and `HierarchicalForecaster` (`forecaster`)
ties them to the AutoML engine.
"""

from tidecast.hierarchy.reconcile import METHODS
from tidecast.hierarchy.structure import Hierarchy, Structure, build_structure, parse_hierarchy

__all__ = ["METHODS", "Hierarchy", "Structure", "build_structure", "parse_hierarchy"]
