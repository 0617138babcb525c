"""The SageMaker recipe's setting for tests/service/test_aws_recipe.py: its data prepared as the
recipe's steps 1 and 2 do, its job JSON as the API takes it, a keyed `tidecast serve` with
credentials from ``tidecast keys create-aws``, and the calls its scripts make.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
import pandas as pd
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError
from test_e2e_http import Service, create_key

from tidecast.data.demo import generate

BUCKET = "forecast-bucket"
HORIZON = 14
ROLE = "arn:aws:iam::000000000000:role/AutoMLForecastingRole"
FAST = Config(retries={"max_attempts": 1}, read_timeout=120)


@dataclass
class Recipe:
    service: Service
    data_root: Path
    key_id: str
    secret: str
    train: pd.DataFrame
    validation: pd.DataFrame

    def client(self, name: str) -> Any:
        return boto3.client(
            name,
            endpoint_url=self.service.url,
            region_name="us-east-1",
            aws_access_key_id=self.key_id,
            aws_secret_access_key=self.secret,
            config=FAST,
        )


def job_config(name: str, endpoint: str | None) -> dict[str, Any]:
    """The recipe's automl_job_config.json as the API takes it (ChannelType, not ChannelName)."""
    channel = {
        "ContentType": "text/csv;header=present",
        "CompressionType": "None",
    }
    config: dict[str, Any] = {
        "AutoMLJobName": name,
        "AutoMLJobInputDataConfig": [
            {
                **channel,
                "ChannelType": "validation",
                "DataSource": {
                    "S3DataSource": {
                        "S3DataType": "S3Prefix",
                        "S3Uri": f"s3://{BUCKET}/automl-data/validation/",
                    }
                },
            },
            {
                **channel,
                "ChannelType": "training",
                "DataSource": {
                    "S3DataSource": {"S3DataType": "S3Prefix", "S3Uri": f"s3://{BUCKET}/automl-data/train/"}
                },
            },
        ],
        "OutputDataConfig": {"S3OutputPath": f"s3://{BUCKET}/automl-output/"},
        "RoleArn": ROLE,
        "AutoMLProblemTypeConfig": {
            "TimeSeriesForecastingJobConfig": {
                "ForecastFrequency": "D",
                "ForecastHorizon": HORIZON,
                "TimeSeriesConfig": {
                    "TargetAttributeName": "target_value",
                    "TimestampAttributeName": "timestamp",
                    "ItemIdentifierAttributeName": "item_id",
                },
                "ForecastQuantiles": ["p10", "p50", "p90"],
                "Transformations": {"Aggregation": {"target_value": "sum"}},
                "CandidateGenerationConfig": {"AlgorithmsConfig": [{"AutoMLAlgorithms": ["npts", "ets"]}]},
            }
        },
        "AutoMLJobObjective": {"MetricName": "MAPE"},
    }
    if endpoint is not None:
        config["ModelDeployConfig"] = {"AutoGenerateEndpointName": False, "EndpointName": endpoint}
    return config


@contextmanager
def running_recipe(home: Path, data_root: Path) -> Iterator[Recipe]:
    """A keyed service on 127.0.0.1 over `data_root` (standing in for S3) with the recipe's data
    prepared as its step 2 does, and credentials issued by ``tidecast keys create-aws``."""
    # the recipe's prepare step: the demo panel's columns, split 80/20 by time
    data = generate(n_items=3)[
        ["timestamp", "target_value", "item_id", "promotion", "is_holiday", "day_of_week", "month", "quarter"]
    ]
    dates = sorted(data["timestamp"].unique())
    split = dates[int(len(dates) * 0.8)]
    train, validation = data[data["timestamp"] <= split], data[data["timestamp"] > split]
    for part, frame in (("train", train), ("validation", validation)):
        folder = data_root / BUCKET / "automl-data" / part
        folder.mkdir(parents=True)
        frame.to_csv(folder / f"automl_{part}_data.csv", index=False)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TIDECAST_", "AWS_"))}
    env.update(TIDECAST_HOME=str(home), TIDECAST_DATA_ROOT=str(data_root), TIDECAST_LOG_LEVEL="INFO")
    issued = subprocess.run(
        [sys.executable, "-m", "tidecast.cli", "keys", "create-aws", "recipe", "--role", "admin"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    pairs = dict(line.split(" = ") for line in issued.stdout.splitlines() if " = " in line)
    service = Service(home=home, env=env)
    service.admin = create_key(env, "ops", "admin")  # native API keys work beside the credentials
    service.start()
    try:
        yield Recipe(
            service, data_root, pairs["aws_access_key_id"], pairs["aws_secret_access_key"], train, validation
        )
    finally:
        service.stop()


def wait_for_job(sagemaker: Any, name: str, timeout: float = 400) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        described = sagemaker.describe_auto_ml_job_v2(AutoMLJobName=name)
        if described["AutoMLJobStatus"] in ("Completed", "Failed", "Stopped"):
            return described
        time.sleep(1)
    raise AssertionError(f"{name} did not finish in {timeout}s")


def deepar_request(frame: pd.DataFrame, item: str, quantiles: list[str]) -> dict[str, Any]:
    """The recipe's generate_automl_forecasts.py request for one item."""
    rows = frame[frame["item_id"] == item].sort_values("timestamp")
    return {
        "instances": [
            {
                "start": str(rows["timestamp"].iloc[0]),
                "target": rows["target_value"].tolist(),
                "item_id": item,
            }
        ],
        "configuration": {"num_samples": 100, "output_types": ["mean", "quantiles"], "quantiles": quantiles},
    }


def error(call: Any, **kwargs: Any) -> tuple[str, str]:
    with pytest.raises(ClientError) as caught:
        call(**kwargs)
    return caught.value.response["Error"]["Code"], caught.value.response["Error"]["Message"]
