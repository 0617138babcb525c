"""Counts in messages agree with their nouns and verbs for one as for many."""

from __future__ import annotations

import doctest

import numpy as np

import tidecast.wording
from tidecast.wording import counted, plural


def test_when_the_count_is_one_then_the_noun_and_verb_are_singular() -> None:
    assert counted(1, "item") == "1 item" and counted(0, "item") == "0 items"
    assert f"{counted(1, 'series')} {plural(1, 'has')}" == "1 series has"
    assert f"{counted(3, 'series')} {plural(3, 'has')}" == "3 series have"
    assert counted(1, "entry") == "1 entry" and counted(2, "entry") == "2 entries"


def test_when_numbers_come_from_numpy_or_are_fractional_then_they_read_as_numbers() -> None:
    assert counted(np.int64(1), "cell") == "1 cell"
    assert counted(1.0, "day") == "1 day" and counted(2.5, "day") == "2.5 days"
    assert counted(12_345, "row", grouped=True) == "12,345 rows"
    assert plural(2, "child", "children") == "children"


def test_the_module_examples_run() -> None:
    assert doctest.testmod(tidecast.wording).failed == 0
