"""The neural models on the demo hold-out: accuracy, CPU time, and GPU time when one is present.

Data: the demo hold-out of `demo_holdout.py` (125 daily series, seed 42, last 14 days held
out), with promotion and the holiday flag as known covariates and category and region as
item attributes. Each of DeepAR and CNN-QR is fitted with its defaults (seed 0) and timed
over fit and predict on the device the models pick (CUDA when torch sees a GPU, else the CPU
with one torch thread, faster than two for nets this small on a shared 2-core machine; see
`tidecast.models.neural`); the row names the device. LightGBM and DynamicRegression run
beside them as references.

Rerun: `.venv/bin/python benchmarks/neural.py`
"""

from __future__ import annotations

from typing import Any

from common import regenerate_markdown, score, timed, write_rows
from demo_holdout import HORIZON, KNOWN, SEASON, STATIC, split
from tidecast.data.schema import DatasetSpec
from tidecast.models.catalog import make_model

NAME = "demo_models"
MODELS = ("DeepAR", "CNNQR", "LightGBM", "DynamicRegression")


def run_model(name: str, device: str) -> dict[str, Any]:
    train, test = split()
    spec = DatasetSpec(freq="D", known_covariates=KNOWN, static_columns=STATIC)
    model = make_model(name, "D", n_jobs=1, seed=0)
    with timed() as fit_watch:
        model.fit(train, spec, HORIZON)
    with timed() as predict_watch:
        forecast = model.predict(train, future=test[["item_id", "timestamp", *KNOWN]])
    metrics = score(test, forecast, train, SEASON)
    total = fit_watch.seconds + predict_watch.seconds
    return {
        "dataset": NAME,
        "system": f"{name} ({device})",
        **metrics,
        "seconds": total,
        "seconds_all": f"fit {fit_watch.seconds:.1f} / predict {predict_watch.seconds:.1f}",
        "note": f"epochs {getattr(model, 'epochs_', '-')}",
    }


def main() -> list[dict[str, Any]]:
    import torch

    gpu = "cuda" if torch.cuda.is_available() else "cpu"
    rows = []
    for name in MODELS:
        row = run_model(name, gpu if name in ("DeepAR", "CNNQR") else "cpu")
        print(f"  {row['system']}: wQL {row['wql']:.4f}, {row['seconds_all']}", flush=True)
        rows.append(row)
    if gpu == "cpu":
        rows[0]["note"] += "; no GPU on this machine"
    write_rows(NAME, rows, [])
    return rows


if __name__ == "__main__":
    main()
    regenerate_markdown()
