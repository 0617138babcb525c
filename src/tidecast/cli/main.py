"""The `tidecast` application: every command and command group, mounted by hand.

`run` is the console entry point (``tidecast = "tidecast.cli.main:run"``); ``python -m
tidecast.cli`` runs it too.
"""

from __future__ import annotations

import logging
import os
import sys
from typing import Annotated

import typer

from tidecast.cli.alerts import alerts_app
from tidecast.cli.batch import batch
from tidecast.cli.challenger import challenger as _challenger_commands  # noqa: F401 (registers them)
from tidecast.cli.coldstart import cold_start
from tidecast.cli.demo import demo_data
from tidecast.cli.endpoints import endpoints_app
from tidecast.cli.explain import explain, whatif
from tidecast.cli.hierarchy import reconcile
from tidecast.cli.horizons import horizons
from tidecast.cli.jobs import jobs_app
from tidecast.cli.keys import keys_app
from tidecast.cli.models import models_app
from tidecast.cli.monitor import actuals_app, monitor
from tidecast.cli.report import report
from tidecast.cli.serve import serve
from tidecast.cli.train import backtest, forecast, train

app = typer.Typer(
    name="tidecast",
    help="Self-hosted AutoML for time-series forecasting.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
    # `-h` is help everywhere, as a new user expects; sub-commands inherit it from this context.
    context_settings={"help_option_names": ["-h", "--help"]},
)

app.command("demo-data")(demo_data)
app.command()(train)
app.command()(backtest)
app.command()(forecast)
app.command("cold-start", help="Forecast new items (no or little history) from similar items")(cold_start)
app.command(help="Forecast every level of a hierarchy and reconcile them (coherent forecasts)")(reconcile)
app.command(help="Several horizons (daily, weekly, monthly) from one dataset, one model each")(horizons)
app.command("serve", help="Run the forecasting service: registry, jobs and the forecast API")(serve)
app.add_typer(keys_app, name="keys", help="API keys of the service")
app.add_typer(models_app, name="models", help="Model registry: list, show, approve, reject, rollback")
app.add_typer(jobs_app, name="jobs", help="AutoML jobs on a running tidecast service")
app.add_typer(
    endpoints_app, name="endpoints", help="Endpoints of a running tidecast service: deploy, list, delete"
)
app.command("report", help="Model quality and business reports of a run, model or endpoint")(report)
app.add_typer(actuals_app, name="actuals", help="Observed values forecasts are scored against: ingest")
app.command("monitor", help="Accuracy of an endpoint's forecasts against actuals, and drift")(monitor)
app.add_typer(alerts_app, name="alerts", help="Alert rules: export them for Prometheus")
app.command("batch", help="Forecast a whole catalogue from files, chunk by chunk (resumable)")(batch)
app.command("explain", help="Why each forecast: contributions of covariates, holidays, trend, season")(
    explain
)
app.command("whatif", help="What if: forecast again with changed known covariates, beside the baseline")(
    whatif
)


def _print_version(value: bool) -> None:
    if value:
        from tidecast import __version__

        typer.echo(f"tidecast {__version__}")
        raise typer.Exit()


@app.callback()
def main(
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Log details")] = False,
    version: Annotated[
        bool,
        typer.Option("--version", callback=_print_version, is_eager=True, help="Print the version and exit"),
    ] = False,
) -> None:
    logging.basicConfig(
        level=logging.INFO if verbose else logging.ERROR, format="%(levelname)s %(name)s: %(message)s"
    )


def run() -> None:
    """The console entry point: run the command, flush, and leave without native teardown.

    Once a command has finished, the interpreter's own shutdown only runs the destructors of
    the native libraries it loaded; seen here, pyarrow's and the OpenMP runtime's thread pools
    sometimes abort there ("terminate called without an active exception", exit status -6)
    after the command had already succeeded or printed its error. The exit status is the
    command's, so it is taken, the streams and logs are flushed, and the process ends.
    """
    code = 0
    try:
        app()
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    sys.stdout.flush()
    sys.stderr.flush()
    logging.shutdown()
    os._exit(code)


if __name__ == "__main__":  # pragma: no cover
    run()
