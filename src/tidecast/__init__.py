"""tidecast: self-hosted AutoML for time-series forecasting."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"
__all__ = ["AutoForecaster", "__version__"]

if TYPE_CHECKING:
    from tidecast.automl.forecaster import AutoForecaster


def __getattr__(name: str) -> Any:
    # Imported lazily so `import tidecast` (and the CLI's --help) stays fast.
    if name == "AutoForecaster":
        from tidecast.automl.forecaster import AutoForecaster

        return AutoForecaster
    raise AttributeError(name)
