"""The HTTP client the service commands share (`tidecast jobs`, `tidecast endpoints`).

They talk to a running `tidecast serve` through its API only, never to its database, so they
work against a remote service exactly as against a local one. The API key comes from
``--api-key`` or ``TIDECAST_API_KEY`` and travels in the ``X-API-Key`` header; a
problem-details answer (RFC 9457) or an unreachable service is one line and exit status 1,
a 404 for a name the user gave (an endpoint, a job) exit status 2, as `tidecast.cli.common.failure`
maps the same errors of the commands that work on the store directly.
"""

from __future__ import annotations

from typing import Annotated, Any

import httpx
import typer
from rich.console import Console

from tidecast.cli.common import fail, not_found_line

err = Console(stderr=True)

DEFAULT_URL = "http://127.0.0.1:8080"
UrlOpt = Annotated[str, typer.Option("--url", envvar="TIDECAST_URL", help="Base URL of the service")]
KeyOpt = Annotated[
    str | None, typer.Option("--api-key", envvar="TIDECAST_API_KEY", help="API key (X-API-Key header)")
]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print the raw JSON answer")]
TIMEOUT = httpx.Timeout(30.0, connect=5.0)


def request(
    method: str, url: str, path: str, api_key: str | None, body: Any = None, params: Any = None
) -> Any:
    """Call the API and return its JSON answer (None for an empty one, such as a 204)."""
    headers = {"Accept": "application/json"}
    if api_key:
        headers["X-API-Key"] = api_key
    try:
        response = httpx.request(
            method, url.rstrip("/") + path, json=body, params=params, headers=headers, timeout=TIMEOUT
        )
    except httpx.HTTPError as exc:
        err.print(f"[bold red]error:[/] cannot reach {url}: {exc}", highlight=False)
        raise typer.Exit(1) from None
    try:
        payload = response.json()
    except ValueError:
        payload = None
    if response.is_error:
        missing = _not_found(response.status_code, payload)
        if missing is not None:
            raise fail(missing, 2)
        raise fail(problem_line(response.status_code, payload, response.text), 1)
    return payload


def _not_found(status: int, payload: Any) -> str | None:
    """The line for a 404 naming something the user asked for that does not exist (the
    service's problem carries its `kind` and `name`, or the `endpoint`); None for another answer,
    such as a 404 of a URL that is not the service's."""
    if status != 404 or not isinstance(payload, dict):
        return None
    kind, name = payload.get("kind"), payload.get("name")
    if kind is None and payload.get("endpoint") is not None:
        kind, name = "endpoint", payload["endpoint"]
    if not isinstance(kind, str):
        return None
    return not_found_line(kind, str(name or ""), str(payload.get("detail") or ""))


def problem_line(status: int, payload: Any, text: str) -> str:
    """ "422 Invalid input: horizon must be ... (field: horizon)" from RFC 9457 problem details."""
    if not isinstance(payload, dict):
        return f"{status} {text.strip()[:500]}"
    title = payload.get("title") or ""
    detail = payload.get("detail") or ""
    field = payload.get("field")
    line = f"{status} {title}: {detail}" if detail else f"{status} {title}"
    return f"{line} (field: {field})" if field else line
