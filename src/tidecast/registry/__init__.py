"""The service's state: where it lives, its database and the models it keeps.

`settings` (the one `ServiceSettings`, from ``TIDECAST_*``), `db` (engines, sessions, Alembic
`migrations`), `schema` (the tables), `artifacts` (model folders on any fsspec store) and
`registry` (versioned, approvable models); `errors` holds the failures the API maps to 4xx.
Nothing here imports `tidecast.jobs`, `tidecast.service` or `tidecast.cli`: they build on it.
"""
