"""Item ids of a forecast request's rows are keyed as training keys them (`id_strings`)."""

from tidecast.service.requests import ForecastRequest


def test_a_history_row_giving_a_key_part_as_a_float_is_keyed_by_its_whole_number():
    """A client that serialises a float store column sends {"Store": 1.0}: the joined id is
    "1|30", the id the model was trained with, not "1.0|30"."""
    rows = [
        {"Store": 1.0, "Dept": 30, "Date": "2024-01-01", "Sales": 3.0},
        {"Store": "01", "Dept": 2.5, "Date": "2024-01-01", "Sales": 3.0},
    ]
    aliases = {"Store,Dept": "item_id", "Date": "timestamp", "Sales": "target"}
    request = ForecastRequest.model_validate({"history": rows}, context={"aliases": aliases})
    assert [row.item_id for row in request.history or []] == ["1|30", "01|2.5"]
