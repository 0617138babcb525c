"""What the commands share: the consoles, one-line errors and the service's settings."""

from __future__ import annotations

from typing import Any, Self

import typer
from rich.console import Console
from rich.progress import Progress

from tidecast.errors import TidecastError
from tidecast.registry.settings import ServiceSettings

console = Console(stderr=True)
out = Console()


class LiveProgress:
    """A rich `Progress` display used as a context manager by the long-running commands.

    On an error the display is made transient before it stops, so the error line is the last
    thing on the terminal, with no half-done bar left under it. On a file or a pipe (a log, a
    script capturing stderr) rich draws nothing while it runs and the final state once at the
    end, which `Progress.stop` ends with a newline; a transient display draws nothing, so after
    an error that newline would be an empty line under the error: there the live display is
    stopped without it, and the error is the last line, with nothing after it.
    """

    progress: Progress

    def __init__(self, progress: Progress) -> None:
        self.progress = progress

    def __enter__(self) -> Self:
        self.progress.start()
        return self

    def __exit__(self, exc_type: object, *exc: object) -> None:
        if exc_type is None or self.progress.disable:
            self.progress.stop()
            return
        self.progress.live.transient = True
        if self.progress.console.is_interactive:
            self.progress.stop()
        else:
            self.progress.live.stop()


def fail(message: str, code: int = 2) -> typer.Exit:
    """Print `message` as one error line on stderr; the `typer.Exit` to raise with `code`."""
    console.print(f"[bold red]error:[/] {message}", highlight=False, soft_wrap=True)
    return typer.Exit(code)


def guard(action: Any, code: int = 2) -> Any:
    """Run `action`, turning expected errors into one line and exit status `code`."""
    try:
        return action()
    except TidecastError as exc:
        raise fail(str(exc), code) from None
    except (FileNotFoundError, PermissionError, IsADirectoryError) as exc:
        raise fail(str(exc), code) from None


def service_settings(**overrides: Any) -> ServiceSettings:
    """The service's settings, from ``TIDECAST_*`` (or a `.env` file) and the command's options:
    the one place the commands read them. A command builds them once and passes them down."""
    return ServiceSettings(**overrides)
