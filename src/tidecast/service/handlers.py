"""Every failure as an RFC 9457 problem response: the application's exception handlers.

`install_problem_handlers(app)` maps each kind of failure onto a problem: a `Problem` as it is,
the stores' expected failures (`tidecast.registry.errors`, `JobConfigError`) as 404, 409, 422 or
503, tidecast's data and configuration errors as 422, FastAPI's own validation in the same shape,
a body over the limit as 413, a database connection lost mid-request as 503 with Retry-After
(the pool replaces it, so a retry works), and anything unexpected as a 500 that shows no
internals (the traceback goes to the log). Bad input is never a 500.
"""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import DBAPIError, OperationalError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.requests import ClientDisconnect

from tidecast.errors import ConfigError, DataError, TidecastError
from tidecast.jobs.request import JobConfigError, dotted
from tidecast.registry.errors import Conflict, InvalidInput, NotFound, ServiceError
from tidecast.service.problems import (
    MEDIA_TYPE,
    TYPE_BASE,
    Problem,
    field_path,
    from_tidecast_error,
    invalid_request,
    malformed_json,
    to_pointer,
    too_large,
)

log = logging.getLogger("tidecast.service")

CLIENT_CLOSED_REQUEST = 499  # nginx's status for it; only the access log and metrics see it
DATABASE_RETRY_SECONDS = 1  # the pool has dropped the dead connection by then


def problem_response(problem: Problem) -> JSONResponse:
    headers = {"WWW-Authenticate": 'Bearer realm="tidecast"'} if problem.status == 401 else None
    return JSONResponse(problem.to_dict(), status_code=problem.status, media_type=MEDIA_TYPE, headers=headers)


def unexpected_problem(method: str, path: str, exc: BaseException) -> Problem:
    """500 for a failure nobody foresaw: the traceback goes to the log, no internals to the caller."""
    log.error("unhandled error on %s %s", method, path, exc_info=exc)
    return Problem(500, "Internal server error", "the service failed unexpectedly; see its logs")


def service_problem(exc: ServiceError) -> Problem:
    """The store's and registry's expected failures as problems (404, 409, 422, 503)."""
    if isinstance(exc, JobConfigError):
        errors = [
            {"field": dotted(e["loc"]) or "body", "pointer": to_pointer(dotted(e["loc"])), "detail": e["msg"]}
            for e in exc.errors
        ]
        return Problem(
            422, "Invalid job", str(exc), type_=TYPE_BASE + "invalid-job", field=exc.field, errors=errors
        )
    if isinstance(exc, InvalidInput):
        return Problem(
            422,
            "Invalid input",
            str(exc),
            type_=TYPE_BASE + "invalid-request",
            field=exc.field,
            errors=[{"field": exc.field, "pointer": to_pointer(exc.field), "detail": exc.problem}],
        )
    if isinstance(exc, NotFound):
        slug = exc.kind.replace(" ", "-")
        return Problem(
            404, "Not found", str(exc), type_=TYPE_BASE + "not-found", extra={"kind": slug, "name": exc.name}
        )
    if isinstance(exc, Conflict):
        return Problem(409, "Conflict", str(exc), type_=TYPE_BASE + "conflict")
    return Problem(exc.status, exc.title, str(exc), type_=TYPE_BASE + "service-error")


def validation_problem(exc: RequestValidationError) -> Problem:
    """FastAPI's own validation (path, query and typed bodies) in the same shape as ours."""
    raw = list(exc.errors())
    if any(e.get("type") == "json_invalid" for e in raw):
        detail = next(
            e.get("ctx", {}).get("error", e.get("msg")) for e in raw if e.get("type") == "json_invalid"
        )
        return malformed_json(str(detail))
    errors = []
    for error in raw:
        location = [p for p in error.get("loc", ()) if isinstance(p, str | int)]
        if location and location[0] in ("body", "query", "path", "header"):
            location = location[1:] if len(location) > 1 else location
        name = field_path(location) or "body"
        errors.append({"field": name, "pointer": to_pointer(name), "detail": str(error.get("msg", ""))})
    return invalid_request(errors)


class BodyTooLarge(StarletteHTTPException):
    """Raised while reading a body past the limit; an HTTPException so FastAPI's body parsing
    lets it through unchanged instead of turning it into a generic 400."""

    def __init__(self, limit: int) -> None:
        super().__init__(413, f"the request body exceeds the limit of {limit} bytes")
        self.limit = limit


def install_problem_handlers(app: FastAPI) -> None:
    async def on_problem(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, Problem)
        return problem_response(exc)

    async def on_service_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, ServiceError)
        return problem_response(service_problem(exc))

    async def on_tidecast_error(request: Request, exc: Exception) -> Response:
        if isinstance(exc, DataError | ConfigError):
            return problem_response(from_tidecast_error(exc))
        return problem_response(Problem(422, "Model error", str(exc), type_=TYPE_BASE + "model-error"))

    async def on_validation(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, RequestValidationError)
        return problem_response(validation_problem(exc))

    async def on_http(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, StarletteHTTPException)
        if isinstance(exc, BodyTooLarge):
            return problem_response(too_large(exc.limit))
        title = {404: "Not found", 405: "Method not allowed"}.get(exc.status_code, "HTTP error")
        problem = Problem(exc.status_code, title, str(exc.detail))
        response = problem_response(problem)
        if exc.headers:
            response.headers.update(exc.headers)
        return response

    async def on_disconnect(request: Request, exc: Exception) -> Response:
        # The client went away before sending its whole body (a timeout, a cancelled call):
        # nothing failed here and nobody will read an answer, so no error and no traceback.
        log.debug("client disconnected during %s %s", request.method, request.url.path)
        return Response(status_code=CLIENT_CLOSED_REQUEST)

    async def on_database_error(request: Request, exc: Exception) -> Response:
        # A driver error the database caused (a dropped connection: PostgreSQL restarting, a
        # failover, pg_terminate_backend) is the service's trouble and passes: 503, one log line.
        assert isinstance(exc, DBAPIError)
        if not (isinstance(exc, OperationalError) or exc.connection_invalidated):
            return await on_unexpected(request, exc)
        reason = str(exc.orig).strip().splitlines()[0] if str(exc.orig).strip() else type(exc.orig).__name__
        log.warning("database unavailable during %s %s: %s", request.method, request.url.path, reason)
        problem = Problem(
            503,
            "Database unavailable",
            "the service lost its database connection; retry in a moment",  # the why: in the log
            type_=TYPE_BASE + "database-unavailable",
        )
        response = problem_response(problem)
        response.headers["Retry-After"] = str(DATABASE_RETRY_SECONDS)
        return response

    async def on_unexpected(request: Request, exc: Exception) -> Response:
        return problem_response(unexpected_problem(request.method, request.url.path, exc))

    app.add_exception_handler(Problem, on_problem)
    app.add_exception_handler(ServiceError, on_service_error)
    app.add_exception_handler(TidecastError, on_tidecast_error)
    app.add_exception_handler(RequestValidationError, on_validation)
    app.add_exception_handler(StarletteHTTPException, on_http)
    app.add_exception_handler(ClientDisconnect, on_disconnect)
    app.add_exception_handler(DBAPIError, on_database_error)
    app.add_exception_handler(Exception, on_unexpected)
