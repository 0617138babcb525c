"""The forecasting service behind `tidecast serve`: model registry, async jobs, forecast API.

Storage lives in `settings` (configuration), `db` (engines, sessions, Alembic migrations),
`schema` (the tables), `artifacts` (model folders on any fsspec store) and `registry`
(versioned, approvable models); `errors` holds the failures the API maps to 4xx.
"""
