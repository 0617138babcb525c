"""The List calls' pages: ``SortBy``, ``SortOrder``, ``MaxResults`` and ``NextToken``.

boto3's paginators (``client.get_paginator("list_auto_ml_jobs")``) and the AWS CLI (which pages
every List call, ``--page-size`` included) ask for ``MaxResults`` rows at a time and send the
answer's ``NextToken`` back until an answer has none. Before, a List call cut its rows at
``MaxResults`` and never returned a token, so a paginator stopped after the first page and the
rows past it were never seen (a page size of 2 over 5 jobs listed 2); ``SortBy`` was ignored
too (``SortBy="Name"`` came back by creation time).

The token is the offset of the next row in the sorted, filtered list, as opaque text: the
list is read afresh on each call, so a row created between two pages may shift the others by
one, which AWS's own tokens do not promise to prevent either.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Mapping
from typing import Any

from tidecast.service.aws.errors import validation

MAX_RESULTS = 100  # the API's maximum and, here, the default page size


def page(
    rows: list[dict[str, Any]],
    body: dict[str, Any],
    member: str,
    order: str = "Descending",
    sort_fields: Mapping[str, str] | None = None,
    by_default: str = "CreationTime",
) -> dict[str, Any]:
    """`rows` sorted by the request's ``SortBy`` (a key of `sort_fields`, naming the summary
    field it sorts on; `by_default` without one) in its ``SortOrder`` (`order` by default), as
    the answer's `member` page, with ``NextToken`` when rows remain. The defaults are each
    call's own in the API reference (ListAutoMLJobs: Name, Descending)."""
    fields = {"CreationTime": "CreationTime", **(sort_fields or {})}
    by = body.get("SortBy")
    if by is not None and by not in fields:
        raise validation(f"SortBy must be one of {', '.join(fields)}, got {by!r}")
    sort_order = body.get("SortOrder", order)
    if sort_order not in ("Ascending", "Descending"):
        raise validation(f"SortOrder must be Ascending or Descending, got {sort_order!r}")
    field = fields[by or by_default]
    ranked = sorted(rows, key=lambda row: _sort_key(row.get(field)), reverse=sort_order == "Descending")
    return paginate(ranked, body, member)


def paginate(rows: list[dict[str, Any]], body: dict[str, Any], member: str) -> dict[str, Any]:
    """The page of already ordered `rows` that the request's ``NextToken`` and ``MaxResults``
    ask for, under `member`, and the token of the next page when there is one."""
    limit = body.get("MaxResults")
    if limit is None:
        limit = MAX_RESULTS
    if not isinstance(limit, int) or isinstance(limit, bool) or not 1 <= limit <= MAX_RESULTS:
        raise validation(
            f"1 validation error detected: Value '{limit}' at 'maxResults' failed to satisfy constraint: "
            f"Member must have value between 1 and {MAX_RESULTS}"
        )
    start = _offset(body.get("NextToken"))
    out: dict[str, Any] = {member: rows[start : start + limit]}
    if start + limit < len(rows):
        out["NextToken"] = _token(start + limit)
    return out


def _sort_key(value: Any) -> tuple[int, Any]:
    """Missing values first (last when descending), numbers and text each in their order."""
    if value is None:
        return (0, 0)
    return (1, value) if isinstance(value, int | float) else (2, str(value))


def _token(offset: int) -> str:
    return base64.urlsafe_b64encode(json.dumps({"offset": offset}).encode()).decode()


def _offset(token: Any) -> int:
    if token is None or token == "":
        return 0
    try:
        offset = json.loads(base64.urlsafe_b64decode(str(token).encode()))["offset"]
    except (ValueError, TypeError, KeyError, binascii.Error):
        offset = None
    if not isinstance(offset, int) or isinstance(offset, bool) or offset < 0:
        raise validation("Invalid pagination token: NextToken must be a token a previous answer returned")
    return offset
