"""AWS-style credentials: access key pairs tidecast issues, and the SigV4 check of a request.

`tidecast keys create-aws NAME --role admin` issues a pair (an access key id starting with
``TCAK`` and a 40-character secret), bound to a role like an API key: the pair goes into
``aws configure`` and boto3 or the AWS CLI sign their requests with it; `SignatureAuth`
verifies them (`sigv4.verify`) and answers who called.

Why the secret is stored recoverably: an API key is checked by hashing what the client
sends, but a SigV4 request carries no secret, only an HMAC keyed by a key derived from the
secret and the day; the server can check it only by computing the same HMAC, so it needs the
secret itself (AWS keeps its own secret keys recoverably for the same reason). It is kept as
issued in ``aws_credentials``, never logged or listed: the database (``{home}/tidecast.db`` by
default, under the home's permissions) is as sensitive as the credentials in it, and
revoking a pair (`revoke`) is how one that leaked is stopped.

Verified secrets are cached per process for `KEY_CACHE_SECONDS`, like API keys: the cache is
emptied whenever this process issues or revokes one, and a pair revoked by another process
stops working within the TTL.
"""

from __future__ import annotations

import secrets
import string
import threading
import time
from dataclasses import dataclass
from datetime import datetime

from fastapi import Request
from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker
from starlette.concurrency import run_in_threadpool

from tidecast.registry.errors import Conflict, InvalidInput, NotFound
from tidecast.registry.registry import GROUP_NAME
from tidecast.registry.schema import AwsCredential
from tidecast.registry.statuses import ApiKeyRole
from tidecast.service.auth import KEY_CACHE_SECONDS, Caller
from tidecast.service.aws.errors import AwsError
from tidecast.service.aws.sigv4 import SignatureError, SignedRequest, verify

ACCESS_KEY_PREFIX = "TCAK"
SIGNING_SERVICE = "sagemaker"  # the signing name of both the control plane and the runtime
_KEY_ALPHABET = string.ascii_uppercase + string.digits
# Secrets: letters and digits only. URL-safe base64 began one secret in 64 with "-", which the
# AWS CLI (`aws configure set aws_secret_access_key VALUE`) and shells read as an option.
_SECRET_ALPHABET = string.ascii_letters + string.digits
SECRET_LENGTH = 40  # as AWS's own; 62**40 is about 2**238


def _random_text(alphabet: str, length: int) -> str:
    """`length` characters drawn from `alphabet` by the operating system's secure generator."""
    return "".join(secrets.choice(alphabet) for _ in range(length))


@dataclass(frozen=True)
class IssuedCredential:
    """A new pair: the only time the secret is shown."""

    name: str
    role: ApiKeyRole
    access_key_id: str
    secret_access_key: str


@dataclass(frozen=True)
class CredentialInfo:
    name: str
    role: ApiKeyRole
    access_key_id: str
    created_at: datetime
    revoked: bool


class CredentialStore:
    """Issue, find, list and revoke credential pairs in ``aws_credentials``."""

    def __init__(self, sessions: sessionmaker[Session], cache_seconds: float = KEY_CACHE_SECONDS) -> None:
        self._sessions = sessions
        self._ttl = cache_seconds
        self._cache: dict[str, tuple[str, Caller, float]] = {}
        self._lock = threading.Lock()

    def create(self, name: str, role: ApiKeyRole | str) -> IssuedCredential:
        if not isinstance(name, str) or not GROUP_NAME.match(name):
            raise InvalidInput("name", f"{name!r} is not a valid name: use letters, digits, '.', '_', '-'")
        try:
            parsed = ApiKeyRole(role)
        except ValueError:
            raise InvalidInput(
                "role", f"unknown role {role!r}; use {', '.join(r.value for r in ApiKeyRole)}"
            ) from None
        key_id = ACCESS_KEY_PREFIX + _random_text(_KEY_ALPHABET, 16)
        secret = _random_text(_SECRET_ALPHABET, SECRET_LENGTH)
        with self._sessions.begin() as session:
            taken = session.scalar(
                select(AwsCredential.access_key_id).where(
                    AwsCredential.name == name, AwsCredential.revoked.is_(False)
                )
            )
            if taken is not None:
                raise Conflict(f"AWS credentials named {name!r} already exist ({taken}): revoke them first")
            session.add(
                AwsCredential(access_key_id=key_id, name=name, role=parsed, secret=secret, revoked=False)
            )
        self.clear()
        return IssuedCredential(name, parsed, key_id, secret)

    def list(self) -> list[CredentialInfo]:
        with self._sessions() as session:
            rows = session.scalars(select(AwsCredential).order_by(AwsCredential.name)).all()
            return [
                CredentialInfo(r.name, r.role, r.access_key_id, r.created_at, bool(r.revoked)) for r in rows
            ]

    def revoke(self, name_or_key_id: str) -> int:
        """Revoke the live pairs with this name or access key id; how many were revoked."""
        with self._sessions.begin() as session:
            result = session.execute(
                update(AwsCredential)
                .where(
                    (AwsCredential.name == name_or_key_id) | (AwsCredential.access_key_id == name_or_key_id),
                    AwsCredential.revoked.is_(False),
                )
                .values(revoked=True)
            )
        self.clear()
        count = int(getattr(result, "rowcount", 0) or 0)
        if count == 0:
            raise NotFound("AWS credentials", name_or_key_id)
        return count

    def find(self, access_key_id: str) -> tuple[str, Caller] | None:
        """(secret, caller) of a live pair, from the cache when looked up recently."""
        now = time.monotonic()
        with self._lock:
            hit = self._cache.get(access_key_id)
            if hit is not None and hit[2] > now:
                return hit[0], hit[1]
        with self._sessions() as session:
            row = session.get(AwsCredential, access_key_id)
            if row is None or row.revoked:
                return None
            found = (row.secret, Caller(row.name, ApiKeyRole(row.role)))
        if self._ttl > 0:
            with self._lock:
                self._cache[access_key_id] = (*found, now + self._ttl)
        return found

    def clear(self) -> None:
        with self._lock:
            self._cache.clear()


class SignatureAuth:
    """The caller of a SigV4-signed request, for `Authenticator` (`AwsError` 403 when the
    signature does not verify, naming why)."""

    def __init__(self, store: CredentialStore, region: str) -> None:
        self.store = store
        self.region = region

    async def caller(self, request: Request) -> Caller:
        body = await request.body()
        headers = [(k.decode("latin-1"), v.decode("latin-1")) for k, v in request.scope["headers"]]
        signed = SignedRequest(
            method=request.method,
            raw_path=request.scope.get("raw_path", request.url.path.encode()).decode("latin-1").split("?")[0],
            query=request.scope.get("query_string", b"").decode("latin-1"),
            headers=headers,
            body=body,
        )
        found: dict[str, Caller] = {}

        def secret_of(key_id: str) -> str | None:
            entry = self.store.find(key_id)
            if entry is None:
                return None
            found["caller"] = entry[1]
            return entry[0]

        try:
            await run_in_threadpool(verify, signed, secret_of, self.region, SIGNING_SERVICE)
        except SignatureError as exc:
            raise AwsError(exc.code, exc.message) from None
        return found["caller"]
