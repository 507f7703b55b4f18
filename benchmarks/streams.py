"""Event-stream latency: a task-run state written with a run's lease, to its arrival at a CLI
watcher (``Client.follow_run``, what ``run --watch`` uses, in its own process) and at a
browser's EventSource through the Jupyter server extension's proxy; and the backend's CPU
while 20 watchers follow 20 quiet runs (it must not grow with watchers: nothing polls).

    python benchmarks/streams.py [--changes 200] [--no-browser]

Each latency is taken from just before the write is sent to the event's arrival, on the
machine's one clock (the writer, the watcher and chromium run here), so it includes the
write itself. Prints a table for benchmarks/RESULTS.md.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import textwrap
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import psutil

from jupyter_flows.client import Client
from jupyter_flows.local_backend import LocalBackend
from jupyter_flows.server.testing import free_port

CHROMIUM = Path(os.environ.get("JUPYTER_FLOWS_CHROMIUM", "/usr/bin/chromium"))
WATCHER = textwrap.dedent("""
    import sys, time
    from jupyter_flows.client import Client
    url, run_id, count = sys.argv[1], sys.argv[2], int(sys.argv[3])
    seen = 0
    with Client(url) as client:
        print("ready", flush=True)
        for event in client.follow_run(run_id):
            if event.kind == "task_run_state" and event.task_slug.startswith("t"):
                print(event.task_slug, time.time(), flush=True)
                seen += 1
                if seen == count:
                    break
""")


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def running_run(client: Client, name: str) -> tuple[str, str]:
    """A run claimed by an agent and Running: (run id, lease id) to write with."""
    flow = client.register_flow(name, {"tasks": []})
    run = client.create_flow_run(flow.id)
    agent = client.register_agent(f"{name}-agent-{run.id[:6]}")
    claim = client.claim(agent.id, wait=5)
    assert claim is not None and claim.flow_run.id == run.id
    client.set_flow_run_state(run.id, "Running", lease_id=claim.lease.lease_id)
    return run.id, claim.lease.lease_id


def write_changes(client: Client, run_id: str, lease_id: str, count: int,
                  pace: float = 0.02) -> dict[str, float]:
    """Write ``count`` task-run states, one at a time; returns when each was sent."""
    sent: dict[str, float] = {}
    for i in range(count):
        slug = f"t{i}"
        sent[slug] = time.time()
        client.set_task_run_states(run_id, [{"task_slug": slug, "state": "Running"}],
                                   lease_id=lease_id)
        time.sleep(pace)  # one change at a time, as a run's tasks go
    return sent


def cli_latencies(url: str, count: int) -> list[float]:
    with Client(url) as client:
        run_id, lease_id = running_run(client, "stream-cli")
        watcher = subprocess.Popen([sys.executable, "-c", WATCHER, url, run_id, str(count)],
                                   stdout=subprocess.PIPE, text=True)
        assert watcher.stdout is not None
        assert watcher.stdout.readline().strip() == "ready"
        time.sleep(1.0)  # the stream is open and caught up
        sent = write_changes(client, run_id, lease_id, count)
        out, _ = watcher.communicate(timeout=120)
    arrived = dict(line.split() for line in out.splitlines())
    return [float(arrived[slug]) - at for slug, at in sent.items()]


@contextmanager
def jupyter_server(backend_url: str, tmp: Path) -> Iterator[str]:
    """A Jupyter server with the jupyter-flows extension proxying to ``backend_url``."""
    port, token = free_port(), "bench-token"
    config = {"ServerApp": {"jpserver_extensions": {"jupyter_flows.labserver": True}},
              "JupyterFlows": {"backend_url": backend_url}}
    (tmp / "jupyter_server_config.json").write_text(json.dumps(config))
    env = {**os.environ, "JUPYTER_CONFIG_DIR": str(tmp)}
    process = subprocess.Popen(
        [sys.executable, "-m", "jupyter_server", f"--port={port}", "--no-browser",
         f"--IdentityProvider.token={token}", f"--ServerApp.root_dir={tmp}",
         "--allow-root"],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.time() + 60
        while True:
            try:
                import httpx

                if httpx.get(f"{url}/jupyter-flows/api/config?token={token}").status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.time() > deadline:
                raise RuntimeError("the Jupyter server did not start within 60 s")
            time.sleep(0.3)
        yield f"{url}/?token={token}"
    finally:
        process.terminate()
        process.wait(15)


def browser_latencies(backend_url: str, count: int, tmp: Path) -> list[float]:
    from playwright.sync_api import sync_playwright

    with Client(backend_url) as client, jupyter_server(backend_url, tmp) as lab, \
            sync_playwright() as playwright:
        run_id, lease_id = running_run(client, "stream-browser")
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM),
                                             args=["--no-sandbox"])
        page = browser.new_page()
        base, _, query = lab.partition("/?")
        # a page of the same origin whose policy lets scripts open streams (the API's
        # answers forbid everything): JupyterLab itself, as the panel runs in it
        page.goto(f"{base}/lab?{query}")
        page.wait_for_selector("#jupyter-flows-sidebar, .jp-LabShell", timeout=120_000)
        page.evaluate("""([path]) => {
            window.arrived = {};
            window.source = new EventSource(path);
            window.source.addEventListener('task_run_state', event => {
                window.arrived[JSON.parse(event.data).task_slug] = Date.now();
            });
        }""", [f"/jupyter-flows/api/flow_runs/{run_id}/events?{query}"])
        time.sleep(1.5)
        sent = write_changes(client, run_id, lease_id, count)
        deadline = time.time() + 60
        while len(arrived := page.evaluate("() => window.arrived")) < count:
            if time.time() > deadline:
                raise RuntimeError(f"{len(arrived)} of {count} changes reached the browser")
            time.sleep(0.2)
        browser.close()
    return [arrived[slug] / 1000 - at for slug, at in sent.items()]


def backend_cpu(backend: LocalBackend, watchers: int, seconds: float) -> float:
    """Percent of one core the backend's process used over ``seconds`` with ``watchers``
    processes following one quiet run each."""
    assert backend.server is not None
    server = psutil.Process(backend.server.pid)
    processes = []
    with Client(backend.url) as client:
        for i in range(watchers):
            run_id, _ = running_run(client, f"quiet-{i}")
            processes.append(subprocess.Popen(
                [sys.executable, "-c", WATCHER, backend.url, run_id, "1"],
                stdout=subprocess.DEVNULL))
    time.sleep(3.0)  # all connected
    assert all(process.poll() is None for process in processes), "a watcher stopped early"
    before = server.cpu_times()
    time.sleep(seconds)
    after = server.cpu_times()
    for process in processes:
        process.kill()
        process.wait()
    used = (after.user - before.user) + (after.system - before.system)
    return 100 * used / seconds


def row(name: str, values: list[float]) -> tuple[str, str]:
    return (name, f"p50 {percentile(values, 0.5) * 1000:.1f} ms, "
                  f"p95 {percentile(values, 0.95) * 1000:.1f} ms, "
                  f"max {max(values) * 1000:.1f} ms")


def measured(what: Callable[[], list[float]], name: str) -> tuple[str, str]:
    return row(name, what())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--changes", type=int, default=200)
    parser.add_argument("--cpu-seconds", type=float, default=10.0)
    parser.add_argument("--no-browser", action="store_true")
    args = parser.parse_args()
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        # leases outlive the benchmark: nobody heartbeats the runs it writes to
        backend = LocalBackend(Path(tmp) / "streams.db", agent=False, output=None,
                               log_level="warning",
                               settings={"lease_timeout": 3600}).start(60)
        try:
            rows.append(measured(lambda: cli_latencies(backend.url, args.changes),
                                 f"write -> CLI watcher ({args.changes} changes)"))
            if not args.no_browser and CHROMIUM.exists():
                rows.append(measured(
                    lambda: browser_latencies(backend.url, args.changes, Path(tmp)),
                    f"write -> chromium EventSource via the Jupyter proxy ({args.changes})"))
            for watchers in (0, 20):
                cpu = backend_cpu(backend, watchers, args.cpu_seconds)
                rows.append((f"backend CPU, {watchers} watchers on quiet runs "
                             f"({args.cpu_seconds:.0f} s)", f"{cpu:.1f}% of a core"))
        finally:
            backend.stop()
    print("| measure (uvicorn, SQLite file, 127.0.0.1) | result |")
    print("| --- | --- |")
    for name, value in rows:
        print(f"| {name} | {value} |")


if __name__ == "__main__":
    main()
