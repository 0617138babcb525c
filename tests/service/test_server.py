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


def test_when_the_port_is_busy_then_serve_fails_before_claiming_to_serve(
    tmp_path, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    import logging
    import socket

    from tidecast.errors import ConfigError
    from tidecast.registry.settings import ServiceSettings
    from tidecast.service import server

    started: list[str] = []
    monkeypatch.setattr(server.WorkerPool, "start", lambda self: started.append("workers"))
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        settings = ServiceSettings(home=tmp_path / "home", host="127.0.0.1", port=port)
        with caplog.at_level(logging.INFO, logger="tidecast.server"), pytest.raises(ConfigError) as caught:
            server.serve(settings)
    assert f"cannot listen on 127.0.0.1:{port}" in str(caught.value)
    assert "serving on" not in caplog.text and started == []
    assert not (tmp_path / "home").exists()  # failed before the database was opened
