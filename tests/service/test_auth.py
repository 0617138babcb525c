"""API keys and the per-process cache of verified keys: a cached key costs no database
lookup, a wrong key is never accepted, and a revoked key stops working at once in the process
that revoked it and within the cache's TTL everywhere else.

Runs on SQLite, and on PostgreSQL too when TIDECAST_TEST_DATABASE_URL is set (conftest).
"""

from __future__ import annotations

import pytest

from tidecast.registry.db import Database
from tidecast.registry.statuses import ApiKeyRole
from tidecast.service.auth import Caller, KeyStore, VerifiedKeys, hash_token

TTL = 5.0


class Clock:
    """A monotonic clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


class CountingKeyStore(KeyStore):
    """A key store that counts its database lookups."""

    lookups = 0

    def _lookup(self, digest: str) -> Caller | None:
        self.lookups += 1
        return super()._lookup(digest)


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def store(database: Database, clock: Clock) -> CountingKeyStore:
    keys = CountingKeyStore(database.sessions)
    keys.verified = VerifiedKeys(ttl=TTL, clock=clock)
    return keys


def test_when_a_key_was_verified_then_it_is_answered_without_the_database(store: CountingKeyStore) -> None:
    token = store.create("shop", ApiKeyRole.FORECAST)
    assert store.cached(token) is None
    assert store.authenticate(token) == Caller("shop", ApiKeyRole.FORECAST)
    assert store.lookups == 1
    for _ in range(3):
        assert store.authenticate(token) == Caller("shop", ApiKeyRole.FORECAST)
        assert store.cached(token) == Caller("shop", ApiKeyRole.FORECAST)
    assert store.lookups == 1


def test_when_a_token_is_not_exactly_a_cached_key_then_it_is_refused(store: CountingKeyStore) -> None:
    token = store.create("shop", ApiKeyRole.FORECAST)
    assert store.authenticate(token) is not None
    last = token[-1]
    variants = [
        token[:-1],
        token + "A",
        token[:-1] + ("B" if last != "B" else "C"),
        token.upper(),
        " " + token,
        hash_token(token),  # the stored digest itself is not a key
        "",
    ]
    for wrong in variants:
        assert store.cached(wrong) is None, wrong
        assert store.authenticate(wrong) is None, wrong
    assert len(store.verified) == 1  # unknown tokens are never cached
    assert store.lookups == 1 + len(variants)  # each wrong token went to the database


def test_when_a_key_is_revoked_in_this_process_then_it_is_refused_at_once(
    store: CountingKeyStore,
) -> None:
    token = store.create("shop", ApiKeyRole.FORECAST)
    other = store.create("ops", ApiKeyRole.ADMIN)
    assert store.authenticate(token) is not None and store.authenticate(other) is not None
    assert store.revoke("shop") == 1
    assert store.cached(token) is None
    assert store.authenticate(token) is None
    assert store.authenticate(other) == Caller("ops", ApiKeyRole.ADMIN)  # still valid, looked up again


def test_when_another_process_revokes_a_key_then_it_is_refused_once_the_ttl_has_passed(
    store: CountingKeyStore, database: Database, clock: Clock
) -> None:
    token = store.create("shop", ApiKeyRole.FORECAST)
    assert store.authenticate(token) is not None
    KeyStore(database.sessions).revoke("shop")  # what `tidecast keys revoke` does, elsewhere
    clock.now += TTL - 0.5
    assert store.authenticate(token) == Caller("shop", ApiKeyRole.FORECAST)  # the documented bound
    clock.now += 0.5
    assert store.authenticate(token) is None
    assert store.cached(token) is None


def test_when_a_lookup_races_with_a_revocation_then_its_answer_is_not_cached(clock: Clock) -> None:
    verified = VerifiedKeys(ttl=TTL, clock=clock)
    caller = Caller("shop", ApiKeyRole.FORECAST)
    started = verified.generation  # a database lookup starts...
    verified.clear()  # ...a revocation commits and clears the cache...
    verified.put("digest", caller, started)  # ...and the lookup's (stale) answer arrives
    assert verified.get("digest") is None
    verified.put("digest", caller, verified.generation)
    assert verified.get("digest") == caller


def test_the_cache_keeps_the_most_recently_used_keys_and_expires_them(clock: Clock) -> None:
    verified = VerifiedKeys(ttl=TTL, size=2, clock=clock)
    callers = {name: Caller(name, ApiKeyRole.FORECAST) for name in ("a", "b", "c")}
    verified.put("a", callers["a"], verified.generation)
    verified.put("b", callers["b"], verified.generation)
    assert verified.get("a") == callers["a"]  # "a" is now the most recently used
    verified.put("c", callers["c"], verified.generation)
    assert len(verified) == 2
    assert verified.get("b") is None
    assert verified.get("a") == callers["a"] and verified.get("c") == callers["c"]
    clock.now += TTL
    assert verified.get("a") is None and verified.get("c") is None
    assert len(verified) == 0


def test_when_the_ttl_is_zero_then_every_request_goes_to_the_database(database: Database) -> None:
    keys = CountingKeyStore(database.sessions, cache_seconds=0)
    token = keys.create("shop", ApiKeyRole.FORECAST)
    for _ in range(3):
        assert keys.authenticate(token) == Caller("shop", ApiKeyRole.FORECAST)
    assert keys.lookups == 3 and len(keys.verified) == 0
