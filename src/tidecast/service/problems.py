"""RFC 9457 problem details: every 4xx the service returns says what is wrong and where.

A `Problem` is an exception the forecast engine raises and the HTTP app renders as
``application/problem+json`` (`Problem.to_dict`). The helpers turn the errors the engine
meets (pydantic validation, tidecast's DataError/ConfigError, unknown items, oversized
payloads) into problems that name the offending field, both as a dotted path (``field``,
e.g. ``instances[0].target``) and as an RFC 6901 JSON pointer (``pointer``), so a client can
highlight the exact input to fix.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

from pydantic import ValidationError
from pydantic_core import ErrorDetails

from tidecast.errors import ConfigError, DataError
from tidecast.jsonable import json_safe

MEDIA_TYPE = "application/problem+json"
TYPE_BASE = "https://tidecast.dev/problems/"
MAX_NAMED = 10  # items named in a detail before "and N more"


class Problem(Exception):
    """An RFC 9457 problem: `status`, `title`, `detail`, a `type` URI and the offending field.

    `errors` lists every invalid field when a request has several (each a dict with
    ``field``, ``pointer`` and ``detail``); `extra` holds further members (e.g. ``items``).
    """

    def __init__(
        self,
        status: int,
        title: str,
        detail: str,
        *,
        type_: str = "about:blank",
        field: str | None = None,
        errors: Sequence[dict[str, Any]] = (),
        extra: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(detail)
        self.status = status
        self.title = title
        self.detail = detail
        self.type = type_
        self.field = field
        self.errors = list(errors)
        self.extra = dict(extra or {})

    @property
    def pointer(self) -> str | None:
        return None if self.field is None else to_pointer(self.field)

    def to_dict(self) -> dict[str, Any]:
        """The JSON body: the RFC's members, then `field`/`pointer`, `errors` and extras."""
        body: dict[str, Any] = {
            "type": self.type,
            "title": self.title,
            "status": self.status,
            "detail": self.detail,
        }
        if self.field is not None:
            body["field"] = self.field
            body["pointer"] = self.pointer
        if self.errors:
            body["errors"] = json_safe(self.errors)
        # Strict JSON: the engine's rows hold NaN where a value is missing (a future short of a
        # covariate), which failed to render and turned that 422 into a 500.
        body.update(json_safe(self.extra))
        return body

    def __repr__(self) -> str:
        return f"Problem({self.status}, {self.title!r}, {self.detail!r}, field={self.field!r})"


def field_path(location: Iterable[str | int]) -> str:
    """A pydantic location as a readable path: ("instances", 0, "target") -> instances[0].target."""
    path = ""
    for part in location:
        if isinstance(part, int):
            path += f"[{part}]"
        else:
            path += f".{part}" if path else str(part)
    return path


def to_pointer(field: str) -> str:
    """A dotted path as an RFC 6901 JSON pointer: instances[0].target -> /instances/0/target."""
    parts: list[str] = []
    for chunk in field.replace("[", ".").replace("]", "").split("."):
        if chunk:
            parts.append(chunk.replace("~", "~0").replace("/", "~1"))
    return "/" + "/".join(parts)


def invalid(field: str, detail: str, status: int = 422) -> Problem:
    """One invalid field: 422 naming it."""
    return Problem(
        status,
        "Invalid request",
        f"{field}: {detail}",
        type_=TYPE_BASE + "invalid-request",
        field=field,
        errors=[{"field": field, "pointer": to_pointer(field), "detail": detail}],
    )


def from_validation_error(
    exc: ValidationError,
    prefix: str = "",
    describe: Callable[[ErrorDetails], dict[str, str] | None] | None = None,
) -> Problem:
    """A pydantic ValidationError as a 422 naming the first field, listing all of them.

    `describe` may word an error itself (a {field, pointer, detail} entry, e.g. in the user's
    column names rather than the model's fields); None leaves it to the generic wording."""
    errors = []
    for error in exc.errors(include_url=False):
        worded = None if describe is None else describe(error)
        if worded is not None:
            errors.append(worded)
            continue
        location = [p for p in error["loc"] if not _is_union_tag(p)]
        path = field_path(location)
        if prefix:
            path = f"{prefix}.{path}" if path and not path.startswith("[") else prefix + path
        errors.append({"field": path or "body", "pointer": to_pointer(path), "detail": error["msg"]})
    return invalid_request(errors, str(exc))


def entry(location: Sequence[str | int], detail: str) -> dict[str, str]:
    """One invalid field of a request at `location` (("history", 0, "Weekly Sales")): its path,
    its JSON pointer (each part escaped, so a column name holding "." or "/" points right) and
    the detail."""
    pointer = "".join("/" + str(p).replace("~", "~0").replace("/", "~1") for p in location)
    return {"field": field_path(location), "pointer": pointer, "detail": detail}


def invalid_request(errors: list[dict[str, str]], fallback: str = "the request is invalid") -> Problem:
    """A 422 naming the first of `errors` ({field, pointer, detail} each) and listing all."""
    if not errors:
        return Problem(422, "Invalid request", fallback, type_=TYPE_BASE + "invalid-request")
    first = errors[0]
    more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
    return Problem(
        422,
        "Invalid request",
        f"{first['field']}: {first['detail']}{more}",
        type_=TYPE_BASE + "invalid-request",
        field=first["field"],
        errors=errors,
    )


_TYPE_TAGS = frozenset({"str", "int", "float", "bool", "none", "list", "dict"})


def _is_union_tag(part: str | int) -> bool:
    """pydantic adds the chosen union member's type name ("list[float]") to locations."""
    return isinstance(part, str) and (part in _TYPE_TAGS or "[" in part or part.startswith("function-"))


def from_tidecast_error(exc: DataError | ConfigError, field: str | None = None) -> Problem:
    """tidecast's own data and configuration errors: 422 with the problem text."""
    if isinstance(exc, DataError):
        problem = Problem(
            422,
            "Unusable data",
            exc.problem,
            type_=TYPE_BASE + "unusable-data",
            field=field,
            extra={"rows": exc.shown_rows()} if exc.rows else None,
        )
    else:
        problem = Problem(
            422, "Invalid configuration", str(exc), type_=TYPE_BASE + "invalid-config", field=field
        )
    if field is not None:
        problem.errors = [{"field": field, "pointer": to_pointer(field), "detail": problem.detail}]
    return problem


def unknown_items(
    items: Sequence[str],
    field: str = "item_ids",
    key_format: str = "",
    guesses: Mapping[str, str] | None = None,
) -> Problem:
    """404: the model has no stored history for these items. `key_format` says how the
    model's ids are written; `guesses` maps an asked id to the known id it likely meant."""
    guesses = guesses or {}
    shown = ", ".join(
        repr(i) + (f" (did you mean {guesses[i]!r}?)" if i in guesses else "") for i in items[:MAX_NAMED]
    )
    more = f" and {len(items) - MAX_NAMED} more" if len(items) > MAX_NAMED else ""
    how = f"{key_format}; " if key_format else ""
    return Problem(
        404,
        "Unknown item",
        f"the model has no history for {len(items)} item(s): {shown}{more}; {how}"
        "send their history to forecast them without refitting",
        type_=TYPE_BASE + "unknown-item",
        field=field,
        extra={"items": list(items[:100]), **({"did_you_mean": dict(guesses)} if guesses else {})},
    )


def unknown_endpoint(name: str) -> Problem:
    """404: no endpoint (or model) by this name."""
    return Problem(
        404,
        "Unknown endpoint",
        f"there is no endpoint named {name!r}",
        type_=TYPE_BASE + "unknown-endpoint",
        extra={"endpoint": name},
    )


def endpoint_unavailable(name: str, reason: str) -> Problem:
    """503: the endpoint exists but its model failed to load (at startup), so it cannot answer."""
    return Problem(
        503,
        "Endpoint not in service",
        f"endpoint {name!r} exists but its model failed to load: {reason}. Redeploy it (POST "
        f"/v1/endpoints with name {name!r}, or `tidecast endpoints create {name} --group GROUP`) with a "
        "version that loads, or delete it",
        type_=TYPE_BASE + "endpoint-unavailable",
        extra={"endpoint": name, "failure_reason": reason},
    )


def model_failed(name: str) -> Problem:
    """500: the endpoint's model raised on a request it had accepted (the log has the traceback)."""
    return Problem(
        500,
        "Model failed",
        f"endpoint {name!r}: the model failed on this request; the service's log has the reason",
        type_=TYPE_BASE + "model-error",
        extra={"endpoint": name},
    )


def payload_too_large(what: str, count: int, limit: int, field: str | None = None) -> Problem:
    """413: the request asks for more than the service's limit."""
    return Problem(
        413,
        "Payload too large",
        f"{count} {what} in one request; the limit is {limit}: split the request",
        type_=TYPE_BASE + "payload-too-large",
        field=field,
        extra={"limit": limit},
    )


def malformed_json(detail: str) -> Problem:
    return Problem(400, "Malformed JSON", f"body: {detail}", type_=TYPE_BASE + "malformed-json", field="body")


def parse_json(raw: bytes) -> Any:
    """A request body as JSON, or a 400 problem naming the body (empty, not UTF-8, not JSON)."""
    if not raw.strip():
        raise Problem(400, "Empty body", "body: the request has no body; send JSON", field="body")
    try:
        return json.loads(raw)
    except ValueError as exc:  # JSONDecodeError and UnicodeDecodeError
        raise malformed_json(str(exc)) from None
    except RecursionError:  # "[[[[..." nested deeper than the parser recurses
        raise malformed_json("nested too deeply") from None


def too_large(limit: int) -> Problem:
    return Problem(
        413,
        "Payload too large",
        f"body: the request body exceeds the limit of {limit} bytes; split the request",
        type_=TYPE_BASE + "payload-too-large",
        field="body",
        extra={"limit": limit},
    )
