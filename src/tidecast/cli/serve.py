"""`tidecast serve`: the forecasting service (REST API, SageMaker runtime contract, job workers).

Its options override the ``TIDECAST_*`` settings; `tidecast.service.server.serve` runs it.
"""

from __future__ import annotations

from typing import Annotated

import typer

from tidecast.cli.common import fail, service_settings
from tidecast.errors import TidecastError


def serve(
    host: Annotated[str, typer.Option(help="Address to bind; loopback unless told otherwise.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to bind (8080 is SageMaker's).")] = 8080,
    workers: Annotated[
        int | None, typer.Option(min=1, help="Job worker processes (default: TIDECAST_WORKERS, else 1).")
    ] = None,
    open_mode: Annotated[
        bool, typer.Option("--open-mode", help="Serve WITHOUT API keys (trusted networks only).")
    ] = False,
    default_endpoint: Annotated[
        str | None, typer.Option(help="Endpoint that POST /invocations serves without a target header.")
    ] = None,
) -> None:
    """Run the forecasting service: REST API, SageMaker runtime contract and job workers."""
    from tidecast.service.server import configure_logging
    from tidecast.service.server import serve as run_server

    overrides: dict[str, object] = {"host": host, "port": port}
    if workers is not None:
        overrides["workers"] = workers
    if open_mode:
        overrides["open_mode"] = True
    settings = service_settings(**overrides)
    configure_logging(settings.log_level)
    try:
        run_server(settings, default_endpoint=default_endpoint)
    except TidecastError as exc:
        raise fail(str(exc), 1) from None
