"""``/dashboard``: the service's web dashboard, a static single-page app served with its assets.

The page and its files (``service/dashboard/``: HTML, CSS, plain ES modules and the vendored
uPlot chart library) hold no data, so they are served without a key, from this package, and
name no other host: the dashboard works on a network with no internet. Every number it shows
comes from the JSON API, called with the API key the page asks for once (kept in the tab's
sessionStorage), so the dashboard sees exactly what that key may see.

``GET /dashboard/config.json`` tells the page what this service offers before it calls
anything: whether a key is needed (open mode needs none) and which optional routes exist
(monitoring, alerts, actuals), so a page whose route is absent says "no data yet" instead of
calling it and failing.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import FileResponse, RedirectResponse
from fastapi.staticfiles import StaticFiles

from tidecast.service.dependencies import StateDep

ASSETS = Path(__file__).resolve().parents[1] / "dashboard"
PREFIX = "/dashboard"
# Everything from this service, nothing inline: a script injected through data cannot run.
SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
        "connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Cache-Control": "no-cache",
}
# Optional routes the pages read (method, path): present once the service offers them.
FEATURES = {
    "monitoring": ("GET", "/v1/monitoring/{endpoint}"),
    "alerts": ("GET", "/v1/alerts"),
    "actuals": ("GET", "/v1/actuals"),
    "reports": ("GET", "/v1/reports/{run_or_model}"),
}


def features(app: FastAPI) -> dict[str, bool]:
    """Which of the optional routes in `FEATURES` `app` serves, read from its OpenAPI schema
    (built once and cached by FastAPI; included routers are not all listed in `app.routes`)."""
    paths = app.openapi().get("paths", {})
    return {name: method.lower() in paths.get(route, {}) for name, (method, route) in FEATURES.items()}


def install_dashboard(app: FastAPI) -> None:
    """Serve ``/dashboard`` (the page), its assets and ``/dashboard/config.json`` on `app`."""
    router = APIRouter(include_in_schema=False)

    @router.get(PREFIX)
    def bare() -> RedirectResponse:
        return RedirectResponse(PREFIX + "/", status_code=308)

    @router.get(PREFIX + "/")
    def page() -> FileResponse:
        return FileResponse(ASSETS / "index.html", media_type="text/html", headers=SECURITY_HEADERS)

    @router.get(PREFIX + "/config.json")
    def config(request: Request, state: StateDep) -> dict[str, Any]:
        return {
            "title": request.app.title,
            "version": request.app.version,
            "key_needed": not state.auth.open_mode,
            "features": features(request.app),
        }

    app.include_router(router)
    app.mount(PREFIX + "/assets", StaticFiles(directory=ASSETS), name="dashboard-assets")
