"""What-if rules: change a known covariate where conditions on items and dates hold.

The shape follows Amazon Forecast's what-if transformations (an action on one attribute,
under conditions on others), written as JSON or TOML:

```json
{"rules": [
  {"covariate": "promotion", "set": 1,
   "where": {"category": "electronics", "date": {"from": "2024-01-01", "to": "2024-01-07"}}},
  {"covariate": "price", "multiply": 0.9},
  {"covariate": "price", "add": -2, "where": {"region": ["North", "South"], "step": {"to": 7}}}
]}
```

- `covariate`: a known covariate of the model; exactly one action: `set` (a number, or a
  label for a text covariate), `add` or `multiply` (numbers, numeric covariates only);
- `where` (all must hold; none = every item and step):
  - `date`: `{"from": ..., "to": ...}` (inclusive, either may be left out), or one date;
  - `step`: forecast steps, 1-based: `{"from": 1, "to": 7}`, one step, or a list;
  - an item attribute (static column), the item column, a part of an item key made of
    several columns (`Store` of "Store,Dept": each item's part of its id), or a known
    covariate (its value before this rule): a value (equals), a list (any of), or operators
    `{"eq"|"ne"|"lt"|"le"|"gt"|"ge": v, "in"|"not_in": [...]}`.

Rules apply in order, each to the result of the ones before. `parse_scenario` checks the
shape (`ConfigError` naming the field); `check_scenario` checks names against a model.
"""

from __future__ import annotations

import json
import tomllib
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import pandas as pd
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from tidecast.data.item_keys import item_parts
from tidecast.errors import ConfigError
from tidecast.errors import describe_validation as describe

ACTIONS = ("set", "add", "multiply")
OPERATORS = ("eq", "ne", "lt", "le", "gt", "ge", "in", "not_in")
DATE, STEP = "date", "step"


class Rule(BaseModel):
    """One transformation of one covariate (module docstring)."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    covariate: str = Field(min_length=1)
    set_: float | str | None = Field(default=None, alias="set")
    add: float | None = None
    multiply: float | None = None
    where: dict[str, Any] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _one_action(self) -> Rule:
        given = [name for name in ACTIONS if self.value_of(name) is not None]
        if len(given) != 1:
            raise ValueError(f"give exactly one of {', '.join(ACTIONS)} (got {', '.join(given) or 'none'})")
        for key, condition in self.where.items():
            check_condition(key, condition)
        return self

    def value_of(self, action: str) -> float | str | None:
        return self.set_ if action == "set" else getattr(self, action)

    @property
    def action(self) -> str:
        return next(name for name in ACTIONS if self.value_of(name) is not None)

    @property
    def value(self) -> float | str:
        found = self.value_of(self.action)
        assert found is not None
        return found


class Scenario(BaseModel):
    """A named list of rules."""

    model_config = ConfigDict(extra="forbid")

    name: str = "scenario"
    rules: list[Rule] = Field(min_length=1)


def check_condition(key: str, condition: Any) -> None:
    """The shape of one `where` entry; a ValueError says what is wrong with it."""
    if key == DATE:
        bounds = condition if isinstance(condition, dict) else {"from": condition, "to": condition}
        extra = set(bounds) - {"from", "to"}
        if extra or not bounds:
            raise ValueError(f"where.date takes 'from' and/or 'to', got {sorted(bounds)}")
        for name, value in bounds.items():
            try:
                pd.Timestamp(value)
            except (ValueError, TypeError):
                raise ValueError(f"where.date.{name}: {value!r} is not a date") from None
    elif key == STEP:
        steps = condition if isinstance(condition, list) else [condition]
        if isinstance(condition, dict):
            extra = set(condition) - {"from", "to"}
            if extra or not condition:
                raise ValueError(f"where.step takes 'from' and/or 'to', got {sorted(condition)}")
            steps = list(condition.values())
        if not all(isinstance(s, int) and not isinstance(s, bool) and s >= 1 for s in steps):
            raise ValueError(f"where.step: steps are whole numbers from 1, got {condition!r}")
    elif isinstance(condition, dict):
        unknown = set(condition) - set(OPERATORS)
        if unknown or not condition:
            raise ValueError(f"where.{key}: operators are {', '.join(OPERATORS)}, got {sorted(condition)}")
        for op in ("in", "not_in"):
            if op in condition and not isinstance(condition[op], list):
                raise ValueError(f"where.{key}.{op} takes a list")


def parse_scenario(source: dict[str, Any] | list[Any] | str | Path) -> Scenario:
    """A scenario from a mapping, a bare list of rules, or a .json / .toml file."""
    if isinstance(source, str | Path):
        path = Path(source)
        if not path.is_file():
            raise ConfigError(f"no rules file at {path}")
        text = path.read_text()
        try:
            source = tomllib.loads(text) if path.suffix.lower() == ".toml" else json.loads(text)
        except (json.JSONDecodeError, tomllib.TOMLDecodeError) as exc:
            raise ConfigError(
                f"{path} is not valid {path.suffix.lstrip('.').upper() or 'JSON'}: {exc}"
            ) from None
    if isinstance(source, list):
        source = {"rules": source}
    try:
        return Scenario.model_validate(source)
    except ValidationError as exc:
        raise ConfigError(f"invalid rules: {describe(exc)}") from None


def check_scenario(
    scenario: Scenario,
    known: Iterable[str],
    attributes: Iterable[str],
    item_col: str,
    horizon: int,
) -> None:
    """Names against the model: covariates it knows, attributes its items have (the item
    column and, for a key of several columns, each part), steps within its horizon. A
    ConfigError names the rule and what it may use instead."""
    known, attributes = tuple(known), tuple(attributes)
    if not known:
        raise ConfigError("the model uses no known covariates: a what-if rule has nothing to change")
    allowed = {DATE, STEP, item_col, *item_parts(item_col), *attributes, *known}
    for k, rule in enumerate(scenario.rules):
        if rule.covariate not in known:
            raise ConfigError(
                f"rules[{k}].covariate: {rule.covariate!r} is not a known covariate of the model; "
                f"it knows {list(known)}"
            )
        for key, condition in rule.where.items():
            if key not in allowed:
                raise ConfigError(
                    f"rules[{k}].where.{key}: not an item attribute, covariate, 'date' or 'step'; "
                    f"use one of {sorted(allowed)}"
                )
            if key == STEP:
                values = condition.values() if isinstance(condition, dict) else condition
                steps = values if isinstance(values, Iterable) else [values]
                late = [s for s in steps if s > horizon]
                if late:
                    raise ConfigError(f"rules[{k}].where.step: the horizon has {horizon} steps, got {late}")
