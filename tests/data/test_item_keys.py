"""Item keys made of several columns: joined on reading, split on output, exactly."""

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

from tidecast.data.ingest import canonical_names, from_canonical, to_canonical
from tidecast.data.item_keys import (
    compose,
    id_strings,
    id_strings_arrow,
    item_column,
    item_ids,
    item_parts,
    key_of,
    key_types,
    missing_name,
    partial_key,
    split,
    typed_keys,
)
from tidecast.data.schema import DatasetSpec
from tidecast.errors import ConfigError, DataError


def table() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "Store": [2, 2, 10, 10],
            "Dept": ["7", "7", "A-1", "A-1"],
            "Date": ["2024-01-01", "2024-01-08"] * 2,
            "Sales": [1.0, 2.0, 3.0, -4.0],
        }
    )


def test_item_parts_split_a_comma_list_and_keep_a_single_name():
    assert item_parts("Store,Dept") == ("Store", "Dept")
    assert item_parts(" Store , Dept ,region") == ("Store", "Dept", "region")
    assert item_parts("item_id") == ("item_id",)
    assert item_parts("a,") == ("a,",)  # an empty part: one (odd) name, not a key


def test_item_column_normalises_lists_and_refuses_repeats():
    assert item_column(["Store", "Dept"]) == "Store,Dept"
    assert item_column("Store,Dept") == "Store,Dept"
    assert item_column("item_id") == "item_id"
    assert item_column("Store, Dept") == "Store,Dept"
    assert item_column("Store ") == "Store "  # one name is taken as given
    with pytest.raises(ConfigError, match="twice"):
        item_column("Store,Store")
    with pytest.raises(ConfigError, match="twice"):
        item_column(["Store", "Store"])
    with pytest.raises(ConfigError, match="every part"):
        item_column(["Store", ""])


def test_compose_joins_the_parts_beside_the_first_and_split_restores_them():
    frame = table()
    composed = compose(frame, "Store,Dept")
    assert list(composed.columns) == ["Store,Dept", "Store", "Dept", "Date", "Sales"]
    assert composed["Store,Dept"].tolist() == ["2|7", "2|7", "10|A-1", "10|A-1"]
    back = split(composed.drop(columns=["Store", "Dept"]), "Store,Dept")
    assert list(back.columns) == ["Store", "Dept", "Date", "Sales"]
    assert back["Store"].tolist() == ["2", "2", "10", "10"]
    assert back["Dept"].tolist() == ["7", "7", "A-1", "A-1"]
    assert item_ids(back, "Store,Dept").tolist() == composed["Store,Dept"].tolist()


def test_compose_leaves_a_table_with_the_key_or_without_every_part():
    frame = table()
    assert compose(frame, "Dept") is frame
    assert compose(frame, "Store,Aisle") is frame
    keyed = frame.assign(**{"Store,Dept": "x"})
    assert compose(keyed, "Store,Dept") is keyed


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (
            lambda f: f.assign(Dept=["7", None, "A", "A"]),
            r"'Dept' \(part of 'Store,Dept'\) has 1 missing",
        ),
        (lambda f: f.assign(Dept=["7", "7", "A|B", "A|B"]), r"values holding '\|'.*\['A\|B'\]"),
    ],
)
def test_a_part_that_is_empty_or_holds_the_separator_is_named(change, message):
    with pytest.raises(DataError, match=message):
        compose(change(table()), "Store,Dept")


def test_to_canonical_reads_a_key_of_two_columns_and_from_canonical_writes_it_back():
    panel, _ = to_canonical(table(), "Store,Dept", "Date", "Sales")
    assert panel["item_id"].unique().tolist() == ["10|A-1", "2|7"]
    assert panel["target"].tolist() == [3.0, -4.0, 1.0, 2.0]
    spec = DatasetSpec(freq="W-MON", item_col="Store,Dept", timestamp_col="Date", target_col="Sales")
    out = from_canonical(panel, spec)
    assert list(out.columns) == ["Store", "Dept", "Date", "Sales"]
    assert out[["Store", "Dept"]].drop_duplicates().values.tolist() == [["10", "A-1"], ["2", "7"]]


def test_a_missing_part_is_named_in_the_error():
    with pytest.raises(DataError, match=r"Store,Aisle \(lacking Aisle\)"):
        to_canonical(table(), "Store,Aisle", "Date", "Sales")
    assert missing_name("Store,Aisle", ["Store"]) == "Store,Aisle (lacking Aisle)"
    assert missing_name("item_id", []) == "item_id"


def test_item_metadata_may_be_keyed_by_the_whole_key_or_by_some_parts():
    stores = pd.DataFrame({"Store": ["2", "10"], "Size": [100, 200]})
    assert partial_key(stores, "Store,Dept") == ("Store",)
    assert partial_key(compose(table(), "Store,Dept"), "Store,Dept") == ("Store,Dept",)
    assert partial_key(stores, "item_id") == ()


def test_split_refuses_ids_without_every_part():
    frame = pd.DataFrame({"Store,Dept": ["2|7", "10"]})
    with pytest.raises(DataError, match="2 parts"):
        split(frame, "Store,Dept")
    empty = split(pd.DataFrame({"Store,Dept": pd.Series([], dtype=str), "reason": []}), "Store,Dept")
    assert list(empty.columns) == ["Store", "Dept", "reason"]


def test_a_key_of_one_column_may_hold_the_separator():
    frame = pd.DataFrame({"sku": ["a|1", "b|2"]})
    assert key_of(frame, ["sku"], "sku").tolist() == ["a|1", "b|2"]


def test_float_ids_are_keyed_as_their_whole_numbers_wherever_they_are_read():
    """A store column typed float (a Parquet of a frame with a missing store) keys store 1 as
    "1", as the CSV of the same table and batch staging's Arrow cast key it."""
    assert id_strings(np.array([1.0, 10.0, 2.5, -3.0])).tolist() == ["1", "10", "2.5", "-3"]
    assert id_strings(pd.Series([7, 30])).tolist() == ["7", "30"]
    assert id_strings(np.array(["01", "1"], dtype=object)).tolist() == ["01", "1"]
    floats = table().assign(Store=[2.0, 2.0, 10.0, 10.0])
    panel, _ = to_canonical(floats, "Store", "Date", "Sales")
    assert panel["item_id"].unique().tolist() == ["10", "2"]
    joined, _ = to_canonical(floats, "Store,Dept", "Date", "Sales")
    texts, _ = to_canonical(table(), "Store,Dept", "Date", "Sales")
    pd.testing.assert_frame_equal(joined, texts)
    shuffled, _ = to_canonical(floats.iloc[[2, 0, 3, 1]], "Store", "Date", "Sales")  # the unsorted path
    assert shuffled["item_id"].unique().tolist() == ["10", "2"]


def test_whole_floats_of_any_size_are_keyed_as_integers_and_fractions_stay_as_they_are():
    """A barcode store column turned float by one missing value (400000000001.0) keys as the
    integer a CSV or a request writes, not Arrow's "4.00000000001e+11"; 2.5 stays "2.5"."""
    floats = np.array([400000000001.0, 1e16, -0.0, 2.5, 7.0])
    expected = ["400000000001", "10000000000000000", "0", "2.5", "7"]
    assert id_strings(floats).tolist() == expected
    assert id_strings(pd.Series(floats, dtype="Float64")).tolist() == expected
    assert id_strings(np.array([0.1, 7.0], dtype=np.float32)).tolist() == ["0.1", "7"]  # as written
    mixed = np.array(["A-1", 400000000001.0, 3, 2.5], dtype=object)  # floats among text and ints
    assert id_strings(mixed).tolist() == ["A-1", "400000000001", "3", "2.5"]
    arrow = id_strings_arrow(pa.array([400000000001.0, None, 2.5, 7.0]))
    assert arrow.to_pylist() == ["400000000001", None, "2.5", "7"]  # nulls stay missing


def test_a_float_key_part_is_keyed_by_its_whole_numbers():
    frame = table().assign(Store=[400000000001.0] * 2 + [10.0] * 2)
    panel, _ = to_canonical(frame, "Store,Dept", "Date", "Sales")
    assert panel["item_id"].unique().tolist() == ["10|A-1", "400000000001|7"]


def test_key_types_note_the_number_columns_of_a_key_and_the_integers_of_a_csv():
    frame = table().assign(Dept=pd.array([7, 7, 30, None], dtype="Int64"), Flag=True)
    assert key_types(frame, "Store,Dept") == (("Store", "int64"), ("Dept", "Int64"))
    assert key_types(table(), "Store,Dept") == (("Store", "int64"),)  # Dept is text
    assert key_types(frame, "Flag") == ()  # a flag is no number id
    floats = table().assign(Store=[2.0, 2.0, np.nan, 10.0], Dept=[0.5, 1.0, 1.0, 2.0])
    assert key_types(floats, "Store,Dept") == (("Store", "int64"), ("Dept", "float64"))
    texts = pd.DataFrame({"Store": ["2", "10", None], "Dept": ["7", "007", "7"]}, dtype="string")
    assert key_types(texts, "Store,Dept", untyped=["Store", "Dept"]) == (("Store", "int64"),)
    assert key_types(texts, "Store,Dept") == ()  # text a table typed as text stays text


def test_typed_keys_convert_where_every_id_comes_back_as_itself():
    ids = pd.DataFrame({"Store": ["2", "10", "2"], "Dept": ["007", "1", "1"], "x": [1.0, 2.0, 3.0]})
    out, converted = typed_keys(ids, [("Store", "int64"), ("Dept", "int64"), ("Aisle", "int64")])
    assert converted == ["Store"] and out["Store"].tolist() == [2, 10, 2] and out["Dept"].dtype == object
    assert typed_keys(ids, [("Store", "float64")])[0]["Store"].tolist() == [2.0, 10.0, 2.0]
    assert typed_keys(ids, [("Store", "int8")])[0]["Store"].dtype == np.int8
    assert typed_keys(ids.assign(Store="300"), [("Store", "int8")])[1] == []  # would overflow
    assert typed_keys(ids.assign(Store="2.5"), [("Store", "int64")])[1] == []
    assert typed_keys(ids.head(0), [("Store", "Int64")])[0]["Store"].dtype == "Int64"
    assert typed_keys(ids, [])[0] is ids


def test_from_canonical_orders_typed_ids_as_numbers_within_the_leading_columns():
    spec = DatasetSpec(freq="D", item_col="Store", item_types=(("Store", "int64"),))
    forecast = pd.DataFrame(
        {
            "model": ["B"] * 3 + ["A"] * 3,
            "item_id": ["1", "10", "2"] * 2,
            "timestamp": pd.Timestamp("2024-01-01"),
        }
    )
    forecast.attrs["kept"] = True
    out = from_canonical(forecast, spec, leading=["model"])
    assert out[["model", "Store"]].values.tolist() == [
        ["B", 1],
        ["B", 2],
        ["B", 10],
        ["A", 1],
        ["A", 2],
        ["A", 10],
    ]
    assert out.attrs == {"kept": True}
    assert canonical_names(out, spec)["item_id"].tolist() == ["1", "2", "10"] * 2
    assert DatasetSpec.from_dict(spec.to_dict()).item_types == spec.item_types
