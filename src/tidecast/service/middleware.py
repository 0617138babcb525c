"""The ASGI middleware of the service: the body limit and the access log.

`BodyLimitMiddleware` answers 413 for a body over the limit before the application buffers it,
and 415 for a compressed one (RFC 9110: the service decodes no content coding);
`AccessLogMiddleware` writes one structured line per request and records the request, error and
invocation metrics. The forecast routes flag invocations in ``request.state`` (`INVOCATION`,
`ENDPOINT`) for it.
"""

from __future__ import annotations

import logging
import time

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from tidecast.service.handlers import BodyTooLarge, problem_response
from tidecast.service.metrics import ServiceMetrics
from tidecast.service.problems import Problem, too_large

access_log = logging.getLogger("tidecast.access")

INVOCATION = "invocation"  # request.state flags read by the access-log middleware
ENDPOINT = "endpoint"


class BodyLimitMiddleware:
    """413 for a body over `limit` bytes: at once from Content-Length, or while it streams in
    (a chunked upload has no Content-Length), before the application buffers it all; 415 for
    a body with a Content-Encoding (gzip...), which no route decodes."""

    def __init__(self, app: ASGIApp, limit: int) -> None:
        self.app = app
        self.limit = limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        coding = (_header(scope, b"content-encoding") or "identity").strip().lower()
        if coding not in ("", "identity"):  # read as it is, a gzip body was "malformed JSON"
            problem = Problem(
                415,
                "Unsupported media type",
                f"Content-Encoding {coding!r} is not accepted: send the body uncompressed",
                field="Content-Encoding",
            )
            await problem_response(problem)(scope, receive, send)
            return
        declared = _header(scope, b"content-length")
        if declared is not None:
            if not declared.isdigit():
                problem = Problem(
                    400, "Bad request", "Content-Length is not a number", field="Content-Length"
                )
                await problem_response(problem)(scope, receive, send)
                return
            if int(declared) > self.limit:
                await problem_response(too_large(self.limit))(scope, receive, send)
                return
        received = 0
        started = False

        async def limited_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.limit:
                    raise BodyTooLarge(self.limit)
            return message

        async def tracking_send(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, limited_receive, tracking_send)
        except BodyTooLarge:
            if started:
                raise
            await problem_response(too_large(self.limit))(scope, receive, send)


class AccessLogMiddleware:
    """One structured log line per request (method, path, status, latency, endpoint) and the
    request, error and invocation metrics."""

    def __init__(self, app: ASGIApp, metrics: ServiceMetrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500

        async def capture(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            await send(message)

        try:
            await self.app(scope, receive, capture)
        finally:
            seconds = time.perf_counter() - started
            state = scope.get("state") or {}
            endpoint = state.get(ENDPOINT)
            self.metrics.observe_request(scope["method"], status)
            if state.get(INVOCATION):
                self.metrics.observe_invocation(endpoint, status, seconds)
            access_log.info(
                "%s %s %d",
                scope["method"],
                scope["path"],
                status,
                extra={
                    "method": scope["method"],
                    "path": scope["path"],
                    "status": status,
                    "latency_ms": round(seconds * 1000, 2),
                    "endpoint": endpoint,
                    "caller": state.get("caller"),
                },
            )


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope.get("headers", ()):
        if key.lower() == name:
            return bytes(value).decode("latin-1").strip()
    return None
