"""API keys: who may call the service, and as what.

A key is a random 32-byte token shown once when it is created (`KeyStore.create`); the
database keeps only its SHA-256, so a leaked database holds no usable key. A 256-bit random
token needs no salt or slow hash: there is nothing to guess from its digest. Lookups go by
the digest (a unique index) and the stored digest is then compared in constant time.

A database lookup per request would cost more than answering a cached forecast, so each
process keeps the keys it has verified in a small `VerifiedKeys` cache, by digest, for a few
seconds (`KEY_CACHE_SECONDS`). Only keys found live in the database are cached (an unknown
key always goes to the database), and the key store empties the cache whenever it creates or
revokes a key, so a key revoked by this process stops working at once and one revoked by
another process (``tidecast keys revoke``, another API process) within the TTL.

Roles: ``forecast`` keys call the forecast and SageMaker runtime routes; ``admin`` keys call
everything (jobs, models, endpoints, and forecasts too). A key travels in the ``X-API-Key``
header or as ``Authorization: Bearer <key>``. ``open_mode`` turns all of this off, for a
service on a trusted network; it must be set explicitly and is logged as a warning.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from fastapi import Request
from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker
from starlette.concurrency import run_in_threadpool

from tidecast.registry.errors import Conflict, InvalidInput, NotFound
from tidecast.registry.registry import GROUP_NAME
from tidecast.registry.schema import ApiKey
from tidecast.registry.statuses import ApiKeyRole
from tidecast.service.problems import TYPE_BASE, Problem

KEY_PREFIX = "tc_"
API_KEY_HEADER = "X-API-Key"
SIGV4 = "AWS4-HMAC-SHA256"
KEY_CACHE_SECONDS = 5.0  # how long a key revoked by another process may still be accepted here
KEY_CACHE_SIZE = 1_024  # distinct live keys remembered per process; the oldest go first
# A request that carries no key and no signature at all (AWS answers it apart from a bad key:
# MissingAuthenticationTokenException, not UnrecognizedClientException).
MISSING_CREDENTIALS = TYPE_BASE + "missing-credentials"


def new_token() -> str:
    """A fresh key: the prefix (so a key is recognisable in a leak scan) and 32 random bytes."""
    return KEY_PREFIX + secrets.token_urlsafe(32)


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class Caller:
    """Who made a request: the key's name and role (``open`` mode has no key)."""

    name: str
    role: ApiKeyRole

    def may(self, role: ApiKeyRole) -> bool:
        return self.role is ApiKeyRole.ADMIN or self.role is role


OPEN_CALLER = Caller("open-mode", ApiKeyRole.ADMIN)


@dataclass(frozen=True)
class KeyInfo:
    """A stored key without its hash, for listings."""

    name: str
    role: ApiKeyRole
    created_at: datetime
    revoked: bool


class VerifiedKeys:
    """Digest -> caller of keys found live in the database, each for `ttl` seconds; at most
    `size` of them (least recently used dropped first). Thread-safe: the event loop reads it
    while a worker thread may be filling it after a database lookup.

    Keyed by the full SHA-256 of the presented token, so a token that is not exactly a
    verified key can never match an entry.
    """

    def __init__(
        self,
        ttl: float = KEY_CACHE_SECONDS,
        size: int = KEY_CACHE_SIZE,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.ttl = ttl
        self.size = size
        self._clock = clock
        self._entries: OrderedDict[str, tuple[Caller, float]] = OrderedDict()
        self._lock = threading.Lock()
        self._generation = 0

    def get(self, digest: str) -> Caller | None:
        """The caller verified for `digest` less than `ttl` seconds ago, else None."""
        with self._lock:
            entry = self._entries.get(digest)
            if entry is None:
                return None
            if entry[1] <= self._clock():
                del self._entries[digest]
                return None
            self._entries.move_to_end(digest)
            return entry[0]

    @property
    def generation(self) -> int:
        """How many times the cache was cleared: read it before a database lookup and hand it
        to `put`, so a lookup that raced with a revocation does not re-cache the key."""
        return self._generation

    def put(self, digest: str, caller: Caller, generation: int) -> None:
        if self.ttl <= 0:
            return
        with self._lock:
            if generation != self._generation:
                return
            self._entries[digest] = (caller, self._clock() + self.ttl)
            self._entries.move_to_end(digest)
            while len(self._entries) > self.size:
                self._entries.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
            self._generation += 1

    def __len__(self) -> int:
        return len(self._entries)


class KeyStore:
    """Create, find, list and revoke API keys in the `api_keys` table; `authenticate` goes
    through this process's `VerifiedKeys` cache (``cache_seconds=0`` turns it off)."""

    def __init__(self, sessions: sessionmaker[Session], cache_seconds: float = KEY_CACHE_SECONDS) -> None:
        self._sessions = sessions
        self.verified = VerifiedKeys(ttl=cache_seconds)

    def create(self, name: str, role: ApiKeyRole | str) -> str:
        """Store a new key named `name` and return the token: the only time it is seen."""
        if not isinstance(name, str) or not GROUP_NAME.match(name):
            raise InvalidInput(
                "name", f"{name!r} is not a valid key name: use letters, digits, '.', '_', '-'"
            )
        try:
            parsed_role = ApiKeyRole(role)
        except ValueError:
            raise InvalidInput(
                "role", f"unknown role {role!r}; use {', '.join(r.value for r in ApiKeyRole)}"
            ) from None
        with self._sessions.begin() as session:
            taken = session.scalar(select(ApiKey.id).where(ApiKey.name == name, ApiKey.revoked.is_(False)))
            if taken is not None:
                raise Conflict(f"a key named {name!r} already exists: revoke it first or pick another name")
            token = new_token()
            session.add(ApiKey(name=name, role=parsed_role, key_hash=hash_token(token), revoked=False))
        self.verified.clear()
        return token

    def cached(self, token: str) -> Caller | None:
        """The caller of `token` if this process verified it within the cache's TTL, else None
        (unknown, revoked, expired or never seen: ask `authenticate`). No database access."""
        return self.verified.get(hash_token(token))

    def authenticate(self, token: str) -> Caller | None:
        """The caller a token belongs to, or None for an unknown or revoked token: from the
        cache when verified recently, else from the database (and then cached)."""
        digest = hash_token(token)
        caller = self.verified.get(digest)
        if caller is None:
            generation = self.verified.generation
            caller = self._lookup(digest)
            if caller is not None:
                self.verified.put(digest, caller, generation)
        return caller

    def _lookup(self, digest: str) -> Caller | None:
        with self._sessions() as session:
            row = session.execute(
                select(ApiKey.name, ApiKey.role, ApiKey.key_hash).where(
                    ApiKey.key_hash == digest, ApiKey.revoked.is_(False)
                )
            ).one_or_none()
        if row is None or not hmac.compare_digest(row.key_hash, digest):
            return None
        return Caller(row.name, ApiKeyRole(row.role))

    def list(self) -> list[KeyInfo]:
        with self._sessions() as session:
            rows = session.scalars(select(ApiKey).order_by(ApiKey.name, ApiKey.id)).all()
            return [KeyInfo(r.name, r.role, r.created_at, bool(r.revoked)) for r in rows]

    def revoke(self, name: str) -> int:
        """Revoke every live key named `name`; returns how many were revoked."""
        with self._sessions.begin() as session:
            result = session.execute(
                update(ApiKey).where(ApiKey.name == name, ApiKey.revoked.is_(False)).values(revoked=True)
            )
        self.verified.clear()  # after the commit: no request can re-cache the key from the database
        count = int(getattr(result, "rowcount", 0) or 0)
        if count == 0:
            raise NotFound("api key", name)
        return count


def token_from(request: Request) -> str | None:
    """The key sent with `request`: ``X-API-Key``, else a Bearer token (other schemes, such as
    the SigV4 signature boto3 adds, are not keys and are ignored)."""
    key = request.headers.get(API_KEY_HEADER)
    if key:
        return key.strip()
    authorization = request.headers.get("Authorization", "")
    scheme, _, credentials = authorization.partition(" ")
    if scheme.lower() == "bearer" and credentials.strip():
        return credentials.strip()
    return None


class SignatureCheck(Protocol):
    """Who signed a request with SigV4 (`tidecast.service.aws.credentials.SignatureAuth`)."""

    async def caller(self, request: Request) -> Caller: ...


class Authenticator:
    """Checks the caller's key against a role (or nothing in open mode), for the FastAPI
    dependencies of `tidecast.service.dependencies`.

    A request signed with AWS SigV4 (``Authorization: AWS4-HMAC-SHA256 ...``, what boto3 and
    the AWS CLI send) is checked by `signatures` when one is installed, and its credential's
    role stands for the key's; an ``X-API-Key`` sent beside it is what is checked instead (a
    script that adds its key to boto3's requests signed with placeholder credentials).

    The checks are coroutines: a key verified recently is checked on the event loop
    (a digest and a dictionary lookup), and only a database lookup goes to a thread. A plain
    function dependency would cost every request a thread-pool round trip.
    """

    def __init__(self, keys: KeyStore, open_mode: bool, signatures: SignatureCheck | None = None) -> None:
        self.keys = keys
        self.open_mode = open_mode
        self.signatures = signatures

    async def caller(self, request: Request) -> Caller:
        if self.open_mode:
            return OPEN_CALLER
        signed = request.headers.get("Authorization", "").startswith(SIGV4)
        if self.signatures is not None and signed and not request.headers.get(API_KEY_HEADER):
            return await self.signatures.caller(request)  # an X-API-Key, when sent too, decides
        token = token_from(request)
        if token is None:
            raise Problem(
                401,
                "Unauthorized",
                f"send an API key in the {API_KEY_HEADER} header or as 'Authorization: Bearer <key>'",
                type_=MISSING_CREDENTIALS,
            )
        found = self.keys.cached(token)
        if found is None:
            found = await run_in_threadpool(self.keys.authenticate, token)
        if found is None:
            raise _unauthorized("the API key is unknown or revoked")
        return found

    async def admit(self, request: Request, role: ApiKeyRole) -> Caller:
        """The caller of `request` if its key has `role` (admins are admitted everywhere); 401
        without a valid key (of type `MISSING_CREDENTIALS` when it sent none), 403 with a key of
        another role."""
        caller = await self.caller(request)
        if not caller.may(role):
            raise Problem(
                403,
                "Forbidden",
                f"the key {caller.name!r} has the {caller.role.value!r} role; this needs {role.value!r}",
                type_=TYPE_BASE + "forbidden",
            )
        request.state.caller = caller.name
        return caller


def _unauthorized(detail: str) -> Problem:
    return Problem(401, "Unauthorized", detail, type_=TYPE_BASE + "unauthorized")
