"""``jupyter-flows up``: the embedded backend, a local agent, and a demo run, in one command.

The backend runs on a SQLite file (``~/.jupyter-flows/backend.db``), the agent as a
subprocess; both stop when this command does. The demo flow is registered and run through
the agent, its states and logs printed as they arrive.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time

import httpx


def _healthy(url: str) -> bool:
    try:
        return httpx.get(f"{url}/api/health", timeout=1).status_code == 200
    except httpx.HTTPError:
        return False


def _wait_healthy(url: str, process: subprocess.Popen[bytes], timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the backend exited with code {process.returncode} on start")
        if _healthy(url):
            return
        time.sleep(0.1)
    raise RuntimeError(f"the backend did not answer at {url} within {timeout:.0f} s")


def run_up(port: int = 4200, database_url: str | None = None,
           exit_after_demo: bool = False) -> int:
    from jupyter_flows.cli import watch_run
    from jupyter_flows.client.client import Client
    from jupyter_flows.demo import build_demo_flow
    from jupyter_flows.executors.dask import DaskExecutor
    from jupyter_flows.run_configs import LocalRun

    url = f"http://127.0.0.1:{port}"
    env = {**os.environ, "JUPYTER_FLOWS_BACKEND_URL": url}
    children: list[subprocess.Popen[bytes]] = []
    try:
        if _healthy(url):
            print(f"using the backend already running at {url}")
        else:
            command = [sys.executable, "-m", "jupyter_flows.server", "--host", "127.0.0.1",
                       "--port", str(port), "--log-level", "warning"]
            if database_url:
                command += ["--database-url", database_url]
            server = subprocess.Popen(command, env=env)
            children.append(server)
            _wait_healthy(url, server)
            print(f"backend: {url} (API docs at {url}/docs)")
        agent = subprocess.Popen([sys.executable, "-m", "jupyter_flows", "agent", "local",
                                  "start", "--name", "up-local-agent", "--poll-wait", "5"],
                                 env=env)
        children.append(agent)
        print("local agent: started")

        client = Client(url)
        flow = build_demo_flow()
        flow.run_config = LocalRun(labels=[])
        flow.executor = DaskExecutor(cluster_kwargs={"n_workers": 2, "threads_per_worker": 1})
        record = flow.register(project="demo", client=client)
        run = client.create_flow_run(record.id, parameters={"n": 12})
        print(f"flow {record.name!r} v{record.version}: run {run.id} created")
        code = watch_run(client, run.id)
        for task_run in client.get_task_runs(run.id):
            if task_run.map_index is None:
                print(f"  {task_run.task_slug:<16} {task_run.state:<10} {task_run.message or ''}")
        if exit_after_demo:
            return code
        print("\nbackend and agent keep running; register flows with `jupyter-flows register`"
              " and run them with `jupyter-flows run NAME --watch`. Ctrl-C stops both.")
        while all(child.poll() is None for child in children):
            time.sleep(0.5)
        return 1
    except KeyboardInterrupt:
        return 0
    finally:
        for child in reversed(children):
            if child.poll() is None:
                child.terminate()
        for child in children:
            try:
                child.wait(timeout=15)
            except subprocess.TimeoutExpired:
                child.kill()
