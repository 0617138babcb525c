"""Which data locations a request may name: one policy for every path or URL a user supplies.

Jobs, batch forecasts and anything later that reads or writes where a request says (actuals,
the files a SQL query names) call `check_location` or `check_locations` before the location
reaches fsspec, because fsspec will open almost anything: ``local:///etc/passwd`` is a local
file, ``simplecache::file:///etc/passwd`` chains a cache in front of one, and ``http://`` reaches
any host the service can (request forgery). The policy is data (`LocationPolicy`), built from
the service's settings by `ServiceSettings.location_policy`, so it lives here in the core where
the jobs, the service and the data readers may all import it.

The rules, in order:

* No control characters, no chained protocols (``::``), and a URL's scheme must be one this
  module knows: ``file`` (on this host only), the object stores, and ``http(s)``.
* A local location (a path, or ``file:///path`` whose percent-escapes are decoded first) is
  resolved, symbolic links included, and must lie inside one of the policy's local roots; a
  relative path is taken below the first. A folder or glob is expanded and every file it
  reaches must resolve inside too, so a link inside the root cannot lead out.
* ``s3://bucket/key`` maps onto ``{s3_root}/bucket/key`` when the policy has an `s3_root` (a
  local stand-in for the bucket), and is then checked as a local path.
* Any other URL is allowed only below one of the policy's `urls` prefixes (``s3://bucket/in/``,
  ``https://host/exports/``): that list is the only way to allow http. Its path may hold no
  ``.`` or ``..`` segment, raw or percent-encoded.
* A policy with no roots and no URLs confines no object-store URL. Local paths then pass as
  given only when the policy says so (`local_as_given`: the library and the command line, whose
  user owns the files anyway); the service's policy says not, so without a data root it reads
  no local file at all: a remote caller must not choose any path the service's user can read
  (``/etc/passwd``, its own database). Everything else above still applies.

A refused location raises `LocationRefused` (a ValueError) saying why; callers turn it into a
4xx naming the field.
"""

from __future__ import annotations

import glob
import os
import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import unquote, urlsplit

OBJECT_STORES = frozenset({"s3", "s3a", "s3n", "gs", "gcs", "az", "abfs", "abfss", "adl"})
S3 = frozenset({"s3", "s3a", "s3n"})
HTTP = frozenset({"http", "https"})
LOCAL_HOSTS = frozenset({"", "localhost"})
_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*$")


NO_LOCAL_FILES = (
    "this service reads local files only below its data root, and none is set: "
    "set TIDECAST_DATA_ROOT to the folder that holds the data"
)


class LocationRefused(ValueError):
    """A location the policy does not allow; the message says why and what would be allowed."""


@dataclass(frozen=True)
class LocationPolicy:
    """Where requests may read and write.

    `roots`: local folders (resolved); relative paths are taken below the first. `s3_root`: the
    folder ``s3://bucket/key`` maps onto, or None to read S3 only below a `urls` prefix.
    `urls`: remote URL prefixes allowed as they are. `local_as_given`: with no roots and no
    URLs, whether local paths are read as given (True) or refused (the service's policy).
    """

    roots: tuple[Path, ...] = ()
    s3_root: Path | None = None
    urls: tuple[str, ...] = field(default=())
    local_as_given: bool = True

    @classmethod
    def of(
        cls,
        roots: Iterable[Path | str | None] = (),
        s3_root: Path | str | None = None,
        urls: Iterable[str] = (),
        *,
        local_as_given: bool = True,
    ) -> LocationPolicy:
        """A policy from unresolved parts; None roots are dropped."""
        resolved = tuple(Path(root).expanduser().resolve() for root in roots if root)
        s3 = Path(s3_root).expanduser().resolve() if s3_root else None
        return cls(resolved, s3, tuple(url_prefix(url) for url in urls), local_as_given)

    @property
    def confined(self) -> bool:
        """False for a policy with no roots and no URLs: object-store URLs are then read as
        given, and local paths too when `local_as_given`."""
        return bool(self.roots or self.s3_root or self.urls)

    @property
    def reads_local(self) -> bool:
        """Whether any local path may be read: below a root, or as given."""
        return bool(self.roots) or (self.local_as_given and not self.confined)


def check_locations(locations: Sequence[str], policy: LocationPolicy) -> list[str]:
    """`check_location` over several locations (the files a SQL query names, say); the first
    refused one raises."""
    return [check_location(location, policy) for location in locations]


def check_location(location: str, policy: LocationPolicy) -> str:
    """`location` as it is to be opened (a resolved local path, or the URL), or LocationRefused.

    Local results are plain absolute paths, never URLs, so nothing downstream decodes or
    re-interprets them; a trailing "/" (a folder) and glob characters are kept.
    """
    text = str(location)
    if not text.strip() or any(ord(char) < 32 for char in text):
        raise LocationRefused(f"{text!r} is empty or holds control characters")
    if "::" in text:
        raise LocationRefused(f"{text!r} chains protocols (::), which is not allowed")
    if _encoded_escape(text):
        raise LocationRefused(f"{text!r} hides '..' or '/' in percent-escapes")
    if "://" not in text:
        return _local(text, text, policy)
    scheme, _ = text.split("://", 1)
    if not _SCHEME.match(scheme):
        raise LocationRefused(f"{text!r} is not a path or a URL with a known protocol")
    scheme = scheme.lower()
    parts = urlsplit(text)
    if scheme == "file":
        if parts.netloc.lower() not in LOCAL_HOSTS:
            raise LocationRefused(f"{text!r} names another host; file:// URLs are read on this host only")
        if parts.query or parts.fragment:
            raise LocationRefused(f"{text!r}: a file:// URL has no query or fragment")
        return _local(unquote(parts.path), text, policy)
    if _under_prefix(text, policy.urls):
        return text
    if scheme in S3 and policy.s3_root is not None:
        if not parts.netloc:
            raise LocationRefused(f"{text!r} has no bucket")
        mapped = f"{parts.netloc}/{parts.path.lstrip('/')}"
        return _inside(policy.s3_root / mapped, mapped.endswith("/"), text, (policy.s3_root,))
    if scheme in OBJECT_STORES and not policy.confined:
        return text
    raise LocationRefused(_why_not(text, scheme, policy))


# ---- local paths ---------------------------------------------------------------------------
def _local(path: str, original: str, policy: LocationPolicy) -> str:
    if not policy.roots:
        if policy.reads_local:
            return path
        raise LocationRefused(f"{original!r}: {NO_LOCAL_FILES}{_allowed(policy.urls)}")
    return _inside(policy.roots[0] / path, path.endswith("/"), original, policy.roots)


def _inside(candidate: Path, folder: bool, original: str, roots: Sequence[Path]) -> str:
    """The resolved `candidate` when it and every file it reaches lie inside `roots`."""
    try:
        resolved = candidate.resolve()
    except (OSError, ValueError, RuntimeError) as exc:  # NUL bytes, symlink loops
        raise LocationRefused(f"{original!r} cannot be resolved: {exc}") from None
    if not _within(resolved, roots):
        raise LocationRefused(f"{original!r} points outside the data root")
    for reached in _reached(resolved):
        if not _within(reached, roots):
            raise LocationRefused(f"{original!r} reaches {reached}, which is outside the data root")
    text = str(resolved)
    return text + "/" if folder and text != "/" else text


def _encoded_escape(text: str) -> bool:
    """Whether decoding percent-escapes would add a '..' segment or a separator: a plain path
    is read literally here, but a reader further on (DuckDB, urllib) might decode it."""
    decoded = unquote(text)
    if decoded == text:
        return False
    return "%2f" in text.lower() or "%5c" in text.lower() or ".." in decoded.replace("\\", "/").split("/")


def _within(path: Path, roots: Sequence[Path]) -> bool:
    return any(path == root or path.is_relative_to(root) for root in roots)


def _reached(path: Path) -> Iterator[Path]:
    """Where the files a folder or glob at `path` lead, links followed (what a reader opens)."""
    text = str(path)
    starts = [Path(p) for p in glob.iglob(text, recursive=True)] if glob.has_magic(text) else [path]
    seen: set[Path] = set()
    for start in starts:
        real = start.resolve()
        yield real
        if real.is_dir():
            yield from _walk(real, seen)


def _walk(folder: Path, seen: set[Path]) -> Iterator[Path]:
    """Every entry below `folder`, resolved; linked folders are walked once each (loops end)."""
    if folder in seen:
        return
    seen.add(folder)
    for base, folders, files in os.walk(folder):
        for name in folders + files:
            entry = Path(base, name)
            if entry.is_symlink():
                real = entry.resolve()
                yield real
                if real.is_dir():
                    yield from _walk(real, seen)


# ---- remote URLs ---------------------------------------------------------------------------
def url_prefix(url: str) -> str:
    """A configured URL prefix, checked like a location and ending in "/"."""
    parts = urlsplit(url.strip())
    if not parts.scheme or not parts.netloc or "::" in url or parts.query or parts.fragment:
        raise ValueError(f"{url!r} is not a URL prefix such as s3://bucket/folder/")
    _no_dot_segments(parts.path, url)
    return f"{parts.scheme.lower()}://{parts.netloc}{parts.path.rstrip('/')}/"


def _under_prefix(url: str, prefixes: Sequence[str]) -> bool:
    parts = urlsplit(url)
    if not prefixes:
        return False
    if parts.query or parts.fragment:
        raise LocationRefused(f"{url!r}: a data URL has no query or fragment")
    _no_dot_segments(parts.path, url)
    normal = f"{parts.scheme.lower()}://{parts.netloc}{parts.path}"
    return any(normal.startswith(prefix) or normal + "/" == prefix for prefix in prefixes)


def _no_dot_segments(path: str, url: str) -> None:
    for text in (path, unquote(path)):
        if any(part in (".", "..") for part in text.split("/")):
            raise LocationRefused(f"{url!r} has a '.' or '..' segment")


def _why_not(url: str, scheme: str, policy: LocationPolicy) -> str:
    allowed = _allowed(policy.urls)
    if scheme in HTTP:
        return f"{url!r}: http(s) URLs are read only below a prefix listed in TIDECAST_DATA_URLS{allowed}"
    if scheme in OBJECT_STORES:
        return f"{url!r} is not below an allowed data location{allowed}"
    return f"{url!r}: the {scheme}:// protocol is not allowed for data{allowed}"


def _allowed(urls: Sequence[str]) -> str:
    return f"; allowed URLs: {', '.join(urls)}" if urls else ""
