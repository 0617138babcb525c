"""The service's routes, one module per resource, each a module-level `router` that
`create_app` includes by hand: `forecast`, `ops`, `jobs`, `batch`, `models`, `endpoints`,
`reports`."""
