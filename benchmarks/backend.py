"""Benchmark of the backend: claim latency and end-to-end run throughput.

    .venv/bin/python benchmarks/backend.py [--runs 200] [--throughput-runs 300]
        [--agent-runs 30] [--cancel-runs 10] [--only cancel]

Starts uvicorn on a temporary SQLite file and measures, through the HTTP client:

* runs created per second: one request per run (1 and 4 client threads) and in batches;
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
  to the ``Cancelled`` state its flow-run process writes, from the run's state history;
* scheduled time -> claimed and -> Running for runs the backend's scheduler makes from an
  every-2-seconds schedule, through a real ``LocalAgent`` (its lateness);
* the scheduler's cost: one pass (``Scheduler.run_once``) over 1,000 flows with active
  schedules, when it makes their runs and when they are all made already.

``--only cancel`` (or ``claim``, ``agent``, ``throughput``, ``lateness``, ``scheduler``)
runs one measure.

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


def creation_rates(url: str, runs: int) -> dict[str, float]:
    """Runs created per second: one request per run from 1 and from 4 client threads, and
    ``Client.create_flow_runs`` (batches of up to 1,000 runs per request)."""
    creator = Client(url)
    flow = creator.register_flow("creation", {"tasks": []})
    for _ in range(20):  # warm up the server's caches and the connection
        creator.create_flow_run(flow.id)
    rates: dict[str, float] = {}
    started = time.perf_counter()
    for _ in range(runs):
        creator.create_flow_run(flow.id)
    rates["one request per run, 1 client"] = runs / (time.perf_counter() - started)

    def create_some(count: int) -> None:
        with Client(url) as client:
            for _ in range(count):
                client.create_flow_run(flow.id)

    threads = [threading.Thread(target=create_some, args=(runs // 4,)) for _ in range(4)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    rates["one request per run, 4 client threads"] = (runs // 4 * 4) / (
        time.perf_counter() - started)
    started = time.perf_counter()
    creator.create_flow_runs([{"flow_id": flow.id, "parameters": {}}] * (runs * 4))
    rates["Client.create_flow_runs (POST /api/flow_runs/batch)"] = runs * 4 / (
        time.perf_counter() - started)
    creator.close()
    return rates


def _noop() -> int:
    return 1


def agent_latency(url: str, tmp: str, runs: int, warm: bool = False) -> list[float]:
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
                              "--poll-wait", "10", *(["--warm-start"] if warm else [])],
                             env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    if warm:
        time.sleep(3)  # the forkserver's imports, once, before the first run
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


def schedule_lateness(url: str, tmp: str, runs: int, warm: bool = False
                      ) -> tuple[list[float], list[float]]:
    """Seconds from each scheduled time to the run's claim and to its Running state, for
    ``runs`` runs of an every-2-seconds schedule, through a real local agent."""
    import os
    import subprocess
    import sys
    from datetime import datetime, timedelta, timezone

    from jupyter_flows import Flow, Local, task
    from jupyter_flows.schedules import IntervalClock, Schedule

    client = Client(url)
    env = {**os.environ, "JUPYTER_FLOWS_BACKEND_URL": url}
    agent = subprocess.Popen([sys.executable, "-m", "jupyter_flows", "agent", "local", "start",
                              "--poll-wait", "10", *(["--warm-start"] if warm else [])],
                             env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    start = datetime.now(timezone.utc).replace(microsecond=0) + timedelta(seconds=5)
    schedule = Schedule(clocks=[IntervalClock(timedelta(seconds=2), start_date=start)])
    with Flow("lateness", storage=Local(directory=f"{tmp}/flows"), schedule=schedule) as flow:
        task(_noop)()
    record = flow.register(client=client)
    to_claim: list[float] = []
    to_running: list[float] = []
    seen: set[str] = set()
    try:
        deadline = time.monotonic() + runs * 2 + 120
        while len(seen) < runs and time.monotonic() < deadline:
            time.sleep(1)
            for run in client.list_flow_runs(record.id, state=["Success", "Failed", "Crashed"],
                                             limit=200).items:
                if run.id in seen or not run.auto_scheduled:
                    continue
                seen.add(run.id)
                history = {s.state: s.timestamp for s in client.get_flow_run_states(run.id)}
                to_claim.append((history["Submitted"] - run.scheduled_start).total_seconds())
                to_running.append((history["Running"] - run.scheduled_start).total_seconds())
        client.pause_schedule(record.id)
    finally:
        agent.terminate()
        agent.wait(timeout=30)
        client.close()
    return to_claim[:runs], to_running[:runs]


def scheduler_cost(tmp: str, flows: int) -> tuple[float, float, int]:
    """Seconds of one scheduler pass over ``flows`` flows with active every-minute
    schedules: the first pass (it makes every flow's runs) and the next (nothing to make);
    and how many runs the first made."""
    from datetime import datetime, timedelta, timezone

    from jupyter_flows.schedules import IntervalClock, Schedule
    from jupyter_flows.server.db import Database
    from jupyter_flows.server.scheduler import Scheduler
    from jupyter_flows.server.settings import Settings

    url = f"sqlite:///{tmp}/scheduler.db"
    start = datetime(2026, 1, 1, tzinfo=timezone.utc)
    schedule = Schedule(clocks=[IntervalClock(timedelta(minutes=1), start_date=start)])
    # registered through the API, as users do; the server's own scheduler waits meanwhile
    with running_server(url, scheduler_interval=3600) as server, Client(server) as client:
        for index in range(flows):
            client.register_flow(f"scheduled-{index}", {
                "tasks": [], "schedule": schedule.model_dump(mode="json")})
    # registering made each flow's next runs; two hours on, every flow needs its next ones
    later = datetime.now(timezone.utc) + timedelta(hours=2)
    settings = Settings(database_url=url)
    db = Database(settings)
    scheduler = Scheduler(db, settings, now=lambda: later)
    try:
        begin = time.perf_counter()
        made = scheduler.run_once()
        first = time.perf_counter() - begin
        begin = time.perf_counter()
        scheduler.run_once()
        again = time.perf_counter() - begin
    finally:
        db.dispose()
    return first, again, len(made)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=200, help="runs for the latency test")
    parser.add_argument("--throughput-runs", type=int, default=300)
    parser.add_argument("--agent-runs", type=int, default=30,
                        help="runs launched through a real local agent")
    parser.add_argument("--cancel-runs", type=int, default=10,
                        help="runs cancelled while running, through a real local agent")
    parser.add_argument("--lateness-runs", type=int, default=100,
                        help="runs of an every-2-seconds schedule, through a real local agent")
    parser.add_argument("--scheduled-flows", type=int, default=1000,
                        help="flows with active schedules for one scheduler pass")
    parser.add_argument("--create-runs", type=int, default=1000,
                        help="runs created one request each (4x as many in batches)")
    measures = ["claim", "create", "agent", "cancel", "throughput", "lateness", "scheduler"]
    parser.add_argument("--only", choices=measures)
    args = parser.parse_args()
    wanted = {args.only} if args.only else set(measures)
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
        if "create" in wanted:
            with running_server(Path(tmp) / "create.db") as url:
                rates = creation_rates(url, args.create_runs)
            rows.extend((f"runs created per second, {how}", f"{rate:.0f}")
                        for how, rate in rates.items())
        for warm in (False, True) if "agent" in wanted else ():
            with running_server(Path(tmp) / f"agent-{warm}.db") as url:
                through_agent = agent_latency(url, tmp, args.agent_runs, warm)
            how = "a process forked warm (--warm-start)" if warm else "a new flow-run process"
            rows.append((f"submit -> Running through a local agent and {how} "
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
        for warm in (False, True) if "lateness" in wanted else ():
            with running_server(Path(tmp) / f"lateness-{warm}.db", scheduler_interval=2) as url:
                to_claim, to_running = schedule_lateness(url, tmp, args.lateness_runs, warm)
            agent = "local agent --warm-start" if warm else "local agent"
            for what, values in (("claimed", to_claim), ("Running", to_running)):
                rows.append((f"scheduled time -> {what}, every-2-s schedule, {agent} "
                             f"({len(values)} runs)",
                             f"p50 {percentile(values, 0.5) * 1000:.0f} ms, "
                             f"p95 {percentile(values, 0.95) * 1000:.0f} ms, "
                             f"max {max(values) * 1000:.0f} ms"))
        if "scheduler" in wanted:
            first, again, made = scheduler_cost(tmp, args.scheduled_flows)
            rows.append((f"one scheduler pass, {args.scheduled_flows} flows with active "
                         f"schedules", f"{first:.2f} s making {made} runs; "
                         f"{again:.2f} s when all are made"))
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
