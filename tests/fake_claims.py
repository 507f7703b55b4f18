"""Stand-ins for the backend in the agents' unit tests: a claimed run as the backend sends
it (``make_claim``) and a client that records what an agent reports (``RecordingClient``);
and, for the end-to-end tests against a real backend, an agent running in a thread
(``running_agent``) or a process (``agent_process``), and a one-task flow to register
(``tiny_flow``)."""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from wire import spec_json

from jupyter_flows.api import Claim
from jupyter_flows.local_backend.processes import stop_processes


def make_claim(run_config: dict[str, Any] | None = None, *, flow_name: str = "etl flow",
               storage: dict[str, Any] | None = None, lease_seconds: float = 30.0,
               labels: list[str] | None = None) -> Claim:
    now = datetime.now(timezone.utc)
    flow_id = uuid.uuid4().hex
    storage = storage if storage is not None else {
        "type": "s3", "bucket": "flows", "location": "jupyter-flows/etl/abc.flow"}
    flow = {"id": flow_id, "name": flow_name, "project": "default", "version": 1,
            "spec_hash": "h", "spec": spec_json(flow_name), "storage": storage,
            "run_config": run_config or {},
            "executor": {}, "labels": labels or [], "max_retries": 0, "created": now,
            "updated": now}
    run = {"id": uuid.uuid4().hex, "flow_id": flow_id, "flow_name": flow_name,
           "project": "default", "flow_version": 1, "parameters": {},
           "run_config": run_config or {}, "executor": {}, "labels": labels or [],
           "idempotency_key": None, "scheduled_start": now, "state": "Submitted",
           "state_message": None, "state_timestamp": now, "version": 2, "run_count": 1,
           "max_retries": 0, "agent_id": None, "lease_expires_at": None,
           "last_heartbeat": None, "exit_code": None, "created": now, "updated": now}
    lease = {"lease_id": uuid.uuid4().hex, "expires_at": now + timedelta(seconds=lease_seconds)}
    return Claim.model_validate({"flow_run": run, "flow": flow, "lease": lease})


class _Run:
    def __init__(self, state: str) -> None:
        self.state = state


class RecordingClient:
    """Records the agent's reports; ``get_flow_run`` answers with ``state``."""

    url = "http://backend.example:4200"

    def __init__(self, state: str = "Running") -> None:
        self.state = state
        self.states: list[tuple[str, str, str | None]] = []
        self.failures: list[dict[str, Any]] = []
        self.logs: list[dict[str, Any]] = []

    def get_flow_run(self, flow_run_id: str) -> _Run:
        return _Run(self.state)

    def set_flow_run_state(self, flow_run_id: str, state: str, message: str | None = None,
                           *, lease_id: str | None = None) -> None:
        self.states.append((flow_run_id, state, message))

    def report_infrastructure_failure(self, flow_run_id: str, *, lease_id: str | None,
                                      exit_code: int | None = None, message: str = "") -> None:
        self.failures.append({"id": flow_run_id, "exit_code": exit_code, "message": message})

    def write_logs(self, flow_run_id: str, logs: list[dict[str, Any]]) -> int:
        self.logs.extend(logs)
        return len(logs)

    def log_text(self) -> str:
        return "\n".join(str(log["message"]) for log in self.logs)


@contextmanager
def running_agent(agent: Any) -> Iterator[Any]:
    """``agent.run()`` in a thread (signal handlers stay the test runner's), stopped after."""
    errors: list[BaseException] = []

    def run() -> None:
        try:
            agent.run()
        except BaseException as exc:  # reported to the test thread
            errors.append(exc)

    thread = threading.Thread(target=run, name=f"{agent.type}-agent", daemon=True)
    thread.start()
    try:
        yield agent
    finally:
        agent.stop()
        thread.join(timeout=30)
    assert not thread.is_alive(), "the agent did not stop"
    if errors:
        raise errors[0]


def wait_for(predicate: Callable[[], Any], timeout: float, what: str) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")


def tiny_flow(name: str, **options: Any) -> Any:
    """A one-task flow whose task is pickled by value (defined here, in a function)."""
    from jupyter_flows import Flow, task

    @task
    def greet() -> str:
        return "hello from the container"

    with Flow(name, **options) as flow:
        greet()
    return flow


@contextmanager
def agent_process(args: list[str], env: dict[str, str], log: Path) -> Iterator[Any]:
    """``jupyter-flows agent ...`` as a real process (its output in ``log``); SIGTERM after."""
    import subprocess
    import sys

    with open(log, "ab") as out:
        process = subprocess.Popen([sys.executable, "-m", "jupyter_flows", "agent", *args],
                                   env=env, stdout=out, stderr=subprocess.STDOUT)
    try:
        yield process
    finally:
        stop_processes(process, timeout=20)
