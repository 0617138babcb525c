"""Batch forecasting over files or folders, in local processes or on a Dask cluster."""

from tidecast.batch.runner import BatchResult, run_batch

__all__ = ["BatchResult", "run_batch"]
