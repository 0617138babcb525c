"""The items' prepared panel summed up to every node of a hierarchy, and the base forecasts
of every node gathered into one (nodes x steps x values) array.

Aggregation works on the bottom model's prepared canonical panel (regular grid, filled), so
every level sees the same history the items' models saw. The target is summed; covariates
(known and past) are averaged over the node's items, so a promotion flag becomes the share
of items on promotion and a store's `open` flag is 0 only where every item is closed.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from tidecast.data.attributes import whole_numbers
from tidecast.data.schema import ITEM_ID, TARGET, TIMESTAMP
from tidecast.hierarchy.structure import TOTAL, Structure


def node_of(items: pd.DataFrame, level: tuple[str, ...]) -> pd.Series:
    """Each item's node at `level` (items: one row per item with its attributes)."""
    if not level:
        return pd.Series(TOTAL, index=items.index)
    parts = [f"{a}=" + items[a].astype(str) for a in level]
    out = parts[0]
    for part in parts[1:]:
        out = out + "/" + part
    return out


def item_attributes(panel: pd.DataFrame, attributes: Sequence[str]) -> pd.DataFrame:
    """One row per item of the panel: its id and its (static) hierarchy attributes, whole
    numbers read as floats (store 12.0, from a CSV column with a missing cell) as integers, so
    nodes are named ``store=12``."""
    items = panel[[ITEM_ID, *attributes]].drop_duplicates(ITEM_ID).reset_index(drop=True)
    return items.assign(**{a: whole_numbers(items[a]) for a in attributes})


def aggregate_level(
    panel: pd.DataFrame, items: pd.DataFrame, level: tuple[str, ...], covariates: Sequence[str]
) -> pd.DataFrame:
    """The canonical panel of one level's nodes: node id, timestamp, summed target, mean
    covariates and the level's attributes as static columns."""
    nodes = node_of(items, level)
    mapping = pd.Series(nodes.to_numpy(), index=items[ITEM_ID].to_numpy())
    frame = panel[[ITEM_ID, TIMESTAMP, *(c for c in (TARGET, *covariates) if c in panel.columns)]].copy()
    frame[ITEM_ID] = frame[ITEM_ID].map(mapping)
    groups = frame.groupby([ITEM_ID, TIMESTAMP], sort=True)
    present = [c for c in covariates if c in frame.columns]
    out = groups[present].mean() if present else groups.size().to_frame("_n")[[]]
    if TARGET in frame.columns:  # a future frame has none
        out.insert(0, TARGET, groups[TARGET].sum(min_count=1))
    out = out.reset_index()
    if level:
        attrs = items.assign(**{ITEM_ID: nodes})[[ITEM_ID, *level]].drop_duplicates(ITEM_ID)
        out = out.merge(attrs.astype(str), on=ITEM_ID, how="left")
    return out


def stack(frames: dict[str, pd.DataFrame], structure: Structure, columns: Sequence[str]) -> np.ndarray:
    """(n_nodes, steps, len(columns)) of forecasts keyed by node (`ITEM_ID`), steps in time order.

    Every node must have the same number of steps (the items end together: `check_aligned`).
    """
    frame = pd.concat(frames.values(), ignore_index=True)
    frame = frame.sort_values([ITEM_ID, TIMESTAMP], kind="stable")
    order = pd.Series(np.arange(len(structure.nodes)), index=structure.nodes)
    position = frame[ITEM_ID].map(order)
    if position.isna().any():
        extra = frame.loc[position.isna(), ITEM_ID].unique()[:3].tolist()
        raise ValueError(f"forecasts for nodes outside the hierarchy: {extra}")
    counts = np.bincount(position.to_numpy(dtype=np.int64), minlength=len(order))
    steps = counts.max()
    if (counts != steps).any():
        short = structure.nodes[counts != steps][:3].tolist()
        raise ValueError(f"nodes without a forecast for every step: {short}")
    frame = frame.assign(_p=position.to_numpy()).sort_values(["_p", TIMESTAMP], kind="stable")
    return frame[list(columns)].to_numpy(dtype=np.float64).reshape(len(order), steps, len(columns))
