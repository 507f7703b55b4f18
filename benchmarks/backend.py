"""Benchmark of the backend: claim latency and end-to-end run throughput.

    .venv/bin/python benchmarks/backend.py [--runs 200] [--throughput-runs 300]

Starts uvicorn on a temporary SQLite file and measures, through the HTTP client:

* create -> claimed latency with one agent long-polling (runs created one at a time, each
  after the previous was claimed): the time from sending the create request to the agent
  receiving the claim;
* runs per second that are created, claimed, set Running and set Success, with 1 and 4
  agent threads while one thread creates the runs.

Prints a markdown table.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import threading
import time
from pathlib import Path

from jupyter_flows.client import Client
from jupyter_flows.server.testing import running_server


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def claim_latency(url: str, runs: int) -> list[float]:
    """Seconds from create request to claim, for ``runs`` runs created one at a time."""
    creator = Client(url)
    flow = creator.register_flow("latency", {"tasks": []})
    claimed_at: dict[str, float] = {}
    claimed = threading.Condition()
    stop = threading.Event()

    def agent() -> None:
        with Client(url) as client:
            agent_id = client.register_agent("latency-agent").id
            while not stop.is_set():
                claim = client.claim(agent_id, wait=2)
                if claim is not None:
                    with claimed:
                        claimed_at[claim.flow_run.id] = time.perf_counter()
                        claimed.notify_all()

    thread = threading.Thread(target=agent)
    thread.start()
    time.sleep(0.3)  # the agent is waiting
    latencies = []
    try:
        for _ in range(runs):
            started = time.perf_counter()
            run_id = creator.create_flow_run(flow.id).id
            with claimed:
                if not claimed.wait_for(lambda r=run_id: r in claimed_at, timeout=10):
                    raise RuntimeError(f"run {run_id} was not claimed within 10 s")
            latencies.append(claimed_at[run_id] - started)
    finally:
        stop.set()
        thread.join()
        creator.close()
    return latencies


def throughput(url: str, runs: int, agents: int) -> float:
    """Runs per second created, claimed, set Running and Success by ``agents`` threads."""
    creator = Client(url)
    flow = creator.register_flow(f"throughput-{agents}", {"tasks": []})
    finished = 0
    lock = threading.Lock()
    all_done = threading.Event()

    def agent(index: int) -> None:
        nonlocal finished
        with Client(url) as client:
            agent_id = client.register_agent(f"agent-{agents}-{index}").id
            while not all_done.is_set():
                claim = client.claim(agent_id, wait=0.5)
                if claim is None:
                    continue
                lease = claim.lease.lease_id
                client.set_flow_run_state(claim.flow_run.id, "Running", lease_id=lease)
                client.set_flow_run_state(claim.flow_run.id, "Success", lease_id=lease)
                with lock:
                    finished += 1
                    if finished == runs:
                        all_done.set()

    threads = [threading.Thread(target=agent, args=(i,)) for i in range(agents)]
    for thread in threads:
        thread.start()
    time.sleep(0.3)
    started = time.perf_counter()
    for _ in range(runs):
        creator.create_flow_run(flow.id)
    if not all_done.wait(timeout=300):
        raise RuntimeError(f"only {finished} of {runs} runs finished within 300 s")
    elapsed = time.perf_counter() - started
    for thread in threads:
        thread.join()
    creator.close()
    return runs / elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=200, help="runs for the latency test")
    parser.add_argument("--throughput-runs", type=int, default=300)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        rows = []
        with running_server(Path(tmp) / "latency.db") as url:
            latencies = claim_latency(url, args.runs)
        rows.append((f"create -> claimed latency, 1 waiting agent ({args.runs} runs)",
                     f"p50 {percentile(latencies, 0.5) * 1000:.1f} ms, "
                     f"p95 {percentile(latencies, 0.95) * 1000:.1f} ms, "
                     f"max {max(latencies) * 1000:.1f} ms, "
                     f"mean {statistics.mean(latencies) * 1000:.1f} ms"))
        for agents in (1, 4):
            with running_server(Path(tmp) / f"throughput-{agents}.db") as url:
                rate = throughput(url, args.throughput_runs, agents)
            rows.append((f"runs/s created -> claimed -> Running -> Success, {agents} agent(s) "
                         f"({args.throughput_runs} runs)", f"{rate:.1f}"))
    print("| measure (uvicorn, SQLite file, 127.0.0.1) | result |")
    print("| --- | --- |")
    for name, value in rows:
        print(f"| {name} | {value} |")


if __name__ == "__main__":
    main()
