"""`closures.zeroed` closes a forecast's values on closed days and nothing else."""

import numpy as np
import pandas as pd

from tidecast.automl.closures import zeroed


def test_a_closed_row_zeroes_the_mean_and_quantiles_but_not_other_columns_starting_with_p():
    forecast = pd.DataFrame(
        {
            "item_id": ["a", "a"],
            "mean": [5.0, 6.0],
            "p10": [3.0, 4.0],
            "p2.5": [1.0, 2.0],
            "p90": [7.0, 8.0],
            "peer_group": ["brand=B1", "brand=B1"],
            "peers": [41.0, 41.0],
            "price": [1.5, 1.5],
        }
    )
    out = zeroed(forecast, np.array([False, True]))
    assert out.loc[1, ["mean", "p10", "p2.5", "p90"]].tolist() == [0.0, 0.0, 0.0, 0.0]
    assert out.loc[1, ["peer_group", "peers", "price"]].tolist() == ["brand=B1", 41.0, 1.5]
    assert out.loc[0].equals(forecast.loc[0])
