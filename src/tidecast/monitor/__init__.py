"""After deployment: the forecast log, actuals, realised accuracy and drift.

* `forecast_log` keeps every forecast an endpoint served or a job produced (one row per item
  and forecast), written by a background thread so the request never waits on the database;
* `actuals` loads observed values idempotently (the same actual twice counts once, a changed
  value replaces the old one and the change is logged), fast enough for millions of rows;
* `accuracy` joins the log with the actuals and scores it with the metric kernels of
  `tidecast.metrics`, per model version, item, horizon step and period, beside the backtest
  score the version was approved on;
* `drift` compares each item's recent actuals with its training data.

The tables live in the service's database (`tidecast.registry.schema`); this package sits
between the registry and the adapters (jobs, service, CLI), which call one function each.
"""
