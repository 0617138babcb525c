"""The forecasting service behind `tidecast serve`: the HTTP API over the registry and jobs.

The stores it serves live in `tidecast.registry` (settings, database, registry, artifacts) and
the job lifecycle in `tidecast.jobs`; this package is the FastAPI application on top of them.
"""
