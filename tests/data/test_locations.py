"""The data-location policy: every way out of the data root found so far, refused.

Each bypass is tried at the function level here; tests/service/test_location_policy_http.py
sends the same ones through the real HTTP API (job submission and batch) and gets 422s.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from location_bypasses import BYPASSES, data_root_with_links_out, fill
from tidecast.data.locations import LocationPolicy, LocationRefused, check_location, check_locations


@pytest.fixture
def root(tmp_path: Path) -> Path:
    return data_root_with_links_out(tmp_path)


@pytest.mark.parametrize("template", BYPASSES)
def test_when_a_location_leaves_the_data_root_then_it_is_refused(root: Path, template: str) -> None:
    policy = LocationPolicy.of([root], root)
    with pytest.raises(LocationRefused):
        check_location(fill(template, root), policy)


@pytest.mark.parametrize(
    "template",
    ["local:///etc/passwd", "simplecache::file:///etc/passwd", "http://127.0.0.1:1/x", "file://otherhost/x"],
)
def test_when_nothing_is_confined_then_protocols_are_still_refused(root: Path, template: str) -> None:
    with pytest.raises(LocationRefused):
        check_location(fill(template, root), LocationPolicy())


def test_when_a_location_is_inside_then_it_becomes_a_plain_resolved_path(root: Path) -> None:
    policy = LocationPolicy.of([root], root)
    good = str(root.resolve() / "good.csv")
    assert check_location("good.csv", policy) == good
    assert check_location(good, policy) == good
    assert check_location(f"file://{root}/good.csv", policy) == good
    assert check_location(f"file://localhost{root}/good.csv", policy) == good
    assert check_location("s3://bucket/key/", policy) == str(root.resolve() / "bucket" / "key") + "/"
    assert check_location("*.csv", policy) == str(root.resolve() / "*.csv")
    assert check_locations(["good.csv", "s3://b/k.csv"], policy)[1] == str(root.resolve() / "b" / "k.csv")
    with pytest.raises(LocationRefused, match="points outside"):
        check_locations(["good.csv", "../x.csv"], policy)


def test_when_nothing_is_confined_then_paths_and_object_stores_pass_as_given() -> None:
    policy = LocationPolicy()
    assert check_location("/any/where.csv", policy) == "/any/where.csv"
    assert check_location("s3://bucket/x.csv", policy) == "s3://bucket/x.csv"
    assert check_location("file:///any/where%20else.csv", policy) == "/any/where else.csv"


def test_when_a_url_prefix_is_configured_then_only_urls_below_it_pass(root: Path) -> None:
    policy = LocationPolicy.of([root], None, ["https://exports.example/daily", "s3://lake/in/"])
    assert check_location("https://exports.example/daily/x.csv", policy) == (
        "https://exports.example/daily/x.csv"
    )
    assert check_location("s3://lake/in/a/b.parquet", policy) == "s3://lake/in/a/b.parquet"
    for refused in [
        "https://exports.example/dailyx/x.csv",  # a sibling sharing the prefix's letters
        "https://exports.example/daily/../admin",
        "https://exports.example/daily/%2e%2e/admin",
        "https://exports.example@evil.example/daily/x.csv",
        "https://exports.example/daily/x.csv?redirect=1",
        "http://exports.example/daily/x.csv",  # http where https was allowed
        "s3://lake/out/x.csv",
        "s3://bucket/x.csv",  # no s3_root to map it onto
    ]:
        with pytest.raises(LocationRefused):
            check_location(refused, policy)


def test_when_only_urls_are_allowed_then_local_files_are_refused() -> None:
    policy = LocationPolicy.of([], None, ["s3://lake/in/"])
    with pytest.raises(LocationRefused, match="reads local files only below its data root"):
        check_location("/tmp/x.csv", policy)
