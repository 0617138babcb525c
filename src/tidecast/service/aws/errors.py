"""Errors in AWS's shape, so boto3 and the AWS CLI show the server's reason.

An AWS SDK reads an error's code from the ``x-amzn-ErrorType`` header (or the body's
``__type``) and its message from the body's ``message``; without them boto3 shows
``Code='422', Message=''``. Two places produce them:

* the control plane (``POST /`` with ``X-Amz-Target``) raises `AwsError` and answers AWS's own
  body, ``{"__type": "ValidationException", "message": "..."}`` (`aws_response`);
* every other answer to an AWS-protocol request (the runtime's ``/endpoints/{name}/invocations``
  and ``/invocations``, and any SigV4-signed request) is one of the service's RFC 9457
  problems: `AwsProtocolMiddleware` adds the header and the two members to it. The problem's
  own members stay (native clients of the runtime route keep its title, field and type).

The runtime answers with the statuses of SageMaker's runtime too (`runtime_error`), not
tidecast's: ``ValidationError`` 400 for every input problem (an unknown or deleted endpoint
among them, worded as AWS words it, "Endpoint X of account Y not found."; an unknown item, a
bad body, an unsupported media type), ``ModelError`` 424 when the model failed on a request it
accepted (the service's own status and detail in ``OriginalStatusCode`` and
``OriginalMessage``, as SageMaker relays a container's), ``ThrottlingException`` 429,
``ServiceUnavailable`` 503 (an endpoint whose model failed to load, a lost database) and
``InternalFailure`` 500. The botocore model declares these codes with these statuses, its
retry logic reads the status (it retries 5xx and 429, never 400 or 424), and scripts written
against SageMaker check ``ResponseMetadata.HTTPStatusCode``. The problem's ``status`` member
follows the answer's. The access log and the invocation metrics, inside this middleware, keep
the service's own status: they are the container's view, as SageMaker's CloudWatch
``Invocation4XXErrors``/``Invocation5XXErrors`` count the model's status, not the 424.
tidecast's native ``/v1/...`` API keeps its own statuses, signed or not.

Which code a problem becomes elsewhere: the control plane's ``ValidationException``,
``ResourceNotFound``, ``ResourceInUse``, ``AccessDeniedException``.

Authentication comes first and is answered as AWS answers it, on both APIs (403): a request
with no credentials at all is ``MissingAuthenticationTokenException`` (before, it was
``UnrecognizedClientException`` with a message about API keys, 401 on the runtime), an unknown
or revoked key ``UnrecognizedClientException``, a key without the role
``AccessDeniedException``.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from functools import partial
from typing import Any

from fastapi.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from tidecast.service.auth import MISSING_CREDENTIALS
from tidecast.service.handlers import problem_response, unexpected_problem
from tidecast.service.problems import TYPE_BASE, Problem

ERROR_TYPE_HEADER = "x-amzn-ErrorType"
AMZ_JSON = "application/x-amz-json-1.1"
VARIANT_HEADER = "X-Amzn-Invoked-Production-Variant"
DEFAULT_VARIANT = "AllTraffic"  # SageMaker's name for an endpoint's only variant
MISSING_TOKEN = "MissingAuthenticationTokenException"
MISSING_TOKEN_MESSAGE = (
    "Missing Authentication Token: sign the request with an access key pair "
    "(tidecast keys create-aws), as boto3 and the AWS CLI do"
)
AUTH_CODES = (MISSING_TOKEN, "UnrecognizedClientException", "AccessDeniedException")

# The codes used, with the status AWS answers them with.
STATUS = {
    "ValidationException": 400,
    "ValidationError": 400,
    "ResourceNotFound": 400,
    "ResourceInUse": 400,
    "ResourceLimitExceeded": 400,
    "ConflictException": 409,
    "ModelError": 424,
    "ThrottlingException": 429,
    "AccessDeniedException": 403,
    "UnrecognizedClientException": 403,
    "InvalidSignatureException": 403,
    "IncompleteSignatureException": 403,
    "MissingAuthenticationTokenException": 403,
    "UnknownOperationException": 400,
    "SerializationException": 400,
    "InternalFailure": 500,
    "ServiceUnavailable": 503,
}


class AwsError(Problem):
    """A failure with AWS's error code; a `Problem` too, so the service's handlers render it
    wherever it is raised (the members `__type` and `message` travel as problem extras)."""

    def __init__(self, code: str, message: str, status: int | None = None) -> None:
        super().__init__(
            status or STATUS.get(code, 400),
            code,
            message,
            type_=TYPE_BASE + "aws-" + code,
            extra={"__type": code, "message": message},
        )
        self.code = code
        self.message = message


def validation(message: str) -> AwsError:
    return AwsError("ValidationException", message)


def not_found(message: str) -> AwsError:
    return AwsError("ResourceNotFound", message)


def in_use(message: str) -> AwsError:
    return AwsError("ResourceInUse", message)


def aws_response(error: AwsError) -> JSONResponse:
    """The control plane's error answer: AWS's body, type header and content type."""
    return JSONResponse(
        {"__type": error.code, "message": error.message},
        status_code=error.status,
        media_type=AMZ_JSON,
        headers={ERROR_TYPE_HEADER: error.code},
    )


def runtime_code(status: int, problem_type: str) -> str:
    """The runtime's declared error for a problem of `status` and type URI (a model's failure
    first: one that crashed is a 500 of the service, and a ``ModelError`` to the caller)."""
    if problem_type.endswith(("model-error", "model-load-failed")):
        return "ModelError"
    if status >= 500:
        return "ServiceUnavailable" if status == 503 else "InternalFailure"
    if status == 429:
        return "ThrottlingException"
    return _auth_code(status, problem_type) or "ValidationError"


def runtime_error(
    problem: dict[str, Any], status: int, account: str, variant: Callable[[], str]
) -> dict[str, Any]:
    """A problem of `status` answered on the runtime, as SageMaker's runtime answers it: the
    problem with ``__type``, ``message``, ``status`` (AWS's: see the module docstring) and, for a
    ``ModelError``, the service's own status and detail as ``OriginalStatusCode`` and
    ``OriginalMessage``. `variant()` names the variant invoked, asked only for a ModelError (the
    endpoint exists then: an unknown name must not cost a lookup)."""
    kind = str(problem.get("type", ""))
    code = str(problem.get("__type") or runtime_code(status, kind))
    detail = str(problem.get("detail", ""))
    out = {**problem, "__type": code, "status": STATUS.get(code, status)}
    if code == "ModelError":
        side = "server" if status >= 500 else "client"
        out["message"] = f'Received {side} error ({status}) from {variant()} with message "{detail}".'
        out.update(OriginalStatusCode=status, OriginalMessage=detail)
    elif kind.endswith("unknown-endpoint") and problem.get("endpoint"):
        out["message"] = f"Endpoint {problem['endpoint']} of account {account} not found."
    return out


def control_code(status: int, problem_type: str = "") -> str:
    """The control plane's error for a problem of `status` (for problems not raised as AwsError)."""
    auth = _auth_code(status, problem_type)
    if auth is not None:
        return auth
    if status == 404:
        return "ResourceNotFound"
    if status == 409:
        return "ResourceInUse"
    if status >= 500:
        return "ServiceUnavailable" if status == 503 else "InternalFailure"
    return "ValidationException"


def _auth_code(status: int, problem_type: str) -> str | None:
    """401 (no credentials, or an unknown key) and 403 (a key without the role) as AWS names them."""
    if status == 401:
        return MISSING_TOKEN if problem_type == MISSING_CREDENTIALS else "UnrecognizedClientException"
    return "AccessDeniedException" if status == 403 else None


def control_error(problem: Problem) -> AwsError:
    """A problem raised inside the control plane (authentication's, a route's) as AWS's error."""
    code = control_code(problem.status, problem.type)
    message = MISSING_TOKEN_MESSAGE if code == MISSING_TOKEN else problem.detail
    return AwsError(code, message, problem.status if problem.status >= 500 else None)


def is_runtime_path(path: str) -> bool:
    return path == "/invocations" or (path.startswith("/endpoints/") and path.endswith("/invocations"))


def is_aws_request(scope: Scope) -> bool:
    """The runtime's paths, the control plane, and anything signed with SigV4."""
    if is_runtime_path(scope["path"]) or scope["path"] == "/":
        return True
    for name, value in scope.get("headers", ()):
        if name == b"authorization" and bytes(value).lstrip().startswith(b"AWS4-HMAC-SHA256"):
            return True
        if name == b"x-amz-target":
            return True
    return False


class AwsProtocolMiddleware:
    """For AWS-protocol requests: AWS's error type and message on every problem answer (with
    the runtime's statuses on the runtime's paths; `account` names the caller's account in its
    messages), and the invoked production variant on the runtime's answers
    (`variant_of(endpoint)`)."""

    def __init__(self, app: ASGIApp, variant_of: Any = None, account: str = "000000000000") -> None:
        self.app = app
        self.variant_of = variant_of
        self.account = account

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not is_aws_request(scope):
            await self.app(scope, receive, send)
            return
        runtime = is_runtime_path(scope["path"])
        variant = partial(_variant, scope, self.variant_of) if runtime else None
        held: Message | None = None
        chunks: list[bytes] = []
        started = False

        async def rewrite(message: Message) -> None:
            nonlocal held, started
            if message["type"] == "http.response.start":
                started = True
                if _is_problem(message):
                    held = message  # the body is rewritten once it is complete
                    return
                if runtime and message["status"] < 400:
                    message = _with_variant(message, scope, self.variant_of)
                await send(message)
                return
            if held is None:
                await send(message)
                return
            chunks.append(message.get("body", b""))
            if message.get("more_body", False):
                return
            start, body = _aws_problem(held, b"".join(chunks), variant, self.account)
            await send(start)
            await send({"type": "http.response.body", "body": body})

        try:
            await self.app(scope, receive, rewrite)
        except Exception as exc:
            # Starlette answers an unhandled exception outside every middleware, in its own
            # shape, and has the server close the connection (a reset, when the body was not
            # read, which boto3 reports as a lost connection); this one answers it in AWS's
            # (InternalFailure), logged as the service's handler logs it, and keeps the connection.
            if started:
                raise
            problem = problem_response(unexpected_problem(scope["method"], scope["path"], exc))
            head: Message = {"type": "http.response.start", "status": 500, "headers": problem.raw_headers}
            answer, body = _aws_problem(head, bytes(problem.body), variant, self.account)
            await send(answer)
            await send({"type": "http.response.body", "body": body})


def _is_problem(message: Message) -> bool:
    for name, value in message.get("headers", ()):
        if name.lower() == b"content-type":
            return bytes(value).startswith(b"application/problem+json")
    return False


def _aws_problem(
    start: Message, raw: bytes, variant: Callable[[], str] | None, account: str
) -> tuple[Message, bytes]:
    """The problem answer `start` + `raw` in AWS's shape: the runtime's (`variant` is the one
    invoked) or, with no `variant`, the control plane's code on the service's status."""
    try:
        body: dict[str, Any] = json.loads(raw)
    except ValueError:
        body = {"detail": raw.decode("utf-8", "replace")}
    status = int(start["status"])
    if variant is not None:
        body = runtime_error(body, status, account, variant)
        status = int(body["status"])
    code = body["__type"] = body.get("__type") or control_code(status)
    if code == MISSING_TOKEN:  # AWS's words: nothing about tidecast's own API keys
        body["message"] = MISSING_TOKEN_MESSAGE
    body.setdefault("message", str(body.get("detail", "")))
    if code in AUTH_CODES:  # AWS answers them 403 on the runtime too (tidecast's native 401)
        status = body["status"] = STATUS[code]
    payload = json.dumps(body).encode()
    headers = [
        (name, value)
        for name, value in start.get("headers", ())
        if name.lower() not in (b"content-length", b"www-authenticate")
    ]
    headers += [
        (b"content-length", str(len(payload)).encode()),
        (ERROR_TYPE_HEADER.lower().encode(), code.encode()),
    ]
    return {**start, "status": status, "headers": headers}, payload


def _with_variant(message: Message, scope: Scope, variant_of: Any) -> Message:
    variant = _variant(scope, variant_of)
    headers = [*message.get("headers", ()), (VARIANT_HEADER.lower().encode(), variant.encode())]
    return {**message, "headers": headers}


def _variant(scope: Scope, variant_of: Any) -> str:
    """The production variant a runtime request invoked (SageMaker's default name if none)."""
    path = scope["path"]
    state = scope.get("state") or {}
    endpoint = state.get("endpoint") or (path.split("/")[2] if path.startswith("/endpoints/") else None)
    return (variant_of(endpoint) if variant_of is not None and endpoint else None) or DEFAULT_VARIANT
