"""``%flow submit`` and ``%flow status``: a notebook's flow on the backend.

Submitting registers the flow (its code goes to the flow's storage, ``Local()`` by default,
pickled with cloudpickle: cell sources, notebook variables and functions defined in the
notebook travel by value) and creates a run for an agent to pick up.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from jupyter_flows.api import FlowRegistration, FlowRun, LogRecord, TaskRun
    from jupyter_flows.client.client import Client
    from jupyter_flows.core.flow import Flow

__all__ = ["Submission", "run_link", "run_status", "run_view_uri", "submit_flow"]


@dataclass
class Submission:
    registration: FlowRegistration
    run: FlowRun  # as read back just after creation, with ``agent_match``
    backend_url: str
    created_state: str  # the state it was created in: ``run.state`` may already be an agent's


def run_link(backend_url: str, run_id: str) -> str:
    return f"{backend_url.rstrip('/')}/api/flow_runs/{run_id}"


def run_view_uri(run_id: str) -> str:
    """What the JupyterLab extension opens as the run's view."""
    return f"jupyter-flows://runs/{run_id}"


def submit_flow(flow: Flow, client: Client, *, parameters: Mapping[str, Any] | None = None,
                labels: Iterable[str] = ()) -> Submission:
    """Register ``flow`` (a new version if its spec or code changed) and create a run of it."""
    from jupyter_flows.deploy.register import register

    chosen = list(labels)
    registration = register(flow, client=client, labels=chosen or None)
    created = client.create_flow_run(registration.id, parameters=dict(parameters or {}),
                                     labels=chosen or None)
    run = client.get_flow_run(created.id)  # with agent_match: can an online agent take it?
    return Submission(registration, run, client.url, created.state)


def run_status(client: Client, run_id: str, log_count: int = 10
               ) -> tuple[FlowRun, list[TaskRun], list[LogRecord]]:
    """A backend run, its task runs in the flow's DAG order (map children by index) and its
    last ``log_count`` log records."""
    from jupyter_flows.api.flow_spec import flow_from_spec

    run = client.get_flow_run(run_id)
    order = {task.slug: i for i, task in
             enumerate(flow_from_spec(client.get_flow(run.flow_id).spec).sorted_tasks())}
    task_runs = sorted(client.get_task_runs(run_id), key=lambda t: (
        order.get(t.task_slug, len(order)), -1 if t.map_index is None else t.map_index))
    tail: deque[LogRecord] = deque(maxlen=log_count)
    after, page_size = 0, 500
    while True:
        page = client.read_logs(run_id, after=after, limit=page_size)
        tail.extend(page.items)
        if len(page.items) < page_size:
            break
        after = page.next_after
    return run, task_runs, list(tail)
