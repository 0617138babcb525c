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


@pytest.mark.parametrize(
    ("url", "said"),
    [
        ("postgresql+psycopg://ops:secret@127.0.0.1:{port}/tidecast", "cannot open the database"),
        ("not a url", "TIDECAST_DATABASE_URL is not a database URL"),
    ],
    ids=["nothing-listening", "unparsable"],
)
def test_when_the_database_url_is_wrong_then_serve_fails_with_one_line_and_frees_the_port(
    tmp_path, monkeypatch: pytest.MonkeyPatch, url: str, said: str
) -> None:
    """Was SQLAlchemy's traceback (40 lines ending in 'Background on this error at ...')."""
    import socket

    from live_service import free_port
    from tidecast.errors import ConfigError
    from tidecast.registry.settings import ServiceSettings
    from tidecast.service import server

    started: list[str] = []
    monkeypatch.setattr(server.WorkerPool, "start", lambda self: started.append("workers"))
    port, closed = free_port(), free_port()  # `closed`: a loopback port nothing listens on
    settings = ServiceSettings(
        home=tmp_path / "home", host="127.0.0.1", port=port, database_url=url.format(port=closed)
    )
    with pytest.raises(ConfigError) as caught:
        server.serve(settings)
    message = str(caught.value)
    assert said in message and "\n" not in message and "secret" not in message, message
    assert started == []
    with socket.socket() as again:
        again.bind(("127.0.0.1", port))  # the service let its port go
