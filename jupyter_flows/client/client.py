"""``Client``: one typed method per backend endpoint, answering with the wire models."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from datetime import datetime, timezone
from types import TracebackType
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

import httpx

from jupyter_flows.api import (
    Agent,
    AgentCreate,
    CancelRequest,
    Claim,
    ConcurrencyLimit,
    Flow,
    FlowCreate,
    FlowId,
    FlowRegistration,
    FlowRemoval,
    FlowRun,
    FlowRunBatch,
    FlowRunBatchResult,
    FlowRunCreate,
    FlowRunId,
    FlowSchedule,
    FlowSpec,
    Health,
    HeartbeatAck,
    InfrastructureFailure,
    LeaseId,
    LimitSet,
    LogPage,
    LogWrite,
    Page,
    RestartRequest,
    RunEvent,
    RunEventPage,
    RunHeartbeat,
    ScheduleUpdate,
    StateRecord,
    StateWrite,
    TaskRun,
    TaskRunStatesWrite,
    TaskRunWrite,
    TaskSlotGrant,
    TaskSlotRequest,
    WriteCount,
)
from jupyter_flows.api.bounds import RUN_BATCH_MAX
from jupyter_flows.client.stream import FeedEvent, follow_changes, follow_run
from jupyter_flows.client.transport import Transport
from jupyter_flows.errors import BackendError

if TYPE_CHECKING:
    from jupyter_flows.engine.states import State


def _body(model: Any) -> Any:
    return model.model_dump(mode="json", exclude_none=True)


class Client:
    """A synchronous client of the jupyter-flows backend.

    ``url`` and ``api_key`` default to ``JUPYTER_FLOWS_BACKEND_URL`` and
    ``JUPYTER_FLOWS_API_KEY`` (else ``http://127.0.0.1:4200``, no key). Raises
    ``BackendUnavailable`` when the backend cannot be reached, ``ConflictError`` for a
    refused change (409) and ``BackendError`` for any other error answer. Thread-safe.

    A refused connection is tried ``retries`` more times, or, with ``patience``, for that
    many seconds (what a flow-run process uses to ride out a backend restart).
    """

    def __init__(self, url: str | None = None, api_key: str | None = None, *,
                 timeout: float = 30.0, retries: int = 3, backoff: float = 0.2,
                 patience: float | None = None,
                 transport: httpx.BaseTransport | None = None) -> None:
        self._t = Transport(url, api_key, timeout=timeout, retries=retries, backoff=backoff,
                            patience=patience, transport=transport)

    @property
    def url(self) -> str:
        return self._t.url

    def close(self) -> None:
        self._t.close()

    def __enter__(self) -> Client:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"Client({self.url!r})"

    def _get(self, path: str, params: Any = None) -> Any:
        return self._t.request("GET", path, params=params, idempotent=True).json()

    def _post(self, path: str, body: Any, *, idempotent: bool) -> Any:
        return self._t.request("POST", path, json=body, idempotent=idempotent).json()

    # ---------------------------------------------------------------------- health
    def health(self) -> Health:
        return Health.model_validate(self._get("/api/health"))

    # ----------------------------------------------------------------------- flows
    def register_flow(self, name: str, spec: FlowSpec | Mapping[str, Any], *,
                      project: str = "default",
                      storage: Mapping[str, Any] | None = None,
                      run_config: Mapping[str, Any] | None = None,
                      executor: Mapping[str, Any] | None = None,
                      labels: Iterable[str] = (), max_retries: int = 0,
                      set_schedule_active: bool = True) -> FlowRegistration:
        """A new version if ``spec`` changed, else the existing one (``is_new`` False).

        With a schedule in the spec, the backend makes its runs unless
        ``set_schedule_active`` is false."""
        flow_spec = (spec if isinstance(spec, FlowSpec)
                     else FlowSpec.model_validate({"name": name, **spec}))
        body = FlowCreate(name=name, project=project, spec=flow_spec,
                          storage=dict(storage or {}), run_config=dict(run_config or {}),
                          executor=dict(executor or {}), labels=list(labels),
                          max_retries=max_retries, set_schedule_active=set_schedule_active)
        # the spec goes as given (nulls included): its hash decides the version
        payload = {**_body(body), "spec": flow_spec.as_json()}
        return FlowRegistration.model_validate(self._post("/api/flows", payload,
                                                          idempotent=True))

    def get_flow(self, flow_id: str) -> Flow:
        return Flow.model_validate(self._get(f"/api/flows/{flow_id}"))

    def list_flows(self, name: str | None = None, project: str | None = None, *,
                   limit: int = 50, offset: int = 0, archived: bool = False) -> Page[Flow]:
        """Newest first; archived flows too with ``archived=True``."""
        params = {"name": name, "project": project, "limit": limit, "offset": offset,
                  **({"archived": "true"} if archived else {})}
        return Page[Flow].model_validate(self._get("/api/flows", _params(params)))

    def get_schedule(self, flow_id: str) -> FlowSchedule:
        """The flow's schedule as the backend runs it (its latest version's): active or not,
        in words, its next five times and how many runs it has made that are to come."""
        return FlowSchedule.model_validate(self._get(f"/api/flows/{flow_id}/schedule"))

    def set_schedule_active(self, flow_id: str, active: bool) -> FlowSchedule:
        """Resume (True) or pause (False: its unclaimed scheduled runs are deleted)."""
        body = _body(ScheduleUpdate(active=active))
        return FlowSchedule.model_validate(self._post(f"/api/flows/{flow_id}/schedule", body,
                                                      idempotent=True))

    def pause_schedule(self, flow_id: str) -> FlowSchedule:
        return self.set_schedule_active(flow_id, False)

    def resume_schedule(self, flow_id: str) -> FlowSchedule:
        return self.set_schedule_active(flow_id, True)
    def delete_flow(self, flow_id: str, *, with_runs: bool = False) -> FlowRemoval:
        """Archive a flow version (hidden from lists, no new runs, its runs kept), or with
        ``with_runs`` delete it and its runs (refused while one is active)."""
        response = self._t.request("DELETE", f"/api/flows/{flow_id}", idempotent=True,
                                   params={"runs": "delete" if with_runs else "keep"})
        return FlowRemoval.model_validate(response.json())

    def delete_flows(self, name_or_id: str, *, project: str | None = None,
                     with_runs: bool = False) -> list[FlowRemoval]:
        """:meth:`delete_flow` for a flow id, or for every version of the flow of that name
        (archived versions too when deleting them with their runs)."""
        if len(name_or_id) == 32 and all(c in "0123456789abcdef" for c in name_or_id):
            try:
                return [self.delete_flow(self.get_flow(name_or_id).id, with_runs=with_runs)]
            except BackendError as exc:
                if exc.status != 404:
                    raise
        versions: list[Flow] = []
        while True:
            page = self.list_flows(name_or_id, project, limit=500, offset=len(versions),
                                   archived=with_runs)
            versions += page.items
            if not page.items or len(versions) >= page.total:
                break
        if not versions:
            where = f" in project {project!r}" if project else ""
            raise BackendError(404, f"no flow named {name_or_id!r}{where} (nor a flow with "
                                    f"that id)", "DELETE", self.url)
        projects = sorted({f.project for f in versions})
        if len(projects) > 1:
            raise BackendError(422, f"flow {name_or_id!r} exists in several projects "
                                    f"({', '.join(projects)}); give project", "DELETE",
                               self.url)
        return [self.delete_flow(f.id, with_runs=with_runs) for f in versions]

    # ------------------------------------------------------------------- flow runs
    def create_flow_run(self, flow_id: str | None = None, *, flow_name: str | None = None,
                        project: str | None = None, flow_version: int | None = None,
                        parameters: Mapping[str, Any] | None = None,
                        run_config: Mapping[str, Any] | None = None,
                        executor: Mapping[str, Any] | None = None,
                        labels: Iterable[str] | None = None,
                        idempotency_key: str | None = None,
                        scheduled_start: datetime | None = None,
                        max_retries: int | None = None,
                        parent_flow_run_id: str | None = None,
                        name: str | None = None) -> FlowRun:
        """A new Scheduled run, or the existing one with the same ``idempotency_key``;
        ``name`` is shown beside the run's id."""
        body = FlowRunCreate(
            flow_id=None if flow_id is None else FlowId(flow_id), flow_name=flow_name,
            project=project, flow_version=flow_version,
            parameters=dict(parameters or {}),
            run_config=None if run_config is None else dict(run_config),
            executor=None if executor is None else dict(executor),
            labels=None if labels is None else list(labels), idempotency_key=idempotency_key,
            scheduled_start=scheduled_start, max_retries=max_retries, name=name,
            parent_flow_run_id=None if parent_flow_run_id is None
            else FlowRunId(parent_flow_run_id))
        data = self._post("/api/flow_runs", _body(body), idempotent=idempotency_key is not None)
        return FlowRun.model_validate(data)

    def create_flow_runs(self, runs: Iterable[FlowRunCreate | Mapping[str, Any]]
                         ) -> list[FlowRun]:
        """Many runs at once, in batches of up to ``RUN_BATCH_MAX`` (one transaction each:
        a refused run fails its batch, naming its index); answers one run per request, in
        order (an existing one for an idempotency key already used). Each item takes the
        fields of :meth:`create_flow_run` (``flow_id`` or ``flow_name``, ``parameters``...)."""
        items = [item if isinstance(item, FlowRunCreate) else FlowRunCreate(**item)
                 for item in runs]
        made: list[FlowRun] = []
        for start in range(0, len(items), RUN_BATCH_MAX):
            body = FlowRunBatch(runs=items[start:start + RUN_BATCH_MAX])
            # safe to send again only when every run carries an idempotency key
            again = all(item.idempotency_key is not None for item in body.runs)
            data = self._post("/api/flow_runs/batch", _body(body), idempotent=again)
            made.extend(FlowRunBatchResult.model_validate(data).runs)
        return made

    def get_flow_run(self, flow_run_id: str) -> FlowRun:
        """The run, with ``agent_match`` telling whether an online agent can take it."""
        return FlowRun.model_validate(self._get(f"/api/flow_runs/{flow_run_id}"))

    def list_flow_runs(self, flow_id: str | None = None, *, flow_name: str | None = None,
                       state: str | Iterable[str] | None = None,
                       labels: Iterable[str] | None = None,
                       parent: str | None = None, upcoming: bool = False,
                       limit: int = 50, offset: int = 0) -> Page[FlowRun]:
        """Newest first; ``parent`` lists the runs created from within that run; with
        ``upcoming``, the Scheduled runs still to start, soonest first."""
        params = {"flow_id": flow_id, "flow_name": flow_name,
                  "state": [state] if isinstance(state, str) else state,
                  "labels": labels, "parent": parent, "upcoming": upcoming or None,
                  "limit": limit, "offset": offset}
        return Page[FlowRun].model_validate(self._get("/api/flow_runs", _params(params)))

    def set_flow_run_state(self, flow_run_id: str, state: str | State,
                           message: str | None = None, *, lease_id: str | None = None,
                           expected_version: int | None = None) -> FlowRun:
        """Move the run to ``state`` (a name or an engine ``State``, whose message is used
        when ``message`` is None); a refused change raises ``ConflictError``."""
        if not isinstance(state, str):
            message = state.message if message is None else message
            state = state.name
        body = StateWrite(state=state, message=message, lease_id=_lease(lease_id),
                          expected_version=expected_version)
        return FlowRun.model_validate(self._post(f"/api/flow_runs/{flow_run_id}/state",
                                                 _body(body), idempotent=False))

    def cancel_flow_run(self, flow_run_id: str, message: str | None = None) -> FlowRun:
        """Cancel the run (an id or a unique id prefix): a Scheduled run is Cancelled at
        once, a Submitted or Running one becomes Cancelling until its process stops;
        ``ConflictError`` if it has already finished."""
        body = CancelRequest(message=message)
        return FlowRun.model_validate(self._post(f"/api/flow_runs/{flow_run_id}/cancel",
                                                 _body(body), idempotent=False))

    def restart_flow_run(self, flow_run_id: str, from_task: str | None = None) -> FlowRun:
        """Restart a Failed, Crashed, TimedOut or Cancelled run (an id or a unique id
        prefix): the same run is Scheduled again and only what did not succeed runs again
        (with ``from_task``, also that task and everything downstream of it). The run keeps
        its id, so whatever follows it goes on following it. ``ConflictError`` if the run
        succeeded or has not finished."""
        body = RestartRequest(from_task=from_task)
        return FlowRun.model_validate(self._post(f"/api/flow_runs/{flow_run_id}/restart",
                                                 _body(body), idempotent=False))

    def get_flow_run_states(self, flow_run_id: str) -> list[StateRecord]:
        return [StateRecord.model_validate(x)
                for x in self._get(f"/api/flow_runs/{flow_run_id}/states")]

    def run_heartbeat(self, flow_run_id: str, lease_id: str | None) -> HeartbeatAck:
        """Renew the lease; ``ConflictError`` if it is no longer valid or the run stopped."""
        body = RunHeartbeat(lease_id=_lease(lease_id))
        return HeartbeatAck.model_validate(self._post(f"/api/flow_runs/{flow_run_id}/heartbeat",
                                                      _body(body), idempotent=True))

    def report_infrastructure_failure(self, flow_run_id: str, *, lease_id: str | None,
                                      exit_code: int | None = None, message: str = ""
                                      ) -> FlowRun:
        """The process running the flow died: Crashed now, rescheduled if retries remain."""
        body = InfrastructureFailure(lease_id=_lease(lease_id), exit_code=exit_code,
                                     message=message)
        return FlowRun.model_validate(self._post(
            f"/api/flow_runs/{flow_run_id}/infrastructure_failure", _body(body), idempotent=True))

    # ------------------------------------------------------------ task runs, logs
    def set_task_run_states(self, flow_run_id: str,
                            task_runs: Iterable[TaskRunWrite | Mapping[str, Any]], *,
                            lease_id: str | None = None) -> int:
        """Upsert task run states; returns how many were applied. Timestamps missing from
        ``task_runs`` are set to now here, so a retried batch changes nothing."""
        now = datetime.now(timezone.utc)
        items = []
        for item in task_runs:
            model = item if isinstance(item, TaskRunWrite) else TaskRunWrite(**item)
            if model.timestamp is None:
                model = model.model_copy(update={"timestamp": now})
            items.append(model)
        body = TaskRunStatesWrite(lease_id=_lease(lease_id), task_runs=items)
        data = self._post(f"/api/flow_runs/{flow_run_id}/task_runs", _body(body),
                          idempotent=True)
        return WriteCount.model_validate(data).count

    def get_task_runs(self, flow_run_id: str) -> list[TaskRun]:
        return [TaskRun.model_validate(x)
                for x in self._get(f"/api/flow_runs/{flow_run_id}/task_runs")]

    def write_logs(self, flow_run_id: str, logs: Iterable[LogWrite | Mapping[str, Any]]
                   ) -> int:
        items = [item if isinstance(item, LogWrite) else LogWrite(**item) for item in logs]
        data = self._post(f"/api/flow_runs/{flow_run_id}/logs",
                          [_body(item) for item in items], idempotent=False)
        return WriteCount.model_validate(data).count

    def run_events(self, flow_run_id: str, after: int = 0, limit: int = 500) -> RunEventPage:
        """One page of a run's events after ``after`` (its states, task-run states, logs)."""
        return RunEventPage.model_validate(self._get(
            f"/api/flow_runs/{flow_run_id}/events", {"after": after, "limit": limit}))

    def follow_run(self, flow_run_id: str, after: int = 0, *, give_up_after: float = 300.0
                   ) -> Iterator[RunEvent]:
        """A run's events as they happen, until it has finished (a live stream; reconnects
        and resumes when the backend restarts; see :mod:`jupyter_flows.client.stream`)."""
        return follow_run(self._t, flow_run_id, after, give_up_after=give_up_after)

    def follow_changes(self, last_event_id: str | None = None, *,
                       give_up_after: float = 300.0) -> Iterator[FeedEvent]:
        """Changes to flows, runs and agents as they happen (until the caller stops)."""
        return follow_changes(self._t, last_event_id, give_up_after=give_up_after)

    def read_logs(self, flow_run_id: str, after: int = 0, limit: int = 500) -> LogPage:
        """Logs with id > ``after``; pass the page's ``next_after`` to read on."""
        return LogPage.model_validate(self._get(f"/api/flow_runs/{flow_run_id}/logs",
                                                {"after": after, "limit": limit}))

    # ---------------------------------------------------------------------- agents
    def register_agent(self, name: str, type: str = "local", labels: Iterable[str] = ()
                       ) -> Agent:
        body = AgentCreate(name=name, type=type, labels=list(labels))
        return Agent.model_validate(self._post("/api/agents", _body(body), idempotent=True))

    def agent_heartbeat(self, agent_id: str) -> Agent:
        return Agent.model_validate(self._post(f"/api/agents/{agent_id}/heartbeat", None,
                                               idempotent=True))

    def get_agent(self, agent_id: str) -> Agent:
        return Agent.model_validate(self._get(f"/api/agents/{agent_id}"))

    def list_agents(self) -> list[Agent]:
        return [Agent.model_validate(x) for x in self._get("/api/agents")]

    def claim(self, agent_id: str, wait: float = 0.0) -> Claim | None:
        """The next due run for this agent, leased to it, or None after ``wait`` seconds."""
        response = self._t.request("POST", f"/api/agents/{agent_id}/claim",
                                   params={"wait": wait}, idempotent=False,
                                   timeout=wait + 30.0)
        if response.status_code == 204:
            return None
        return Claim.model_validate(response.json())

    # ---------------------------------------------------------------------- limits
    def list_limits(self) -> list[ConcurrencyLimit]:
        """Every concurrency limit, with how many runs hold one of its slots now."""
        return [ConcurrencyLimit.model_validate(x) for x in self._get("/api/limits")]

    def set_limit(self, name: str, limit: int, kind: str = "label") -> ConcurrencyLimit:
        """``kind`` "label": at most ``limit`` flow runs with label ``name`` Submitted,
        Running or Cancelling at once (enforced when agents claim); ``kind`` "tag": at most
        ``limit`` task runs tagged ``name`` running at once across all flow runs (enforced
        before each runs). Setting it again changes it."""
        response = self._t.request("PUT", _limit_path(kind, name),
                                   json=_body(LimitSet(limit=limit)), idempotent=True)
        return ConcurrencyLimit.model_validate(response.json())

    def delete_limit(self, name: str, kind: str = "label") -> ConcurrencyLimit:
        """Remove a limit; answers what it was (``BackendError`` 404 when there is none)."""
        response = self._t.request("DELETE", _limit_path(kind, name), idempotent=True)
        return ConcurrencyLimit.model_validate(response.json())

    def take_task_slots(self, flow_run_id: str, task_slug: str, map_index: int | None,
                        tags: Iterable[str], *, lease_id: str) -> TaskSlotGrant:
        """Ask for one slot of each limited tag for a task run of a leased run (all or
        none); not granted says which tag is full. Asking again for held slots is a no-op."""
        body = TaskSlotRequest(lease_id=LeaseId(lease_id), task_slug=task_slug,
                               map_index=map_index, tags=sorted(set(tags)))
        data = self._post(f"/api/flow_runs/{flow_run_id}/task_slots", _body(body),
                          idempotent=True)
        return TaskSlotGrant.model_validate(data)

    def release_task_slots(self, flow_run_id: str, task_slug: str,
                           map_index: int | None) -> int:
        """Give back a task run's slots; answers how many it held."""
        params = _params({"task_slug": task_slug, "map_index": map_index})
        response = self._t.request("DELETE", f"/api/flow_runs/{flow_run_id}/task_slots",
                                   params=params, idempotent=True)
        return WriteCount.model_validate(response.json()).count


def _limit_path(kind: str, name: str) -> str:
    return f"/api/limits/{quote(kind, safe='')}/{quote(name, safe='')}"


def _params(values: Mapping[str, Any]) -> dict[str, Any]:
    """Query parameters without the unset ones; iterables become repeated parameters."""
    return {k: v if isinstance(v, str | int | float) else list(v)
            for k, v in values.items() if v is not None}


def _lease(lease_id: str | None) -> LeaseId | None:
    return None if lease_id is None else LeaseId(lease_id)
