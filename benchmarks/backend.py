"""Benchmark of the backend: claim latency and end-to-end run throughput.

    .venv/bin/python benchmarks/backend.py [--runs 200] [--throughput-runs 300]
        [--agent-runs 30] [--cancel-runs 10] [--only cancel]

Starts uvicorn on a temporary SQLite file and measures, through the HTTP client:

* create -> claimed latency with one agent long-polling (runs created one at a time, each
  after the previous was claimed): the time from sending the create request to the agent
  receiving the claim;
* runs per second that are created, claimed, set Running and set Success, with 1 and 4
  agent threads while one thread creates the runs;
* submit -> Running through a real ``LocalAgent`` subprocess that launches a real flow-run
  process for each run (registered flow, Local storage): the time from the create request
  to the Running state written by the flow-run process, read from the run's state history;
* cancel -> Cancelled through a real ``LocalAgent``: a run whose task sleeps in Python is
  cancelled once its task runs; the time from the cancel (the run's ``Cancelling`` state)
  to the ``Cancelled`` state its flow-run process writes, from the run's state history.

``--only cancel`` (or ``claim``, ``agent``, ``throughput``) runs one measure.

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


def _noop() -> int:
    return 1


def agent_latency(url: str, tmp: str, runs: int) -> list[float]:
    """Seconds from create to Running through a real local agent and flow-run process."""
    import os
    import subprocess
    import sys

    from jupyter_flows import Flow, Local, task

    client = Client(url)
    with Flow("agent-latency", storage=Local(directory=f"{tmp}/flows")) as flow:
        task(_noop)()
    record = flow.register(client=client)
    env = {**os.environ, "JUPYTER_FLOWS_BACKEND_URL": url}
    agent = subprocess.Popen([sys.executable, "-m", "jupyter_flows", "agent", "local", "start",
                              "--poll-wait", "10"], env=env, stdout=subprocess.DEVNULL,
                             stderr=subprocess.DEVNULL)
    latencies = []
    try:
        for _ in range(runs):
            run = client.create_flow_run(record.id)
            while client.get_flow_run(run.id).state not in ("Success", "Failed", "Crashed"):
                time.sleep(0.05)
            history = {s.state: s.timestamp for s in client.get_flow_run_states(run.id)}
            latencies.append((history["Running"] - history["Scheduled"]).total_seconds())
    finally:
        agent.terminate()
        agent.wait(timeout=30)
        client.close()
    return latencies


def _nap() -> None:
    for _ in range(1200):  # Python code: the interrupt stops it at once
        time.sleep(0.05)


def cancel_latency(url: str, tmp: str, runs: int) -> list[float]:
    """Seconds from the cancel (Cancelling) to Cancelled, through a real local agent."""
    import os
    import subprocess
    import sys

    from jupyter_flows import Flow, Local, task

    client = Client(url)
    with Flow("cancel-latency", storage=Local(directory=f"{tmp}/flows")) as flow:
        task(_nap)()
    record = flow.register(client=client)
    env = {**os.environ, "JUPYTER_FLOWS_BACKEND_URL": url}
    agent = subprocess.Popen([sys.executable, "-m", "jupyter_flows", "agent", "local", "start",
                              "--poll-wait", "10"], env=env, stdout=subprocess.DEVNULL,
                             stderr=subprocess.DEVNULL)
    latencies = []
    try:
        for _ in range(runs):
            run = client.create_flow_run(record.id)
            while not any(t.state == "Running" for t in client.get_task_runs(run.id)):
                time.sleep(0.05)
            client.cancel_flow_run(run.id)
            while client.get_flow_run(run.id).state not in ("Cancelled", "Success", "Failed",
                                                            "Crashed"):
                time.sleep(0.05)
            history = {s.state: s.timestamp for s in client.get_flow_run_states(run.id)}
            latencies.append((history["Cancelled"] - history["Cancelling"]).total_seconds())
    finally:
        agent.terminate()
        agent.wait(timeout=30)
        client.close()
    return latencies


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=200, help="runs for the latency test")
    parser.add_argument("--throughput-runs", type=int, default=300)
    parser.add_argument("--agent-runs", type=int, default=30,
                        help="runs launched through a real local agent")
    parser.add_argument("--cancel-runs", type=int, default=10,
                        help="runs cancelled while running, through a real local agent")
    parser.add_argument("--only", choices=["claim", "agent", "cancel", "throughput"])
    args = parser.parse_args()
    wanted = {args.only} if args.only else {"claim", "agent", "cancel", "throughput"}
    with tempfile.TemporaryDirectory() as tmp:
        rows = []
        if "claim" in wanted:
            with running_server(Path(tmp) / "latency.db") as url:
                latencies = claim_latency(url, args.runs)
            rows.append((f"create -> claimed latency, 1 waiting agent ({args.runs} runs)",
                         f"p50 {percentile(latencies, 0.5) * 1000:.1f} ms, "
                         f"p95 {percentile(latencies, 0.95) * 1000:.1f} ms, "
                         f"max {max(latencies) * 1000:.1f} ms, "
                         f"mean {statistics.mean(latencies) * 1000:.1f} ms"))
        if "agent" in wanted:
            with running_server(Path(tmp) / "agent.db") as url:
                through_agent = agent_latency(url, tmp, args.agent_runs)
            rows.append((f"submit -> Running through a local agent and a new flow-run process "
                         f"({args.agent_runs} runs)",
                         f"p50 {percentile(through_agent, 0.5) * 1000:.0f} ms, "
                         f"p95 {percentile(through_agent, 0.95) * 1000:.0f} ms"))
        if "cancel" in wanted:
            with running_server(Path(tmp) / "cancel.db") as url:
                cancels = cancel_latency(url, tmp, args.cancel_runs)
            rows.append((f"cancel (Cancelling) -> Cancelled through a local agent's flow-run "
                         f"process ({args.cancel_runs} runs)",
                         f"p50 {percentile(cancels, 0.5) * 1000:.0f} ms, "
                         f"p95 {percentile(cancels, 0.95) * 1000:.0f} ms, "
                         f"max {max(cancels) * 1000:.0f} ms"))
        for agents in (1, 4) if "throughput" in wanted else ():
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
