"""A hierarchy declared over static item attributes, and its summing matrix S.

The declaration is text, the same on the command line and in a job body:

- ``category/product``: a nested path, levels total > category > category/product > item;
- ``region*category``: crossed attributes, levels total, region, category, region*category,
  item (a grouped structure: the region and category totals both sum the same items);
- ``category/product,region``: several parts, their levels together (here a grouped one).

The total and the items (the bottom level) are always there. A node is one value combination
of a level's attributes, named ``category=books/product=fiction``; the total is ``total`` and
an item keeps its own id. `S` has one row per node (levels in order, the items last, as the
identity) and one column per item: a node's row is 1 where the item belongs to it.
"""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass

import numpy as np
import pandas as pd

from tidecast.data.item_keys import id_strings
from tidecast.errors import ConfigError

TOTAL = "total"
BOTTOM = "item"
LEVEL = "level"  # the forecast column naming each row's level
_NAME = re.compile(r"^[^/*,=]+$")


@dataclass(frozen=True)
class Hierarchy:
    """The aggregation levels above the items, each a tuple of attributes (() is the total)."""

    levels: tuple[tuple[str, ...], ...]

    @property
    def attributes(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(a for level in self.levels for a in level))

    @property
    def is_tree(self) -> bool:
        """Whether every level nests in the next (a strict hierarchy, where top-down is defined)."""
        sets = [set(level) for level in self.levels]
        return all(a < b for a, b in itertools.pairwise(sets))


def level_name(level: tuple[str, ...]) -> str:
    return "/".join(level) if level else TOTAL


def parse_hierarchy(text: str) -> Hierarchy:
    """The levels of ``category/product``, ``region*category`` or comma-separated parts."""
    levels: dict[frozenset[str], tuple[str, ...]] = {frozenset(): ()}
    parts = [p.strip() for p in str(text).split(",") if p.strip()]
    if not parts:
        raise ConfigError("--hierarchy is empty: give attributes such as category/product or region*category")
    for part in parts:
        if "/" in part and "*" in part:
            raise ConfigError(f"hierarchy part {part!r} mixes / and *: write them as separate parts")
        names = [n.strip() for n in re.split(r"[/*]", part)]
        if any(not n or not _NAME.match(n) for n in names) or len(set(names)) != len(names):
            raise ConfigError(f"hierarchy part {part!r}: attribute names separated by / or *, each once")
        if "*" in part:
            found = [c for k in range(1, len(names) + 1) for c in itertools.combinations(names, k)]
        else:
            found = [tuple(names[: k + 1]) for k in range(len(names))]
        for level in found:
            levels.setdefault(frozenset(level), level)
    ordered = sorted(levels.values(), key=len)  # stable: the declared order within a size
    return Hierarchy(tuple(ordered))


@dataclass(frozen=True)
class Structure:
    """The nodes of a hierarchy over a set of items: ids, levels, attributes and S."""

    hierarchy: Hierarchy
    nodes: np.ndarray  # node ids, levels in order, the items last
    node_level: np.ndarray  # each node's level name
    items: np.ndarray  # the bottom items, in S's column order
    S: np.ndarray  # (n_nodes, n_items) of 0/1
    attributes: pd.DataFrame  # per node: the hierarchy's attributes (NaN where not its level's)
    notes: tuple[str, ...] = ()  # what the run's report should say of the levels (`nesting_notes`)

    @property
    def n_bottom(self) -> int:
        return len(self.items)

    @property
    def level_names(self) -> list[str]:
        return list(dict.fromkeys(self.node_level))

    def level_rows(self, name: str) -> np.ndarray:
        return np.flatnonzero(self.node_level == name)

    def parents(self) -> list[tuple[np.ndarray, np.ndarray]]:
        """For a tree, per level below the total: its rows and each one's parent row."""
        if not self.hierarchy.is_tree:
            raise ConfigError("top-down needs a nested hierarchy (a/b/c), not crossed attributes")
        out = []
        names = self.level_names
        for upper, lower in itertools.pairwise(names):
            up, low = self.level_rows(upper), self.level_rows(lower)
            # the parent of a node is the upper node whose items contain the node's items
            overlap = self.S[up] @ self.S[low].T  # (n_up, n_low) shared items
            out.append((low, up[np.argmax(overlap, axis=0)]))
        return out


def node_id(level: tuple[str, ...], values: tuple[object, ...]) -> str:
    if not level:
        return TOTAL
    return "/".join(f"{a}={v}" for a, v in zip(level, values, strict=True))


def build_structure(hierarchy: Hierarchy, items: pd.DataFrame, item_col: str) -> Structure:
    """The nodes and S of `hierarchy` over `items` (one row per item: its id and attributes).

    A level with one item per node (``store*brand`` where an item is a store's brand) is the
    item level again: it is left out of the structure (and its `hierarchy`), with a note, so it
    is neither fitted twice nor counted twice by the reconciliation."""
    missing = [a for a in hierarchy.attributes if a not in items.columns]
    if missing:
        raise ConfigError(
            f"hierarchy attribute(s) {missing} not found; give them as static columns of the data "
            "or in the item metadata"
        )
    items = items.drop_duplicates(item_col).sort_values(item_col, kind="stable").reset_index(drop=True)
    attrs = list(hierarchy.attributes)
    if items[attrs].isna().any().any():
        bad = items.loc[items[attrs].isna().any(axis=1), item_col].head(5).tolist()
        raise ConfigError(f"items without a value of every hierarchy attribute, e.g. {bad}")
    item_ids = id_strings(items[item_col]).astype(object)
    rows: list[np.ndarray] = []
    ids: list[str] = []
    levels: list[str] = []
    node_attrs: list[dict[str, object]] = []
    kept: list[tuple[str, ...]] = []
    notes: list[str] = []
    for level in hierarchy.levels:
        if level:
            keys = items[list(level)].astype(str)
            groups = keys.groupby(list(level), sort=True).indices
        else:
            groups = {(): np.arange(len(items))}
        if level and len(groups) == len(items):
            notes.append(
                f"level {level_name(level)!r} has one item per node, the items themselves: "
                "forecast once, as the items, whose rows carry its attributes"
            )
            continue
        kept.append(level)
        for values, members in groups.items():
            values = values if isinstance(values, tuple) else (values,)
            row = np.zeros(len(items))
            row[members] = 1.0
            rows.append(row)
            ids.append(node_id(level, values))
            levels.append(level_name(level))
            node_attrs.append(dict(zip(level, values, strict=True)))
    bottom_attrs = items[attrs].astype(str).to_dict("records")
    S = np.vstack([*rows, np.eye(len(items))]) if rows else np.eye(len(items))
    clash = set(ids) & set(item_ids)
    if clash:
        raise ConfigError(f"item id(s) {sorted(clash)[:3]} equal a hierarchy node's name; rename them")
    hierarchy = Hierarchy(tuple(kept))
    return Structure(
        hierarchy=hierarchy,
        nodes=np.array([*ids, *item_ids], dtype=object),
        node_level=np.array([*levels, *[BOTTOM] * len(items)], dtype=object),
        items=item_ids,
        S=S,
        attributes=pd.DataFrame([*node_attrs, *bottom_attrs], columns=attrs),
        notes=(*nesting_notes(hierarchy, items), *notes),
    )


def nesting_notes(hierarchy: Hierarchy, items: pd.DataFrame) -> tuple[str, ...]:
    """A note per level of a tree (``zone/store``) whose new attribute's values sit under several
    values of the level above (a store in two zones): each pair is then a node of its own, which
    is coherent but not the nesting the ``/`` reads as."""
    if not hierarchy.is_tree:
        return ()
    notes = []
    for above, level in itertools.pairwise(hierarchy.levels):
        if not above:
            continue
        for attribute in (a for a in level if a not in above):
            parents = items[[*above, attribute]].astype(str).drop_duplicates()
            spread = parents.groupby(attribute).size()
            split = spread[spread > 1]
            if len(split):
                notes.append(
                    f"{attribute!r} does not nest in {level_name(above)!r}: {len(split)} of its "
                    f"{len(spread)} values sit under several (e.g. {list(split.index[:3])}), so each "
                    f"({', '.join([*above, attribute])}) pair is a node of its own"
                )
    return tuple(notes)
