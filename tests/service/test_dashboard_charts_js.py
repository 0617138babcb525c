"""The dashboard's chart helpers (js/charts.js: timestamps to uPlot's epoch seconds, aligning
series on one time axis, covariate spans) run under Node.js, where it is installed."""

from __future__ import annotations

import json
import shutil
import subprocess

import pytest

from tidecast.service.routes.dashboard import ASSETS

NODE = shutil.which("node")


@pytest.mark.skipif(NODE is None, reason="Node.js is not installed")
def test_when_series_are_aligned_then_timestamps_of_every_form_meet_on_one_axis() -> None:
    script = f"""
    const m = await import({json.dumps((ASSETS / "js" / "charts.js").as_uri())});
    console.log(JSON.stringify({{
      epochs: ["2024-02-05", "2024-02-05T00:00:00", "2024-02-05T01:00:00+01:00", "2024-02-05T00:00:00Z"].map(m.epoch),
      aligned: m.align([{{x: ["2024-01-02", "2024-01-01"], y: [2, 1]}}, {{x: ["2024-01-03T00:00:00"], y: [3]}}]),
      spans: m.nonZeroSpans([0, 10, 20, 30, 40], [0, 1, 1, null, 1]),
    }}));
    """
    assert NODE is not None
    out = subprocess.run(
        [NODE, "--input-type=module", "-e", script], capture_output=True, text=True, timeout=60, check=True
    )
    got = json.loads(out.stdout)
    assert got["epochs"] == [1707091200] * 4
    day = 86400
    assert got["aligned"] == [
        [1704067200, 1704067200 + day, 1704067200 + 2 * day],
        [1, 2, None],
        [None, None, 3],
    ]
    assert got["spans"] == [{"from": 5, "to": 25}, {"from": 35, "to": 45}]


@pytest.mark.skipif(NODE is None, reason="Node.js is not installed")
def test_a_jobs_page_refreshes_while_the_job_can_still_change() -> None:
    """It refreshed for "Queued" and "Running", a status the service never gives: a job opened
    while InProgress stayed so on the page after it completed."""
    script = f"""
    const m = await import({json.dumps((ASSETS / "js" / "pages" / "jobs.js").as_uri())});
    console.log(JSON.stringify(["Queued", "InProgress", "Stopping", "Completed", "Failed", "Stopped"].map(m.moving)));
    """
    assert NODE is not None
    out = subprocess.run(
        [NODE, "--input-type=module", "-e", script], capture_output=True, text=True, timeout=60, check=True
    )
    assert json.loads(out.stdout) == [True, True, True, False, False, False]


@pytest.mark.skipif(NODE is None, reason="Node.js is not installed")
def test_the_explorer_shades_a_flag_at_first_never_a_level_such_as_a_price() -> None:
    """dominicks_oj: the first covariate, price, is non-zero everywhere and shaded the whole chart."""
    script = f"""
    const m = await import({json.dumps((ASSETS / "js" / "pages" / "explorer.js").as_uri())});
    const price = {{name: "price", values: [2.1, 2.3, null]}}, deal = {{name: "deal", values: [0, 1, 0]}};
    const always = {{name: "open", values: [1, 1, 1]}}, share = {{name: "promo_share", values: [0, 0.5, 1]}};
    console.log(JSON.stringify([m.shadeFirst([price, deal]), m.shadeFirst([price, always, share]), m.shadeFirst([])]));
    """
    assert NODE is not None
    out = subprocess.run(
        [NODE, "--input-type=module", "-e", script], capture_output=True, text=True, timeout=60, check=True
    )
    assert json.loads(out.stdout) == ["deal", "", ""]
