"""The agent loop every platform shares: register, heartbeat, claim, launch, watch.

An agent long-polls the backend for a run whose labels are a subset of its own, gets it
with a lease (exactly once, decided by the server), checks that it can run that run
config, launches ``jupyter-flows execute flow-run ID`` on its platform and watches it.
While a launched run lives the agent renews its lease too, so a run survives a restarted
flow-run heartbeat; when the launched process ends without the run reaching a final state
(killed, crashed interpreter, failed start) the agent reports an infrastructure failure
with the exit code, and the backend marks the run Crashed (and reschedules it if it has
retries left). If the agent itself dies, its runs keep running and heartbeating; if both
die, the backend's lease sweeper marks the run Crashed.
"""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import socket
import threading
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from jupyter_flows.errors import BackendUnavailable, ConflictError, JupyterFlowsError

if TYPE_CHECKING:
    from jupyter_flows.client.client import Client
    from jupyter_flows.server.schemas import Claim

_log = logging.getLogger("jupyter_flows.agent")
FINISHED_STATES = frozenset({"Success", "Cached", "Mapped", "Skipped", "Failed",
                             "TriggerFailed", "TimedOut", "Crashed", "Cancelled"})


@dataclass
class Launched:
    """A run this agent started; ``poll()`` gives its exit code once it has ended."""

    flow_run_id: str
    lease_id: str
    handle: Any
    started: float = field(default_factory=time.monotonic)

    def poll(self) -> int | None:
        code: int | None = self.handle.poll()
        return code


class Agent:
    """Base agent; subclasses implement ``accepts`` and ``launch`` for their platform."""

    type = "base"
    run_config_types: tuple[str, ...] = ("universal",)

    def __init__(self, client: Client | None = None, *, name: str | None = None,
                 labels: list[str] | None = None, env: dict[str, str] | None = None,
                 max_runs: int | None = None, poll_wait: float = 10.0,
                 heartbeat_interval: float = 5.0, api_key: str | None = None,
                 concurrency: int | None = None) -> None:
        from jupyter_flows.client.client import Client

        self.api_key = api_key or os.environ.get("JUPYTER_FLOWS_API_KEY")
        self.client = client or Client(api_key=self.api_key)
        self.name = name or f"{self.type}-agent-{socket.gethostname()}-{os.getpid()}"
        self.labels = sorted(set(labels or []))
        self.env = dict(env or {})
        self.max_runs = max_runs
        self.poll_wait = poll_wait
        self.heartbeat_interval = heartbeat_interval
        # launching more runs than the machine can start would let their leases lapse
        self.concurrency = concurrency or 2 * (os.cpu_count() or 1)
        self.agent_id: str | None = None
        self.launched: dict[str, Launched] = {}
        self.runs_started = 0
        self._stop = threading.Event()

    # ------------------------------------------------------------ platform part
    def launch(self, claim: Claim) -> Any:
        """Start the run on the platform; return a handle with ``poll() -> int | None``."""
        raise NotImplementedError

    def check_run_config(self, claim: Claim) -> str | None:
        """Why this agent cannot run the claimed run's config, or None if it can."""
        kind = (claim.flow_run.run_config or {}).get("type") or "universal"
        if kind in self.run_config_types:
            return None
        wanted = {"local": "local", "docker": "docker", "kubernetes": "kubernetes",
                  "ecs": "ecs"}.get(kind, kind)
        return (f"a {type(self).__name__} cannot run a {kind!r} run config (it runs"
                f" {', '.join(self.run_config_types)}); start `jupyter-flows agent {wanted}"
                f" start` with labels {claim.flow_run.labels or '[]'}")

    # ------------------------------------------------------------------- loop
    def stop(self) -> None:
        self._stop.set()

    def run(self) -> None:
        """Claim and launch runs until ``stop()`` or SIGTERM/SIGINT (or ``max_runs``)."""
        self._install_signal_handlers()
        self._register()
        beat = threading.Thread(target=self._heartbeat_loop, name="agent-heartbeat", daemon=True)
        beat.start()
        _log.info("agent %s (%s) with labels %s polling %s", self.name, self.agent_id,
                  self.labels, self.client.url)
        while not self._stop.is_set():
            self._watch()
            if self.max_runs is not None and self.runs_started >= self.max_runs:
                if not self.launched:
                    break
                self._stop.wait(0.2)
                continue
            if len(self.launched) >= self.concurrency:
                self._stop.wait(0.1)
                continue
            try:
                claim = self.client.claim(self.agent_id or "", wait=self.poll_wait)
            except BackendUnavailable as exc:
                _log.warning("backend unavailable, retrying: %s", exc)
                self._stop.wait(1.0)
                continue
            except JupyterFlowsError as exc:
                if "agent" in str(exc).lower() and "not found" in str(exc).lower():
                    self._register()  # the backend lost us (e.g. a new database): join again
                    continue
                _log.error("claim failed: %s", exc)
                self._stop.wait(1.0)
                continue
            if claim is not None:
                self._start(claim)
        self._stop.set()

    def _register(self) -> None:
        while not self._stop.is_set():
            try:
                self.agent_id = self.client.register_agent(self.name, self.type, self.labels).id
                return
            except BackendUnavailable as exc:
                _log.warning("backend unavailable, retrying: %s", exc)
                self._stop.wait(1.0)

    def lease_seconds(self, claim: Claim) -> float:
        """How long the claimed lease lasts without a heartbeat."""
        from datetime import datetime, timezone

        expires = claim.lease.expires_at
        if expires.tzinfo is None:
            expires = expires.replace(tzinfo=timezone.utc)
        return max(0.5, (expires - datetime.now(timezone.utc)).total_seconds())

    def _start(self, claim: Claim) -> None:
        run_id = claim.flow_run.id
        lease = claim.lease.lease_id
        # renew well within the lease the backend grants, whatever its timeout
        self.heartbeat_interval = min(self.heartbeat_interval, self.lease_seconds(claim) / 3)
        reason = self.check_run_config(claim)
        if reason is not None:
            _log.error("flow run %s: %s", run_id, reason)
            self._report(lambda: self.client.set_flow_run_state(run_id, "Failed", reason,
                                                                lease_id=lease))
            return
        try:
            handle = self.launch(claim)
        except Exception as exc:
            message = f"{self.type} agent {self.name!r} could not start the run: {exc}"
            _log.error("flow run %s: %s", run_id, message)
            self._report(lambda: self.client.report_infrastructure_failure(
                run_id, lease_id=lease, message=message))
            return
        self.runs_started += 1
        self.launched[run_id] = Launched(run_id, lease, handle)
        _log.info("flow run %s (%s) launched", run_id, claim.flow.name)

    def _watch(self) -> None:
        for run_id, launched in list(self.launched.items()):
            code = launched.poll()
            if code is None:
                continue
            del self.launched[run_id]
            try:
                run = self.client.get_flow_run(run_id)
            except JupyterFlowsError as exc:
                _log.warning("flow run %s ended (exit %s); state unknown: %s", run_id, code, exc)
                continue
            if run.state in FINISHED_STATES:
                _log.info("flow run %s ended %s (exit %s)", run_id, run.state, code)
                continue
            message = (f"the flow-run process exited with code {code} while the run was"
                       f" {run.state}")
            _log.error("flow run %s: %s", run_id, message)
            self._report(lambda rid=run_id, lease=launched.lease_id, c=code, m=message:
                         self.client.report_infrastructure_failure(
                             rid, lease_id=lease, exit_code=c, message=m))

    def _heartbeat_loop(self) -> None:
        while not self._stop.wait(self.heartbeat_interval):
            try:
                if self.agent_id:
                    self.client.agent_heartbeat(self.agent_id)
                for run_id, launched in list(self.launched.items()):
                    # a finished or taken-away run refuses: the watch loop sorts it out
                    with contextlib.suppress(ConflictError):
                        self.client.run_heartbeat(run_id, launched.lease_id)
            except JupyterFlowsError as exc:
                _log.warning("heartbeat failed: %s", exc)

    def _report(self, call: Any) -> None:
        try:
            call()
        except JupyterFlowsError as exc:
            _log.error("could not report to the backend: %s", exc)

    def _install_signal_handlers(self) -> None:
        if threading.current_thread() is not threading.main_thread():
            return
        for sig in (signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, lambda *_: self.stop())
