"""`tidecast serve`'s choice of uvicorn's event loop and HTTP parser."""

from __future__ import annotations

import sys

import pytest

from tidecast.service.server import event_loop_and_http


def test_when_uvloop_and_httptools_are_installed_then_the_server_uses_them() -> None:
    pytest.importorskip("uvloop")
    pytest.importorskip("httptools")
    assert event_loop_and_http() == ("uvloop", "httptools")


@pytest.mark.parametrize(
    ("missing", "expected"),
    [
        (("uvloop",), ("asyncio", "httptools")),
        (("httptools",), ("uvloop", "h11")),
        (("uvloop", "httptools"), ("asyncio", "h11")),
    ],
)
def test_when_one_is_missing_then_the_server_falls_back_to_the_pure_python_one(
    monkeypatch: pytest.MonkeyPatch, missing: tuple[str, ...], expected: tuple[str, str]
) -> None:
    pytest.importorskip("uvloop")
    pytest.importorskip("httptools")
    for name in missing:
        monkeypatch.setitem(sys.modules, name, None)  # `import name` now raises ImportError
    assert event_loop_and_http() == expected
