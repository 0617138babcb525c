"""The HTTP client the service commands share (`tidecast jobs`, `tidecast endpoints`).

They talk to a running `tidecast serve` through its API only, never to its database, so they
work against a remote service exactly as against a local one. The API key comes from
``--api-key`` or ``TIDECAST_API_KEY`` and travels in the ``X-API-Key`` header; a
problem-details answer (RFC 9457) or an unreachable service is one line and exit status 1.
"""

from __future__ import annotations

from typing import Annotated, Any

import httpx
import typer
from rich.console import Console

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
        err.print(
            f"[bold red]error:[/] {problem_line(response.status_code, payload, response.text)}",
            highlight=False,
        )
        raise typer.Exit(1)
    return payload


def problem_line(status: int, payload: Any, text: str) -> str:
    """ "422 Invalid input: horizon must be ... (field: horizon)" from RFC 9457 problem details."""
    if not isinstance(payload, dict):
        return f"{status} {text.strip()[:500]}"
    title = payload.get("title") or ""
    detail = payload.get("detail") or ""
    field = payload.get("field")
    line = f"{status} {title}: {detail}" if detail else f"{status} {title}"
    return f"{line} (field: {field})" if field else line
