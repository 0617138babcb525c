"""A training job's covariates when it uses every column of its data (`covariates.features`).

A SageMaker `CreateAutoMLJobV2` body names the target, timestamp, item and grouping columns and
nothing else, and SageMaker trains on every other column; tidecast read none of them and said
nothing, so a file with promotions and prices trained on the sales alone. With "all", the
data is read once here and each undeclared column gets the role its values show
(`data.roles.infer_roles`); the run's report carries the note that says which.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from tidecast.data.io import read_table
from tidecast.jobs.request import JobRequest


def feature_options(request: JobRequest, data: Any) -> tuple[dict[str, Any], Any, str | None]:
    """The request's AutoML options, the data (read once here when its columns are needed) and a
    note on the roles given; with `covariates.features` "all", every undeclared column of the data
    joins the covariates by the role its values show (`data.roles`)."""
    options = request.forecaster_options()
    if request.covariates.features != "all":
        return options, data, None
    from tidecast.data.item_keys import item_parts, text_columns
    from tidecast.data.roles import infer_roles

    item_col = str(options["item_col"])
    frame = data if isinstance(data, pd.DataFrame) else read_table(data, text_columns=text_columns(item_col))
    declared = [
        *(options["known_covariates"] or ()),
        *(options["past_covariates"] or ()),
        *(options["static_columns"] or ()),
    ]
    roles = infer_roles(
        frame,
        item_parts(item_col),
        str(options["timestamp_col"]),
        str(options["target_col"]),
        declared,
        options.get("date_format"),
    )
    for option, found in (("known_covariates", roles.known), ("static_columns", roles.static)):
        if found:
            options[option] = [*(options[option] or ()), *found]
    return options, frame, roles.note()
