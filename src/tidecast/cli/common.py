"""What the commands share: the consoles, one-line errors and the service's settings."""

from __future__ import annotations

from typing import Any, Self

import typer
from rich.console import Console
from rich.progress import Progress

from tidecast.errors import TidecastError
from tidecast.registry.errors import NotFound
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


# How a user lists the names of each kind a lookup can miss (`NotFound.kind`; the API sends it
# as a slug). Naming one that does not exist is the user's input error: exit 2, and the line
# says where the existing ones are. A kind left out (a model artifact missing from the store)
# is a failure of the store, not of the input, and keeps the command's own status.
LISTED_BY = {
    "endpoint": "`tidecast endpoints list` shows them",
    "model group": "`tidecast models list` shows them",
    "model version": "`tidecast models show {name}` shows its versions",
    "approved model version": "`tidecast models show {name}` shows its versions",
    "job": "`tidecast jobs list` shows them",
    "batch job": "`tidecast jobs list` shows them",
    "api key": "`tidecast keys list` shows them",
    "aws credentials": "`tidecast keys list` shows them",
    "active api key or aws credentials": "`tidecast keys list` shows them",
    "alert rule": "GET /v1/alerts/rules lists them",
    "challenger": "`tidecast endpoints challenge {name} --version V` attaches one",
    "active challenger": "`tidecast endpoints challenger {name}` shows its state",
    "run, model or endpoint": "`tidecast jobs list`, `tidecast models list` and `tidecast endpoints list` "
    "show them",
    "model version id": "",
    "model folder": "",
}


def not_found_line(kind: str, name: str, text: str) -> str | None:
    """`text` (the lookup's message) and where to list what exists, for a `kind` of name the user
    gives; None for any other kind. `name` is the name looked up (``sales/3`` for a version)."""
    listed = LISTED_BY.get(kind.replace("-", " ").lower())
    if listed is None:
        return None
    return f"{text}; {listed.format(name=name.split('/')[0])}" if listed else text


def failure(exc: TidecastError, code: int = 1) -> typer.Exit:
    """The one error line and the `typer.Exit` for an expected error: 2 for a name the user gave
    that does not exist, `code` for the rest. Every command maps its errors here."""
    if isinstance(exc, NotFound):
        line = not_found_line(exc.kind, exc.name, str(exc))
        if line is not None:
            return fail(line, 2)
    return fail(str(exc), code)


def guard(action: Any, code: int = 2) -> Any:
    """Run `action`, turning expected errors into one line and exit status `code` (`failure`)."""
    try:
        return action()
    except TidecastError as exc:
        raise failure(exc, code) from None
    except (FileNotFoundError, PermissionError, IsADirectoryError) as exc:
        raise fail(str(exc), code) from None


def service_settings(**overrides: Any) -> ServiceSettings:
    """The service's settings, from ``TIDECAST_*`` (or a `.env` file) and the command's options:
    the one place the commands read them. A command builds them once and passes them down."""
    return ServiceSettings(**overrides)
