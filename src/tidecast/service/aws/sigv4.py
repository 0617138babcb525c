"""AWS Signature Version 4, verified: what boto3 and the AWS CLI put in ``Authorization``.

A signed request carries ``Authorization: AWS4-HMAC-SHA256 Credential=<key id>/<yyyymmdd>/
<region>/<service>/aws4_request, SignedHeaders=<a;b;c>, Signature=<hex>`` and an ``X-Amz-Date``.
The verifier rebuilds what the client signed from the request as received, following AWS's
published algorithm:

1. the canonical request: method, canonical URI (the path as sent, dot segments removed, each
   byte outside ``A-Za-z0-9-_.~/`` percent-encoded once more, as botocore does for every
   service but S3), canonical query (names and values percent-encoded, sorted), each signed
   header ``name:value`` (lower-case name, value trimmed with runs of spaces collapsed,
   repeated headers joined by commas), the signed header names, and the body's SHA-256;
2. the string to sign: the algorithm, the request time, the credential scope and the
   canonical request's SHA-256;
3. the signing key: HMAC-SHA256 chained over ``"AWS4" + secret``, the date, region, service
   and ``aws4_request``; the signature is that key's HMAC of the string to sign, compared in
   constant time.

The checks before any HMAC give the reason AWS gives: a request time more than
`MAX_SKEW` from the server's clock, a scope date that is not the request's date, a scope
for another region or service, a signed header list without ``host``. Everything here is a
pure function of the request's parts, so it is tested against botocore's own signer.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from posixpath import normpath
from urllib.parse import quote, unquote

ALGORITHM = "AWS4-HMAC-SHA256"
MAX_SKEW = timedelta(minutes=15)
AMZ_DATE_FORMAT = "%Y%m%dT%H%M%SZ"

_AUTHORIZATION = re.compile(
    r"^AWS4-HMAC-SHA256\s+Credential=(?P<credential>[^,\s]+)\s*,\s*"
    r"SignedHeaders=(?P<headers>[^,\s]+)\s*,\s*Signature=(?P<signature>[0-9a-fA-F]{64})\s*$"
)


class SignatureError(Exception):
    """A signature that does not verify; `code` is AWS's error code for the reason."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass(frozen=True)
class SignedRequest:
    """The parts of a request a signature covers, as received."""

    method: str
    raw_path: str  # percent-encoded, as on the request line
    query: str  # the raw query string, without "?"
    headers: Sequence[tuple[str, str]]  # every header, in order, names in any case
    body: bytes


@dataclass(frozen=True)
class Credential:
    """The parsed ``Authorization`` header."""

    access_key_id: str
    date: str
    region: str
    service: str
    signed_headers: tuple[str, ...]
    signature: str

    @property
    def scope(self) -> str:
        return f"{self.date}/{self.region}/{self.service}/aws4_request"


def is_signed(authorization: str | None) -> bool:
    """Whether an ``Authorization`` header value claims a SigV4 signature."""
    return bool(authorization) and authorization.lstrip().startswith(ALGORITHM)  # type: ignore[union-attr]


def parse_authorization(value: str) -> Credential:
    match = _AUTHORIZATION.match(value.strip())
    if match is None:
        raise SignatureError(
            "IncompleteSignatureException",
            "Authorization header requires 'Credential', 'SignedHeaders' and 'Signature' parameters",
        )
    parts = match["credential"].split("/")
    if len(parts) != 5 or parts[4] != "aws4_request" or not all(parts):
        raise SignatureError(
            "IncompleteSignatureException",
            f"Credential should be <key id>/<date>/<region>/<service>/aws4_request, got {match['credential']!r}",
        )
    key, date, region, service, _ = parts
    names = tuple(match["headers"].lower().split(";"))
    return Credential(key, date, region, service, names, match["signature"].lower())


def verify(
    request: SignedRequest,
    secret_of: Callable[[str], str | None],
    region: str,
    service: str,
    now: datetime | None = None,
) -> Credential:
    """The request's credential when its signature verifies; `SignatureError` otherwise.

    `secret_of` maps an access key id to its secret (None: unknown or revoked); `region` and
    `service` are the scope this server answers for.
    """
    headers = _header_map(request.headers)
    credential = parse_authorization(headers.get("authorization", ""))
    amz_date = headers.get("x-amz-date", "")
    try:
        signed_at = datetime.strptime(amz_date, AMZ_DATE_FORMAT).replace(tzinfo=UTC)
    except ValueError:
        raise SignatureError(
            "IncompleteSignatureException",
            f"X-Amz-Date must be a time such as 20240101T120000Z, got {amz_date!r}",
        ) from None
    clock = now or datetime.now(UTC)
    if abs(clock - signed_at) > MAX_SKEW:
        raise SignatureError(
            "InvalidSignatureException",
            f"Signature expired: {amz_date} is more than {int(MAX_SKEW.total_seconds() // 60)} minutes "
            f"from the server's time {clock.strftime(AMZ_DATE_FORMAT)}",
        )
    if credential.date != amz_date[:8]:
        raise SignatureError(
            "InvalidSignatureException",
            f"Credential should be scoped to the request's date {amz_date[:8]}, not '{credential.date}'",
        )
    if credential.region != region:
        raise SignatureError(
            "InvalidSignatureException",
            f"Credential should be scoped to a valid region: this service answers for '{region}', "
            f"not '{credential.region}' (set the client's region to '{region}')",
        )
    if credential.service != service:
        raise SignatureError(
            "InvalidSignatureException",
            f"Credential should be scoped to correct service: '{service}', not '{credential.service}'",
        )
    if "host" not in credential.signed_headers:
        raise SignatureError("InvalidSignatureException", "the Host header must be signed")
    if "x-amz-security-token" in headers:
        raise SignatureError(
            "UnrecognizedClientException",
            "The security token included in the request is invalid: tidecast issues long-term keys only",
        )
    secret = secret_of(credential.access_key_id)
    if secret is None:
        raise SignatureError(
            "UnrecognizedClientException", "The security token included in the request is invalid."
        )
    canonical = canonical_request(request, credential.signed_headers, headers)
    expected = signature(secret, credential, amz_date, canonical)
    if not hmac.compare_digest(expected, credential.signature):
        raise SignatureError(
            "InvalidSignatureException",
            "The request signature we calculated does not match the signature you provided. "
            "Check your AWS Secret Access Key and signing method.",
        )
    return credential


def signature(secret: str, credential: Credential, amz_date: str, canonical: str) -> str:
    string_to_sign = "\n".join(
        (ALGORITHM, amz_date, credential.scope, hashlib.sha256(canonical.encode()).hexdigest())
    )
    key = signing_key(secret, credential.date, credential.region, credential.service)
    return hmac.new(key, string_to_sign.encode(), hashlib.sha256).hexdigest()


def signing_key(secret: str, date: str, region: str, service: str) -> bytes:
    key = ("AWS4" + secret).encode()
    for part in (date, region, service, "aws4_request"):
        key = hmac.new(key, part.encode(), hashlib.sha256).digest()
    return key


def canonical_request(
    request: SignedRequest, signed_headers: Sequence[str], headers: dict[str, str] | None = None
) -> str:
    values = headers if headers is not None else _header_map(request.headers)
    missing = [name for name in signed_headers if name not in values]
    if missing:
        raise SignatureError(
            "InvalidSignatureException", f"signed header(s) {missing} are not in the request"
        )
    lines = "".join(f"{name}:{values[name]}\n" for name in sorted(signed_headers))
    return "\n".join(
        (
            request.method.upper(),
            canonical_uri(request.raw_path),
            canonical_query(request.query),
            lines,
            ";".join(sorted(signed_headers)),
            hashlib.sha256(request.body).hexdigest(),
        )
    )


def canonical_uri(raw_path: str) -> str:
    """The path as botocore signs it: dot segments removed, then percent-encoded once more."""
    path = raw_path or "/"
    normalized = normpath(path) if path != "/" else path
    if normalized.startswith("//"):  # normpath keeps a leading "//" (POSIX), URIs do not
        normalized = "/" + normalized.lstrip("/")
    if path.endswith("/") and not normalized.endswith("/"):
        normalized += "/"
    return quote(normalized, safe="/~")


def canonical_query(query: str) -> str:
    pairs = []
    for part in query.split("&") if query else ():
        name, _, value = part.partition("=")
        pairs.append((_encode(unquote(name.replace("+", " "))), _encode(unquote(value.replace("+", " ")))))
    return "&".join(f"{name}={value}" for name, value in sorted(pairs))


def _encode(text: str) -> str:
    return quote(text, safe="-_.~")


def _header_map(headers: Sequence[tuple[str, str]]) -> dict[str, str]:
    """Lower-case name -> canonical value (trimmed, inner runs of spaces collapsed; repeats
    joined by commas, in order)."""
    out: dict[str, list[str]] = {}
    for name, value in headers:
        out.setdefault(name.lower(), []).append(" ".join(value.split()))
    return {name: ",".join(values) for name, values in out.items()}
