"""At most `MAX_PEERS` peers per group: the same sample at fit, at every predict call, anywhere.

A short item's profile (`coldstart.profile`) is the equal mixture of its peer group's scaled
forecasts. The group can hold a whole store's or category's items, and a model keeps every
training item's forecast and recent sales for them (`automl.peer_reference`): 4.3 of the 5.9 MB
pickle of a LightGBM model of 2,000 demo items (120 days), 43.6 of 46.0 MB at 20,000. A group of n peers is therefore profiled
from its `MAX_PEERS` members with the smallest stable hash of their id (`peer_order`), and the
model keeps only the items some group would profile from (`kept_peers`).

Why the sample estimates the mixture well: the hash of an id says nothing about the item's
sales, so the K members are a simple random sample of the n, drawn once. The mixture's mean is
the mean of the n scaled peer forecasts; the sample's mean is off by about s / sqrt(K) x
sqrt(1 - K / n), s the spread of the scaled forecasts across peers: with K = 100, a tenth of
that spread, while the forecast's own interval is as wide as the whole spread (the mixture's
quantiles pool the peers' draws). The quantiles of the pooled sample converge at the same rate.
Groups of at most K peers are profiled from all of them, as before.

Why ColdStart finds the same peer group: it takes the longest attribute prefix with at least
`min_peers` peers. Every prefix group with n >= `min_peers` items keeps its min(n, K) + 1
smallest hashes (the one more for a training item that comes back short and is not its own
peer), so it still has at least `min_peers` when K >= `min_peers`; a group with fewer had
fewer than `min_peers` and still has. The groups are taken per last forecast date, as the
profile takes its peers. What moves is only the attribute effects beyond the prefix (a store's
level against its group's, `ColdStart._prior_factor`), now estimated from the kept items.

The sample does not depend on the call: the hash is of the id alone (not Python's `hash`, which
is salted per process), so a batch worker, an endpoint and the fit pick the same peers.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable

import numpy as np
import pandas as pd

from tidecast.data.attributes import whole_numbers

MAX_PEERS = 100


def peer_order(ids: Iterable[object]) -> np.ndarray:
    """A stable pseudo-random key per id (uint64): the first 8 bytes of its BLAKE2b digest."""
    return np.fromiter(
        (int.from_bytes(hashlib.blake2b(str(i).encode(), digest_size=8).digest(), "big") for i in ids),
        dtype=np.uint64,
    )


def by_peer_order(ids: pd.Index) -> np.ndarray:
    """Positions that sort `ids` by `peer_order` (ties, which need a hash collision, by id)."""
    return np.lexsort((ids.astype(str).to_numpy(), peer_order(ids)))


def kept_peers(keys: pd.DataFrame, ids: pd.Series, max_peers: int, min_peers: int) -> np.ndarray:
    """Which rows of `ids` to keep as peers: in each group of the prefixes of the `keys` columns
    (the root, the first column, the first two...) with at least `min_peers` rows, the
    `max_peers` with the smallest `peer_order`."""
    order = by_peer_order(pd.Index(ids))
    keys = keys.iloc[order].reset_index(drop=True)
    keep = np.zeros(len(ids), dtype=bool)
    for depth in range(len(keys.columns) + 1):
        columns = list(keys.columns[:depth])
        if columns:
            groups = keys.groupby(columns, sort=False, dropna=False)
            size, rank = groups[columns[0]].transform("size").to_numpy(), groups.cumcount().to_numpy()
        else:
            size, rank = np.full(len(keys), len(keys)), np.arange(len(keys))
        keep |= (size >= min_peers) & (rank < max_peers)
    out = np.zeros(len(ids), dtype=bool)
    out[order] = keep
    return out


def attribute_texts(values: pd.DataFrame) -> pd.DataFrame:
    """Attribute values as the text they are compared by: store 2 is "2" whether the model's
    history holds it as 2.0 (whole numbers that a merge or a CSV's empty cell turned into
    floats, `data.attributes`) or the new items' table as 2 or "2"; a missing value is "nan"."""
    whole = whole_attributes(values)
    return whole.astype(str).mask(whole.isna(), "nan")


def whole_attributes(values: pd.DataFrame) -> pd.DataFrame:
    """`values` with each column of whole-number floats as ints (`data.attributes.whole_numbers`)."""
    return values.assign(**{column: whole_numbers(values[column]) for column in values.columns})
