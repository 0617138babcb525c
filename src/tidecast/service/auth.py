"""API keys: who may call the service, and as what.

A key is a random 32-byte token shown once when it is created (`KeyStore.create`); the
database keeps only its SHA-256, so a leaked database holds no usable key. A 256-bit random
token needs no salt or slow hash: there is nothing to guess from its digest. Lookups go by
the digest (a unique index) and the stored digest is then compared in constant time.

Roles: ``forecast`` keys call the forecast and SageMaker runtime routes; ``admin`` keys call
everything (jobs, models, endpoints, and forecasts too). A key travels in the ``X-API-Key``
header or as ``Authorization: Bearer <key>``. ``open_mode`` turns all of this off, for a
service on a trusted network; it must be set explicitly and is logged as a warning.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from fastapi import Request
from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from tidecast.service.errors import Conflict, InvalidInput, NotFound
from tidecast.service.problems import TYPE_BASE, Problem
from tidecast.service.registry import GROUP_NAME
from tidecast.service.schema import ApiKey, ApiKeyRole

KEY_PREFIX = "tc_"
API_KEY_HEADER = "X-API-Key"


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


class KeyStore:
    """Create, find, list and revoke API keys in the `api_keys` table."""

    def __init__(self, sessions: sessionmaker[Session]) -> None:
        self._sessions = sessions

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
        return token

    def authenticate(self, token: str) -> Caller | None:
        """The caller a token belongs to, or None for an unknown or revoked token."""
        digest = hash_token(token)
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


class Authenticator:
    """FastAPI dependencies checking the caller's key against a role (or nothing in open mode)."""

    def __init__(self, keys: KeyStore, open_mode: bool) -> None:
        self.keys = keys
        self.open_mode = open_mode

    def caller(self, request: Request) -> Caller:
        if self.open_mode:
            return OPEN_CALLER
        token = token_from(request)
        if token is None:
            raise _unauthorized(
                f"send an API key in the {API_KEY_HEADER} header or as 'Authorization: Bearer <key>'"
            )
        found = self.keys.authenticate(token)
        if found is None:
            raise _unauthorized("the API key is unknown or revoked")
        return found

    def require(self, role: ApiKeyRole) -> Callable[[Request], Caller]:
        """A dependency admitting callers with `role` (admins are admitted everywhere)."""

        def dependency(request: Request) -> Caller:
            caller = self.caller(request)
            if not caller.may(role):
                raise Problem(
                    403,
                    "Forbidden",
                    f"the key {caller.name!r} has the {caller.role.value!r} role; this needs {role.value!r}",
                    type_=TYPE_BASE + "forbidden",
                )
            request.state.caller = caller.name
            return caller

        return dependency


def _unauthorized(detail: str) -> Problem:
    return Problem(401, "Unauthorized", detail, type_=TYPE_BASE + "unauthorized")
