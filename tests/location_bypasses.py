"""Every way out of a data root found so far: the function-level and the HTTP tests try them all."""

from __future__ import annotations

from pathlib import Path

# Each a location that must never be read with a data root at `root` (see `data_root_with_links_out`).
BYPASSES = [
    "local:///etc/passwd",
    "local://{outside}/secret.csv",
    "simplecache::file:///etc/passwd",
    "filecache::file://{outside}/secret.csv",
    "blockcache::s3://bucket/x.csv",
    "simplecache::s3://bucket/x.csv",
    "http://127.0.0.1:1/x.csv",
    "https://example.com/x.csv",
    "HTTP://example.com/x.csv",
    "file://otherhost/etc/passwd",
    "file://otherhost{outside}/secret.csv",
    "../outside/secret.csv",
    "sub/../../outside/secret.csv",
    "%2e%2e/outside/secret.csv",
    "%2E%2E%2Foutside%2Fsecret.csv",
    "file://{root}/%2e%2e/outside/secret.csv",
    "s3://bucket/%2e%2e/%2e%2e/outside/secret.csv",
    "s3://../outside/secret.csv",
    "s3://bucket/../../outside/secret.csv",
    "link/secret.csv",  # a symbolic link from inside the root to a folder outside
    "l*/secret.csv",  # the same link reached through a glob
    "sub/",  # a folder holding a link to a file outside
    "sub/*.csv",
    "/etc/passwd",
    "{outside}/secret.csv",
    "file://{outside}/secret.csv",
    "file:///etc/passwd",
    "memory://bucket/x.csv",
    "gcs://bucket/x.csv",  # an object store nobody configured
    "zip://x.csv::file:///tmp/a.zip",
    "ftp://host/x.csv",
    "dir/x://y.csv",
    "a.csv\x00.txt",
    "",
]


def data_root_with_links_out(tmp_path: Path) -> Path:
    """A data root with a good file, a link out, and a folder whose file links out."""
    root, outside = tmp_path / "root", tmp_path / "outside"
    (root / "sub").mkdir(parents=True)
    outside.mkdir()
    (outside / "secret.csv").write_text("a,b\n1,2\n")
    (root / "good.csv").write_text("item_id,timestamp,target\nx,2024-01-01,1\n")
    (root / "link").symlink_to(outside)
    (root / "sub" / "inner.csv").symlink_to(outside / "secret.csv")
    return root


def fill(template: str, root: Path) -> str:
    return template.format(root=root, outside=root.parent / "outside")
