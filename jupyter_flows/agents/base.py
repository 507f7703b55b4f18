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

Cancel: a heartbeat's answer says when a launched run is ``Cancelling``. Its flow-run
process should stop within moments; if it is still Cancelling ``cancel_grace`` seconds
(default 30) after the cancel, the agent kills what it launched (the handle's
``kill_run()``: the process group, the container, the Job, the ECS task) and reports it,
and the backend marks the run Cancelled with the agent's message.

Launched runs are watched by a thread of their own (``watch_interval``, 0.2 s), not between
claim long-polls, so a dead flow-run process is reported within a second, and a run past
its cancel grace is killed on time. A process that exits with ``EXIT_NOT_STARTED`` did not
start its run (the backend stayed unreachable, or the claim was taken back): the claim is
handed back, without using a retry. What the agent reports about an ended run waits out a
backend outage (``JUPYTER_FLOWS_BACKEND_PATIENCE``).

What a platform adds (container agents; a subprocess ``Popen`` needs none of it):

- ``launch`` may raise ``RunRefused`` for a run the agent will not start as configured (a
  bad template, an image from a registry it does not allow): the run is marked Failed with
  that message, not Crashed, since starting it again would fail the same way;
- the handle's ``poll()`` may return an ``Exit`` instead of a bare exit code, to report the
  platform's reason (``OOMKilled``, ``ImagePullBackOff: ...``, an ECS stoppedReason) or an
  end without any exit code (the container never started);
- the handle may have ``failure_logs() -> list[str]`` (the last lines of output, sent to the
  run's logs when it failed) and ``cleanup()`` (remove the finished container or Job);
- ``platform_log`` writes a line about the run's infrastructure (pod events) to its logs;
- the handle's ``kill_run()`` stops the run's infrastructure at once (after a cancel's grace).
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

from jupyter_flows.errors import (
    BackendAuthError,
    BackendUnavailable,
    ConflictError,
    JupyterFlowsError,
    RunRefused,
)

if TYPE_CHECKING:
    from jupyter_flows.api import Claim
    from jupyter_flows.client.client import Client

_log = logging.getLogger("jupyter_flows.agent")
#: Environment variable: seconds a starting agent waits for its backend (default 60).
CONNECT_TIMEOUT_ENV = "JUPYTER_FLOWS_AGENT_CONNECT_TIMEOUT"
FINISHED_STATES = frozenset({"Success", "Cached", "Mapped", "Skipped", "Failed",
                             "TriggerFailed", "TimedOut", "Crashed", "Cancelled"})


@dataclass(frozen=True)
class Exit:
    """How a launched run's infrastructure ended, as its platform tells it.

    ``code`` is None when there is no exit code (the image could not be pulled, the task
    was stopped before its container ran); ``reason`` is the platform's explanation.
    """

    code: int | None
    reason: str | None = None


@dataclass
class Launched:
    """A run this agent started; ``poll()`` tells how it ended, once it has."""

    flow_run_id: str
    lease_id: str
    handle: Any
    started: float = field(default_factory=time.monotonic)
    kill_at: float | None = None
    """When (``time.monotonic()``) to kill it: set once the run is seen Cancelling."""
    killed: str | None = None
    """Why the agent killed it, once it did."""

    def poll(self) -> Exit | None:
        result = self.handle.poll()
        if result is None or isinstance(result, Exit):
            return result
        return Exit(int(result))

    def failure_logs(self) -> list[str]:
        tail = getattr(self.handle, "failure_logs", None)
        return list(tail()) if tail is not None else []

    def kill(self) -> None:
        kill = getattr(self.handle, "kill_run", None)
        if kill is None:
            raise NotImplementedError(f"{type(self.handle).__name__} cannot be killed")
        kill()

    def cleanup(self) -> None:
        cleanup = getattr(self.handle, "cleanup", None)
        if cleanup is not None:
            cleanup()


class Agent:
    """Base agent; subclasses implement ``accepts`` and ``launch`` for their platform."""

    type = "base"
    run_config_types: tuple[str, ...] = ("universal",)
    #: seconds between two looks at the launched runs (the reaper thread)
    watch_interval = 0.2

    def __init__(self, client: Client | None = None, *, name: str | None = None,
                 labels: list[str] | None = None, env: dict[str, str] | None = None,
                 max_runs: int | None = None, poll_wait: float = 10.0,
                 heartbeat_interval: float = 5.0, api_key: str | None = None,
                 concurrency: int | None = None, cancel_grace: float = 30.0) -> None:
        from jupyter_flows.client.client import Client

        self.api_key = api_key or os.environ.get("JUPYTER_FLOWS_API_KEY")
        self.client = client or Client(api_key=self.api_key)
        self.name = name or f"{self.type}-agent-{socket.gethostname()}-{os.getpid()}"
        self.labels = sorted(set(labels or []))
        self.env = dict(env or {})
        self.max_runs = max_runs
        self.poll_wait = poll_wait
        self.heartbeat_interval = heartbeat_interval
        if cancel_grace < 0:
            raise ValueError(f"cancel_grace: expected seconds >= 0, got {cancel_grace!r}")
        self.cancel_grace = cancel_grace
        # launching more runs than the machine can start would let their leases lapse
        self.concurrency = concurrency or 2 * (os.cpu_count() or 1)
        self.agent_id: str | None = None
        self.launched: dict[str, Launched] = {}
        # runs whose launch is under way (an image pull can outlast a lease): renewed too
        self._launching: dict[str, str] = {}
        self.runs_started = 0
        #: seconds a starting agent waits for an unreachable backend before it gives up
        #: (once registered, it rides out outages of any length)
        self.connect_timeout = float(os.environ.get(CONNECT_TIMEOUT_ENV) or 60.0)
        self._stop = threading.Event()
        self._launched_lock = threading.Lock()

    # ------------------------------------------------------------ platform part
    def launch(self, claim: Claim) -> Any:
        """Start the run on the platform; return a handle whose ``poll()`` gives None while
        the run's process lives, then its exit code or an ``Exit``."""
        raise NotImplementedError

    def platform_log(self, flow_run_id: str, message: str, level: str = "INFO") -> None:
        """Write a line about the run's infrastructure to the run's logs."""
        self._report(lambda: self.client.write_logs(
            flow_run_id, [{"level": level, "message": f"[{self.type} agent] {message}"}]))

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
        self._register(give_up_after=self.connect_timeout)
        beat = threading.Thread(target=self._heartbeat_loop, name="agent-heartbeat", daemon=True)
        beat.start()
        reaper = threading.Thread(target=self._watch_loop, name="agent-reaper", daemon=True)
        reaper.start()
        _log.info("agent %s (%s) with labels %s polling %s", self.name, self.agent_id,
                  self.labels, self.client.url)
        while not self._stop.is_set():
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
            except BackendAuthError:
                self._stop.set()
                raise  # the key was changed: retrying cannot help, and the message says why
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

    def _register(self, give_up_after: float | None = None) -> None:
        """Register (again); a wrong key raises at once, and so does a backend still
        unreachable after ``give_up_after`` seconds (on start: a wrong URL should say so,
        not wait forever)."""
        deadline = None if give_up_after is None else time.monotonic() + give_up_after
        while not self._stop.is_set():
            try:
                self.agent_id = self.client.register_agent(self.name, self.type, self.labels).id
                return
            except BackendUnavailable as exc:
                if deadline is not None and time.monotonic() >= deadline:
                    raise
                # quiet while starting: the one line is the error if it never answers
                (_log.debug if deadline is not None else _log.warning)(
                    "backend unavailable, retrying: %s", exc)
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
        self._launching[run_id] = lease
        try:
            handle = self.launch(claim)
        except RunRefused as exc:
            refusal = str(exc)
            _log.error("flow run %s: %s", run_id, refusal)
            self._report(lambda: self.client.set_flow_run_state(run_id, "Failed", refusal,
                                                                lease_id=lease))
            return
        except Exception as exc:
            message = f"{self.type} agent {self.name!r} could not start the run: {exc}"
            _log.error("flow run %s: %s", run_id, message)
            self._report(lambda: self.client.report_infrastructure_failure(
                run_id, lease_id=lease, message=message))
            return
        finally:
            self._launching.pop(run_id, None)
        self.runs_started += 1
        with self._launched_lock:
            self.launched[run_id] = Launched(run_id, lease, handle)
        _log.info("flow run %s (%s) launched", run_id, claim.flow.name)
        self._watch()  # a first look at once (the platform's first status goes to the logs)

    def _watch_loop(self) -> None:
        while not self._stop.wait(self.watch_interval):
            try:
                self._watch()
            except Exception:  # the reaper must outlive any one bad report
                _log.exception("watching launched runs failed; looking again")

    def _watch(self) -> None:
        """Report every launched run that has ended, and kill those past their cancel
        grace (called by the watcher thread)."""
        ended_runs: list[tuple[str, Launched, Exit]] = []
        with self._launched_lock:  # each ended run is taken by one caller only
            for run_id, launched in list(self.launched.items()):
                if (launched.kill_at is not None and launched.killed is None
                        and time.monotonic() >= launched.kill_at):
                    self._kill(run_id, launched)
                try:
                    ended = launched.poll()
                except Exception as exc:  # a platform API hiccup: look again next time
                    _log.warning("flow run %s: cannot tell whether it still runs: %s",
                                 run_id, exc)
                    continue
                if ended is not None:
                    del self.launched[run_id]
                    ended_runs.append((run_id, launched, ended))
        for run_id, launched, ended in ended_runs:
            try:
                self._ended(run_id, launched, ended)
            finally:
                try:
                    launched.cleanup()
                except Exception as exc:
                    _log.warning("flow run %s: cleanup failed: %s", run_id, exc)

    def _kill(self, run_id: str, launched: Launched) -> None:
        message = (f"killed by the {self.type} agent {self.name!r}: still Cancelling after"
                   f" {self.cancel_grace:g} s grace")
        try:
            launched.kill()
        except Exception as exc:  # try again on the next pass
            _log.warning("flow run %s: could not kill it: %s", run_id, exc)
            return
        launched.killed = message
        _log.warning("flow run %s: %s", run_id, message)
        self.platform_log(run_id, message, "WARNING")

    def _cancelling(self, run_id: str, launched: Launched) -> None:
        """A heartbeat said the run is Cancelling: kill it once the grace has passed since
        the cancel (counted from the run's state time, as the backend saw it)."""
        if launched.kill_at is not None:
            return
        from datetime import datetime, timezone

        since = 0.0
        with contextlib.suppress(JupyterFlowsError):
            run = self.client.get_flow_run(run_id)
            stamp = run.state_timestamp
            if stamp.tzinfo is None:
                stamp = stamp.replace(tzinfo=timezone.utc)
            since = max(0.0, (datetime.now(timezone.utc) - stamp).total_seconds())
        launched.kill_at = time.monotonic() + max(0.0, self.cancel_grace - since)
        _log.info("flow run %s is Cancelling: killing it in %.1f s unless it ends", run_id,
                  launched.kill_at - time.monotonic())

    def _ended(self, run_id: str, launched: Launched, ended: Exit) -> None:
        from jupyter_flows.client.patience import backend_patience, call_patiently
        from jupyter_flows.flow_run.startup import EXIT_NOT_STARTED

        code = ended.code
        patience = backend_patience()
        try:
            run = call_patiently(lambda: self.client.get_flow_run(run_id), patience=patience,
                                 what=f"flow run {run_id} ended (exit {code})")
        except JupyterFlowsError as exc:
            _log.warning("flow run %s ended (exit %s); state unknown: %s", run_id, code, exc)
            return
        if run.state in FINISHED_STATES:
            _log.info("flow run %s ended %s (exit %s)", run_id, run.state, code)
            return
        if code == EXIT_NOT_STARTED and run.state == "Submitted":
            _log.warning("flow run %s was not started by its process: handing it back",
                         run_id)
            self._report(lambda: call_patiently(lambda: self.client.set_flow_run_state(
                run_id, "Scheduled", "its flow-run process could not start it (exit "
                f"{code}; see the agent's log)", lease_id=launched.lease_id),
                patience=patience, what=f"handing back flow run {run_id}"))
            return
        try:
            tail = launched.failure_logs()
        except Exception as exc:
            tail = []
            _log.warning("flow run %s: cannot read its output: %s", run_id, exc)
        if tail:
            self.platform_log(run_id, "last output before the failure:\n" + "\n".join(tail),
                              "ERROR")
        if launched.killed is not None:
            message = launched.killed
        elif ended.reason:
            message = f"{ended.reason} (while the run was {run.state})"
        else:
            message = (f"the flow-run process exited with code {code} while the run was"
                       f" {run.state}")
        _log.error("flow run %s: %s", run_id, message)
        self._report(lambda: call_patiently(lambda: self.client.report_infrastructure_failure(
            run_id, lease_id=launched.lease_id, exit_code=code, message=message),
            patience=patience, what=f"reporting the end of flow run {run_id}"))

    def _heartbeat_loop(self) -> None:
        last = time.monotonic()
        # short waits: a claim may shorten heartbeat_interval while a long wait is under way,
        # and the claimed lease must not lapse before the first renewal
        while not self._stop.wait(min(0.25, self.heartbeat_interval)):
            if time.monotonic() - last < self.heartbeat_interval:
                continue
            last = time.monotonic()
            try:
                if self.agent_id:
                    self.client.agent_heartbeat(self.agent_id)
                with self._launched_lock:
                    live = {rid: la.lease_id for rid, la in self.launched.items()}
                leases = {**self._launching, **live}
                for run_id, lease_id in leases.items():
                    # a finished or taken-away run refuses: the watch loop sorts it out
                    with contextlib.suppress(ConflictError):
                        ack = self.client.run_heartbeat(run_id, lease_id)
                        launched = self.launched.get(run_id)
                        if ack.state == "Cancelling" and launched is not None:
                            self._cancelling(run_id, launched)
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
