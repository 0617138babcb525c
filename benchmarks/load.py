"""Load test of the forecast API: the real `tidecast serve` on loopback, hit by another process.

Setup (scripted here, in a temporary TIDECAST_HOME): an `AutoForecaster(horizon=14,
preset="fast")` is fitted on the demo data's target only (`generate(125, 42)`, so no future
covariates are needed), saved, registered and approved through `tidecast.registry.registry`,
and a `forecast`-role API key is created with `KeyStore`. Then the server runs as it would in
production, `python -m tidecast.service.server --host 127.0.0.1 --port <free> --workers 1`
(one uvicorn process; one job worker, idle), and the version is deployed to the endpoint
``demo`` through HTTP with an admin key.

The load comes from a separate process (this script with ``--client``: one keep-alive
HTTP/1.1 connection per simulated client, a bare asyncio protocol on uvloop when installed;
a minimal client, checked against httpx once per scenario, since on 2 cores the client's CPU
is taken from the server: httpx spends milliseconds per request, this client about 0.1 ms).
Closed loop, no think time: each client sends its next request as soon as the answer is read.
Each scenario runs a warm-up (answers discarded) then a measured window; counted are the
requests completing inside the window (as wrk does), latency client-side from sending the
request to having read the whole answer. At the window's end requests still in flight are
abandoned (``in_flight``), so every scenario is bounded in time; a request budget bounds the
count too. The deploy warms the endpoint's per-item forecast cache. Scenarios:

- ``stored x1``: ``{"item_ids": [one random item]}``, at 1 and 50 clients, and at 50 clients
  paced to 100 requests/s in all (latency below saturation rather than at it);
- ``stored x100``: 100 random stored items per request;
- ``fresh x1``: one item's last 365 days as ``history`` rows (no refit; a model call each);
- ``fresh x100``: 100 items' last 365 days (36,500 rows, about 3 MB, under the 10 MiB limit);

each at 1 and 50 concurrent clients. Written: `results/load.csv` (requests, errors, requests/s,
p50/p90/p99 ms, the 1-minute load average before each run, and the CPU milliseconds per
answered request of the server's processes and of the client, warm-up included: on a shared
machine latency depends on what else runs, CPU per request much less) and
`results/load.bars.csv` (the issue's bar: stored-item single-item p99 at 50 concurrent clients
below 50 ms on 2 cores, closed loop).

`--quick` (2 s per scenario after 1 s of warm-up) writes to `benchmarks/.cache/quick/`.

Rerun: `.venv/bin/python benchmarks/load.py [--quick] [--seconds 10] [--warmup 2]`
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

import numpy as np
import pandas as pd

NAME = "load"
HORIZON = 14
ENDPOINT = "demo"
FRESH_DAYS = 365
BATCH = 100
CONCURRENCY = (1, 50)
SCENARIOS = ("stored x1", "stored x100", "fresh x1", "fresh x100")
MAX_REQUESTS = 200_000  # per scenario: a second bound besides the time
P99_BAR_MS = 50.0
PACED_RPS = 100.0  # all 50 clients together, 2 requests/s each: latency below saturation
# (concurrent clients, paced total requests/s or None for a closed loop) per scenario
RUNS: dict[str, list[tuple[int, float | None]]] = {
    scenario: [(c, None) for c in CONCURRENCY] for scenario in SCENARIOS
}
RUNS["stored x1"].append((max(CONCURRENCY), PACED_RPS))
BODIES_PER_SCENARIO = {"stored x1": 500, "stored x100": 50, "fresh x1": 125, "fresh x100": 8}
COLUMNS = (
    "scenario",
    "concurrency",
    "paced_rps",
    "requests",
    "errors",
    "rps",
    "p50_ms",
    "p90_ms",
    "p99_ms",
    "max_ms",
    "body_kb",
    "in_flight",
    "seconds",
    "load_avg_1m",
    "server_cpu_ms",
    "client_cpu_ms",
    "note",
)


# ---- setup: model, registry, server ------------------------------------------------------------
def demo_data() -> pd.DataFrame:
    from tidecast.data.demo import generate

    data = generate(n_items=125, seed=42)[["item_id", "timestamp", "target_value"]]
    data["item_id"] = data["item_id"].astype(str)
    return data


def train_and_register(home: Path, data: pd.DataFrame) -> float:
    """Fit the fast model, save it, register and approve version 1 of group `demo`; the fit
    seconds."""
    from tidecast.automl.forecaster import AutoForecaster
    from tidecast.registry.registry import open_registry
    from tidecast.registry.settings import ServiceSettings

    started = time.perf_counter()
    model = AutoForecaster(horizon=HORIZON, target_col="target_value", preset="fast", n_jobs=1)
    model.fit(data)
    fit_seconds = time.perf_counter() - started
    folder = home / "trained"
    model.save(folder)
    with open_registry(ServiceSettings(home=home)) as registry:
        version = registry.register(ENDPOINT, folder, description="load benchmark")
        registry.approve(ENDPOINT, version.version)
    return fit_seconds


def create_keys(home: Path) -> tuple[str, str]:
    """(admin, forecast) API keys, straight into the service's database."""
    from tidecast.registry.db import Database
    from tidecast.registry.settings import ServiceSettings
    from tidecast.registry.statuses import ApiKeyRole
    from tidecast.service.auth import KeyStore

    database = Database.from_url(ServiceSettings(home=home).database_url)
    try:
        database.migrate()
        keys = KeyStore(database.sessions)
        return keys.create("ops", ApiKeyRole.ADMIN), keys.create("client", ApiKeyRole.FORECAST)
    finally:
        database.dispose()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def running_server(home: Path, timeout: float = 60.0, **settings: str) -> Iterator[tuple[str, int]]:
    """`python -m tidecast.service.server` on a free loopback port until the block ends: its
    (URL, process id); `settings` are extra `TIDECAST_<NAME>` variables (`open_mode="1"`)."""
    import httpx

    port = free_port()
    url = f"http://127.0.0.1:{port}"
    env = {k: v for k, v in os.environ.items() if not k.startswith("TIDECAST_")}
    env.update(TIDECAST_HOME=str(home), TIDECAST_LOG_LEVEL="INFO")
    env.update({f"TIDECAST_{name.upper()}": value for name, value in settings.items()})
    log = (home / "server.log").open("ab")
    command = [sys.executable, "-m", "tidecast.service.server", "--host", "127.0.0.1"]
    process = subprocess.Popen(
        [*command, "--port", str(port), "--workers", "1"], env=env, stdout=log, stderr=subprocess.STDOUT
    )
    try:
        deadline = time.monotonic() + timeout
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"the server exited with {process.returncode}; see {home / 'server.log'}")
            try:
                if httpx.get(url + "/health", timeout=2).json()["workers"]["alive"] == 1:
                    break
            except (httpx.HTTPError, ValueError, KeyError):
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"the server was not healthy after {timeout}s")
            time.sleep(0.2)
        yield url, process.pid
    finally:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of a process and its live descendants (the server: uvicorn's
    process and the idle job worker)."""
    import psutil

    total = 0.0
    try:
        root = psutil.Process(pid)
        processes = [root, *root.children(recursive=True)]
    except psutil.NoSuchProcess:
        return total
    for process in processes:
        try:
            times = process.cpu_times()
        except psutil.NoSuchProcess:
            continue
        total += times.user + times.system
    return total


def deploy(url: str, admin: str) -> None:
    import httpx

    response = httpx.post(
        url + "/v1/endpoints",
        json={"name": ENDPOINT, "group": ENDPOINT},
        headers={"X-API-Key": admin},
        timeout=60,
    )
    if response.status_code not in (200, 201):  # 200: redeployed over an existing endpoint
        raise RuntimeError(f"deploy failed: {response.status_code} {response.text}")


# ---- request bodies ----------------------------------------------------------------------------
def make_bodies(data: pd.DataFrame, scenario: str, seed: int = 0) -> list[bytes]:
    """Request bodies for a scenario (random items, reproducible), cycled through by the clients."""
    rng = random.Random(seed)
    items = sorted(data["item_id"].unique())
    count = BODIES_PER_SCENARIO[scenario]
    per_request = BATCH if scenario.endswith("x100") else 1
    chosen = [rng.sample(items, per_request) for _ in range(count)]
    if scenario.startswith("stored"):
        return [json.dumps({"item_ids": ids}).encode() for ids in chosen]
    tails = data.groupby("item_id", sort=False).tail(FRESH_DAYS)
    by_item = {item: frame for item, frame in tails.groupby("item_id", sort=False)}
    bodies = []
    for ids in chosen:
        rows = []
        for item in ids:
            frame = by_item[item]
            stamps = frame["timestamp"].dt.strftime("%Y-%m-%d").tolist()
            targets = frame["target_value"].astype(float).tolist()
            rows += [
                {"item_id": item, "timestamp": t, "target": v} for t, v in zip(stamps, targets, strict=True)
            ]
        bodies.append(json.dumps({"history": rows}).encode())
    return bodies


# ---- the load generator (runs in its own process) ----------------------------------------------
class Connection(asyncio.Protocol):
    """One keep-alive HTTP/1.1 connection speaking just what the benchmark needs: POST a body,
    read the status and a Content-Length body in full.

    Deliberately not httpx, and not even asyncio's streams: on 2 cores the client shares the
    CPU with the server, and every microsecond it spends is one the server does not get.
    httpx spends a few milliseconds of CPU per request (more than the server spends answering
    a cached forecast); asyncio streams plus a `wait_for` per request spent about 0.3 ms. A
    bare protocol, one future per request and no per-request timer (`_drive` stops the
    clients with one timer) costs tens of microseconds. `load.py` checks it against httpx
    once per scenario (`check_client`).
    """

    def __init__(self, host: str, port: int, path: str, key: str) -> None:
        self.host, self.port = host, port
        self.head = (
            f"POST {path} HTTP/1.1\r\nHost: {host}:{port}\r\nX-API-Key: {key}\r\n"
            "Content-Type: application/json\r\nContent-Length: "
        ).encode()
        self.transport: asyncio.Transport | None = None
        self._buffer = bytearray()
        self._waiter: asyncio.Future[tuple[int, bytes]] | None = None
        self._status = 0
        self._length = -1  # the answer's Content-Length once its head is read
        self._close_after = False

    # ---- asyncio.Protocol ----------------------------------------------------------------
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.Transport, transport)  # uvloop's is not a subclass

    def data_received(self, data: bytes) -> None:
        self._buffer += data
        try:
            self._read_answer()
        except ValueError as exc:
            self._fail(exc)

    def connection_lost(self, exc: Exception | None) -> None:
        self.transport = None
        self._fail(exc or ConnectionResetError("the server closed the connection"))

    # ---- requests -----------------------------------------------------------------------
    async def post(self, body: bytes) -> tuple[int, bytes]:
        loop = asyncio.get_running_loop()
        if self.transport is None:
            self._buffer.clear()
            self._length = -1
            await loop.create_connection(lambda: self, self.host, self.port)
        assert self.transport is not None
        self._waiter = loop.create_future()
        self.transport.write(self.head + str(len(body)).encode() + b"\r\n\r\n" + body)
        return await self._waiter

    async def close(self) -> None:
        if self.transport is not None:
            self.transport.close()
        self.transport = None

    def _read_answer(self) -> None:
        if self._length < 0:
            end = self._buffer.find(b"\r\n\r\n")
            if end < 0:
                return
            lines = self._buffer[:end].decode("latin-1").split("\r\n")
            del self._buffer[: end + 4]
            self._status = int(lines[0].split(" ", 2)[1])
            headers = {
                k.strip().lower(): v.strip()
                for k, _, v in (line.partition(":") for line in lines[1:] if line)
            }
            if "content-length" not in headers:
                raise ValueError(f"no Content-Length in the answer: {lines[:3]}")
            self._length = int(headers["content-length"])
            self._close_after = headers.get("connection", "").lower() == "close"
        if len(self._buffer) < self._length:
            return
        payload = bytes(self._buffer[: self._length])
        del self._buffer[: self._length]
        self._length = -1
        if self._close_after and self.transport is not None:
            self.transport.close()
            self.transport = None
        waiter, self._waiter = self._waiter, None
        if waiter is not None and not waiter.done():
            waiter.set_result((self._status, payload))

    def _fail(self, exc: Exception) -> None:
        waiter, self._waiter = self._waiter, None
        if waiter is not None and not waiter.done():
            waiter.set_exception(exc)


async def _client_loop(
    connection: Connection,
    bodies: list[bytes],
    rng: random.Random,
    measure_from: float,
    stop_at: float,
    budget: list[int],
    out: list[tuple[float, int]],
    cut: list[int],
    interval: float = 0.0,
    done: list[int] | None = None,
) -> None:
    """One simulated client: request, read the whole answer, repeat (every `interval` seconds
    when paced, else at once), until `_drive` cancels it at `stop_at` or the shared request
    budget is spent. Records (latency s, status; 0 for a transport error) of each request that
    completes inside the measured window, as wrk does; a request still in flight at
    `stop_at` is abandoned and counted in `cut`, so the run is bounded in time."""
    due = time.perf_counter() + rng.uniform(0.0, interval)  # paced clients start spread out
    while budget[0] > 0:
        if interval:
            try:
                await asyncio.sleep(max(0.0, due - time.perf_counter()))
            except asyncio.CancelledError:
                return
            due += interval
        started = time.perf_counter()
        if started >= stop_at:
            return
        try:
            status, _ = await connection.post(rng.choice(bodies))
        except asyncio.CancelledError:
            cut[0] += 1
            return
        except (OSError, ValueError):  # an error, not a crash
            status = 0
            await connection.close()
        finished = time.perf_counter()
        if done is not None:
            done[0] += 1
        if finished >= measure_from:
            budget[0] -= 1
            out.append((finished - started, status))


async def _drive(spec: dict[str, Any], bodies: list[bytes]) -> dict[str, Any]:
    """`concurrency` clients, each on its own connection, for the warm-up and the window;
    one timer cancels the clients still waiting at the window's end."""
    host, port = spec["host"], int(spec["port"])
    concurrency = int(spec["concurrency"])
    connections = [Connection(host, port, spec["path"], spec["key"]) for _ in range(concurrency)]
    out: list[tuple[float, int]] = []
    cut = [0]
    done = [0]  # answers read, warm-up included: what the server's CPU time was spent on
    cpu_started = time.process_time()
    try:
        start = time.perf_counter()
        measure_from = start + float(spec["warmup"])
        stop_at = measure_from + float(spec["seconds"])
        budget = [int(spec["max_requests"])]
        rngs = [random.Random(1000 * int(spec["seed"]) + k) for k in range(concurrency)]
        interval = concurrency / float(spec["rate"]) if spec.get("rate") else 0.0
        clients = [
            asyncio.ensure_future(
                _client_loop(c, bodies, rngs[k], measure_from, stop_at, budget, out, cut, interval, done)
            )
            for k, c in enumerate(connections)
        ]
        stopper = asyncio.get_running_loop().call_later(
            stop_at - time.perf_counter(), lambda: [c.cancel() for c in clients if not c.done()]
        )
        await asyncio.gather(*clients)
        stopper.cancel()
        elapsed = min(time.perf_counter(), stop_at) - measure_from
    finally:
        for connection in connections:
            await connection.close()
    return {
        "latencies": [lat for lat, _ in out],
        "statuses": [s for _, s in out],
        "seconds": elapsed,
        "in_flight_at_stop": cut[0],
        "answered": done[0],
        "cpu_seconds": time.process_time() - cpu_started,
    }


def check_client(url: str, key: str, body: bytes) -> None:
    """The raw client and httpx get the same answer to the same request (sanity check)."""
    import httpx

    host, port = url.removeprefix("http://").split(":")
    path = f"/v1/endpoints/{ENDPOINT}/forecast"

    async def raw() -> tuple[int, bytes]:
        connection = Connection(host, int(port), path, key)
        try:
            return await connection.post(body)
        finally:
            await connection.close()

    status, payload = asyncio.run(raw())
    reference = httpx.post(
        url + path, content=body, headers={"X-API-Key": key, "Content-Type": "application/json"}, timeout=60
    )
    if (status, json.loads(payload)) != (reference.status_code, reference.json()) or status != 200:
        raise RuntimeError(f"the raw client disagrees with httpx: {status} vs {reference.status_code}")


def client_main() -> None:
    """``load.py --client``: a spec (JSON line) and the bodies (length-prefixed) on stdin; the
    measurements (JSON) into the file the spec names (not stdout, where the parent sometimes
    received only the first 128 KiB of a longer answer)."""
    stream = sys.stdin.buffer
    spec = json.loads(stream.readline())
    bodies = [stream.read(int(stream.readline())) for _ in range(int(spec["n_bodies"]))]
    with asyncio.Runner(loop_factory=_event_loop_factory()) as runner:
        result = runner.run(_drive(spec, bodies))
    Path(spec["result_path"]).write_text(json.dumps(result))


def _event_loop_factory() -> Any:
    """uvloop's loop when installed (less CPU per request for the client too), else asyncio's."""
    try:
        import uvloop
    except ImportError:
        return None
    return uvloop.new_event_loop


def run_scenario(
    url: str,
    key: str,
    bodies: list[bytes],
    concurrency: int,
    seconds: float,
    warmup: float,
    seed: int,
    rate: float | None = None,
) -> dict[str, Any]:
    """Run one scenario in a client subprocess; its numbers, measured there. `rate`: requests
    per second of all clients together (paced), else as fast as answers come back."""
    host, port = url.removeprefix("http://").split(":")
    spec = {
        "host": host,
        "port": int(port),
        "path": f"/v1/endpoints/{ENDPOINT}/forecast",
        "key": key,
        "concurrency": concurrency,
        "seconds": seconds,
        "warmup": warmup,
        "max_requests": MAX_REQUESTS,
        "seed": seed,
        "rate": rate,
        "n_bodies": len(bodies),
    }
    handle, result_path = tempfile.mkstemp(prefix="tidecast-load-", suffix=".json")
    os.close(handle)
    spec["result_path"] = result_path
    payload = bytearray(json.dumps(spec).encode() + b"\n")
    for body in bodies:
        payload += f"{len(body)}\n".encode() + body
    try:
        done = subprocess.run(
            [sys.executable, str(Path(__file__).resolve()), "--client"],
            input=bytes(payload),
            capture_output=True,
            timeout=warmup + seconds + 120,  # the client stops itself at warmup + seconds
            check=False,
        )
        if done.returncode != 0:
            raise RuntimeError(f"the load client failed: {done.stderr.decode(errors='replace')[-2000:]}")
        result: dict[str, Any] = json.loads(Path(result_path).read_text())
    finally:
        Path(result_path).unlink(missing_ok=True)
    return result


def summarise(
    scenario: str,
    concurrency: int,
    result: dict[str, Any],
    body_kb: float,
    load_avg: float,
    rate: float | None = None,
) -> dict[str, Any]:
    latencies = np.asarray(result["latencies"], dtype=float) * 1000.0
    statuses = np.asarray(result["statuses"], dtype=int)
    ok = latencies[statuses == 200]
    errors = int((statuses != 200).sum())
    codes = sorted({int(s) for s in statuses if s != 200})

    def pct(q: float) -> float:
        return float(np.percentile(ok, q)) if len(ok) else float("nan")

    def per_answer_ms(cpu: float | None) -> float:
        answered = int(result.get("answered", 0))
        return 1000.0 * cpu / answered if cpu is not None and answered else float("nan")

    return {
        "scenario": scenario,
        "concurrency": concurrency,
        "paced_rps": rate,
        "requests": len(statuses),
        "errors": errors,
        "rps": len(statuses) / result["seconds"] if result["seconds"] > 0 else float("nan"),
        "p50_ms": pct(50),
        "p90_ms": pct(90),
        "p99_ms": pct(99),
        "max_ms": float(ok.max()) if len(ok) else float("nan"),
        "body_kb": body_kb,
        "seconds": result["seconds"],
        "load_avg_1m": load_avg,
        "in_flight": int(result.get("in_flight_at_stop", 0)),
        "server_cpu_ms": per_answer_ms(result.get("server_cpu_seconds")),
        "client_cpu_ms": per_answer_ms(result.get("cpu_seconds")),
        "note": f"error statuses {codes} (0: transport)" if codes else "",
    }


# ---- results -----------------------------------------------------------------------------------
def bars_for(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    from common import bar

    target = next(
        r
        for r in rows
        if r["scenario"] == "stored x1" and r["concurrency"] == max(CONCURRENCY) and not r["paced_rps"]
    )
    detail = (
        f"p99 {target['p99_ms']:.1f} ms, p50 {target['p50_ms']:.1f} ms, {target['rps']:.0f} req/s, "
        f"{target['errors']} errors; load average {target['load_avg_1m']:.2f} on {os.cpu_count()} cores"
    )
    value = target["p99_ms"] / P99_BAR_MS if target["errors"] == 0 else float("nan")
    return [bar(NAME, "service: stored single-item forecast p99 at 50 clients ÷ 50 ms", value, 1.0, detail)]


def write_results(rows: list[dict[str, Any]], bars: list[dict[str, Any]]) -> Path:
    import common

    common.RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    table = pd.DataFrame(rows).reindex(columns=list(COLUMNS))
    table["run_at"] = time.strftime("%Y-%m-%d %H:%M")
    table["machine"] = common.machine()
    table["engine"] = common.engine_version()
    path = common.RESULTS_DIR / f"{NAME}.csv"
    table.to_csv(path, index=False)
    pd.DataFrame(bars).reindex(columns=list(common.BAR_COLUMNS)).to_csv(
        common.RESULTS_DIR / f"{NAME}.bars.csv", index=False
    )
    return path


def main(seconds: float = 10.0, warmup: float = 2.0) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Set up, load every scenario at every concurrency, write the results; the rows and bars."""
    from report import bars_markdown, load_markdown

    home = Path(tempfile.mkdtemp(prefix="tidecast-load-"))
    try:
        data = demo_data()
        fit_seconds = train_and_register(home, data)
        print(f"fitted the fast model in {fit_seconds:.1f}s", flush=True)
        admin, key = create_keys(home)
        rows: list[dict[str, Any]] = []
        with running_server(home) as (url, pid):
            deploy(url, admin)
            for k, scenario in enumerate(SCENARIOS):
                bodies = make_bodies(data, scenario, seed=k)
                check_client(url, key, bodies[0])
                body_kb = float(np.mean([len(b) for b in bodies])) / 1024
                for concurrency, rate in RUNS[scenario]:
                    load_avg = os.getloadavg()[0]
                    server_cpu = cpu_seconds(pid)
                    result = run_scenario(url, key, bodies, concurrency, seconds, warmup, k, rate)
                    result["server_cpu_seconds"] = cpu_seconds(pid) - server_cpu
                    row = summarise(scenario, concurrency, result, body_kb, load_avg, rate)
                    rows.append(row)
                    print(
                        f"  {scenario:12s} c={concurrency:<3d} {'paced' if rate else 'closed'} "
                        f"{row['requests']:6d} req {row['errors']} err {row['rps']:8.1f} req/s  "
                        f"p50 {row['p50_ms']:8.1f}  p90 {row['p90_ms']:8.1f}  p99 {row['p99_ms']:8.1f} ms  "
                        f"CPU/request server {row['server_cpu_ms']:.3f} client {row['client_cpu_ms']:.3f} ms  "
                        f"(load {load_avg:.2f})",
                        flush=True,
                    )
        bars = bars_for(rows)
        write_results(rows, bars)
        print(load_markdown(pd.DataFrame(rows)))
        print()
        print(bars_markdown(pd.DataFrame(bars)))
        return rows, bars
    finally:
        shutil.rmtree(home, ignore_errors=True)


@dataclass(frozen=True)
class Durations:
    seconds: float
    warmup: float


FULL = Durations(10.0, 2.0)
QUICK = Durations(2.0, 1.0)


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--client", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--quick", action="store_true", help="2 s per scenario after a 1 s warm-up")
    parser.add_argument("--seconds", type=float, help="measured seconds per scenario (default 10)")
    parser.add_argument("--warmup", type=float, help="warm-up seconds per scenario (default 2)")
    args = parser.parse_args()
    if args.client:
        client_main()
    else:
        import common

        base = QUICK if args.quick else FULL
        if args.quick:  # like run_all.py --quick: a smoke test, kept out of results/
            common.use_results_dir(common.BENCH_DIR / ".cache" / "quick")
        main(args.seconds or base.seconds, args.warmup or base.warmup)
        common.regenerate_markdown()
