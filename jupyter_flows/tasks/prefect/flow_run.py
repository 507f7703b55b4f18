"""Flows of flows: tasks that start another registered flow's run, wait for it and read a
task result from it, with Prefect 1.x's names and meaning (``prefect.tasks.prefect``).

They talk to the backend with :class:`jupyter_flows.client.Client`, which reads
``JUPYTER_FLOWS_BACKEND_URL`` and ``JUPYTER_FLOWS_API_KEY``: a flow-run process started by
an agent has both, so a parent flow run on an agent needs no configuration.

- ``create_flow_run`` is idempotent by default: its key is the parent flow run's id plus
  the calling task run (slug and map index), so a retried task, or a parent run that
  crashed and was rescheduled, finds the child it made instead of making another. In a
  flow-run process the child records its parent (``parent_flow_run_id``).
- ``wait_for_flow_run`` follows the child's event stream (no polling) until it finishes.
- ``get_task_run_result`` reads a child task's checkpointed result from the location the
  child's process reported (the task, or its flow, needs a ``result=Result(...)``).
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterable, Mapping
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from jupyter_flows.core.context import get_logger, get_run_context
from jupyter_flows.core.task import FunctionTask
from jupyter_flows.engine.results import read_location
from jupyter_flows.engine.states import state_from_name
from jupyter_flows.errors import ResultError
from jupyter_flows.signals import FAIL

if TYPE_CHECKING:
    from jupyter_flows.api import FlowRun, TaskRun
    from jupyter_flows.client import Client

__all__ = ["create_flow_run", "default_idempotency_key", "get_task_run_result",
           "wait_for_flow_run"]

FLOW_RUN_ID_ENV = "JUPYTER_FLOWS_FLOW_RUN_ID"  # set by the agents for the flow-run process
_MAX_KEY = 200  # the backend's limit on idempotency keys


def _client() -> Client:
    from jupyter_flows.client import Client

    return Client()


def default_idempotency_key() -> str | None:
    """The calling task run's identity in its flow run (``RUN:slug[:map_index]``), or None
    outside a task run."""
    ctx = get_run_context()
    if ctx is None:
        return None
    key = f"{ctx.flow_run_id}:{ctx.task_slug}"
    if ctx.map_index is not None:
        key += f":{ctx.map_index}"
    return key[:_MAX_KEY]


def _parent_flow_run_id() -> str | None:
    # only a flow-run process started for a backend run has a run id the backend knows;
    # a notebook's flow.run() has a local id, so its children have no parent
    return os.environ.get(FLOW_RUN_ID_ENV) or None


def _create_flow_run(flow_id: str | None = None, flow_name: str | None = None,
                     project_name: str | None = None,
                     parameters: Mapping[str, Any] | None = None,
                     labels: Iterable[str] | None = None, run_name: str | None = None,
                     run_config: Any = None, idempotency_key: str | None = None,
                     scheduled_start_time: Any = None) -> str:
    """Create a run of the registered flow ``flow_name`` (in ``project_name``; or the flow
    version ``flow_id``) and return its id; the run starts when an agent takes it.

    ``idempotency_key`` defaults to this task run's identity in the parent flow run, so a
    retry returns the run already made. ``run_name`` names the run (shown beside its id).
    """
    if (flow_id is None) == (flow_name is None):
        raise ValueError("create_flow_run: give exactly one of flow_id and flow_name")
    config = None
    if run_config is not None:
        config = (dict(run_config) if isinstance(run_config, Mapping)
                  else run_config.model_dump(mode="json"))
    key = idempotency_key or default_idempotency_key()
    logger = get_logger()
    with _client() as client:
        run = client.create_flow_run(
            flow_id, flow_name=flow_name, project=project_name or None,
            parameters=dict(parameters or {}), labels=None if labels is None else list(labels),
            run_config=config, idempotency_key=key, scheduled_start=scheduled_start_time,
            parent_flow_run_id=_parent_flow_run_id(), name=run_name)
    named = f" {run_name!r}" if run_name else ""
    logger.info("created flow run%s %s of %r (%s), idempotency key %r", named, run.id,
                run.flow_name, run.state, key)
    return str(run.id)


def _wait_for_flow_run(flow_run_id: str, stream_states: bool = True,
                       stream_logs: bool = False, raise_final_state: bool = False,
                       max_duration: timedelta = timedelta(hours=12)) -> FlowRun:
    """Wait for the flow run ``flow_run_id`` to finish and return it (its ``state``,
    ``state_message``...). ``stream_states`` logs its state changes and ``stream_logs``
    its log records here; with ``raise_final_state`` this task fails when the run did not
    succeed, with the run's final message. ``max_duration`` is checked as events arrive."""
    logger = get_logger()
    deadline = time.monotonic() + max_duration.total_seconds()
    with _client() as client:
        run = client.get_flow_run(flow_run_id)
        name = f"flow run {run.id} ({run.flow_name})"
        for event in client.follow_run(run.id):
            if event.kind == "flow_run_state" and stream_states:
                logger.info("%s is %s%s", name, event.state,
                            f": {event.message}" if event.message else "")
            elif event.kind == "log" and stream_logs:
                where = f" [{event.task_slug}]" if event.task_slug else ""
                logger.log(_level(event.level), "%s%s: %s", name, where, event.message)
            if time.monotonic() > deadline:
                raise FAIL(f"{name} did not finish within {max_duration}; it is still "
                           f"{client.get_flow_run(run.id).state}")
        run = client.get_flow_run(run.id)
    if raise_final_state and not _succeeded(run.state):
        message = f": {run.state_message}" if run.state_message else ""
        raise FAIL(f"{name} finished {run.state}{message}")
    return run


def _get_task_run_result(flow_run_id: str, task_slug: str, map_index: int = -1,
                         poll_time: int = 5) -> Any:
    """The result of task ``task_slug`` (``map_index`` -1 for an unmapped task) in the flow
    run ``flow_run_id``, once that task run has finished. The result is read from where the
    child checkpointed it; a task without a result location has none to read.
    ``poll_time`` is accepted for Prefect code: the run's event stream says when."""
    index = None if map_index is None or map_index < 0 else map_index
    ctx = get_run_context()
    if ctx is not None and ctx.flow_run_id == flow_run_id:
        raise ValueError("get_task_run_result reads another flow run's results, "
                         f"not its own run's ({flow_run_id})")
    with _client() as client:
        run_id = client.get_flow_run(flow_run_id).id
        for event in client.follow_run(run_id):
            if (event.kind == "task_run_state" and event.task_slug == task_slug
                    and event.map_index == index and _finished(event.state)):
                break
        task_runs = client.get_task_runs(run_id)
    which = f"task run {task_slug!r}" + (f"[{index}]" if index is not None else "")
    found = next((t for t in task_runs if t.task_slug == task_slug and t.map_index == index),
                 None)
    if found is None:
        slugs = sorted({t.task_slug for t in task_runs})
        raise ResultError(f"flow run {run_id} has no {which}; its task runs: "
                          f"{', '.join(slugs) or 'none'}")
    return read_task_run_result(found, run_id)


def read_task_run_result(found: TaskRun, run_id: str) -> Any:
    """Load the checkpointed result of the finished task run ``found`` of flow run
    ``run_id`` (also how a restarted run reloads the results it keeps); ResultError says
    why there is none."""
    index = found.map_index
    which = f"task run {found.task_slug!r}" + (f"[{index}]" if index is not None else "")
    if not _succeeded(found.state):
        message = f" ({found.message})" if found.message else ""
        raise ResultError(f"{which} of flow run {run_id} is {found.state}{message}: "
                          f"it has no result")
    if not found.location:
        raise ResultError(
            f"{which} of flow run {run_id} has no persisted result: give the task or its "
            f"flow result=Result('/shared/dir' or an fsspec URL) (and checkpoint=True on the "
            f"task when only the flow has one) so its result is written where both runs "
            f"can read it")
    return read_location(found.location)


def _succeeded(state: str) -> bool:
    try:
        return state_from_name(state).is_successful()
    except ValueError:  # a state this version does not know
        return False


def _finished(state: str) -> bool:
    try:
        return state_from_name(state).is_finished()
    except ValueError:
        return False


def _level(name: str) -> int:
    import logging

    level = logging.getLevelName(name)
    return level if isinstance(level, int) else logging.INFO


# Module-level functions under other names than their tasks: workers unpickle a task's
# function by its qualified name, which must not resolve to the task itself.
create_flow_run = FunctionTask(_create_flow_run, name="create_flow_run")
wait_for_flow_run = FunctionTask(_wait_for_flow_run, name="wait_for_flow_run")
get_task_run_result = FunctionTask(_get_task_run_result, name="get_task_run_result")
