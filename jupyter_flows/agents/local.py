"""LocalAgent: runs each flow run as a subprocess on this machine (LocalRun, UniversalRun)."""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import subprocess
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from jupyter_flows.agents.base import Agent
from jupyter_flows.flow_run.execute import HEARTBEAT_ENV, LEASE_ENV

if TYPE_CHECKING:
    from jupyter_flows.agents.warm import WarmLauncher, WarmProcess
    from jupyter_flows.api import Claim

_log = logging.getLogger("jupyter_flows.agents.local")


def run_env(agent_env: dict[str, str], run_config: dict[str, Any], *, backend_url: str,
            api_key: str | None, flow_run_id: str, lease_id: str) -> dict[str, str]:
    """The child's environment: this process < agent --env < run config env < what the run
    needs to reach the backend (which nothing may override)."""
    env = {**os.environ, **agent_env, **(run_config.get("env") or {})}
    env.update({"JUPYTER_FLOWS_BACKEND_URL": backend_url, "JUPYTER_FLOWS_FLOW_RUN_ID": flow_run_id,
                LEASE_ENV: lease_id})
    if api_key:
        env["JUPYTER_FLOWS_API_KEY"] = api_key
    return env


class RunProcess(subprocess.Popen[bytes]):
    """A flow-run process, the leader of a process group of its own (so a kill reaches
    whatever it started: pool workers, isolated task children)."""

    def kill_run(self) -> None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.pid, signal.SIGKILL)


class LocalAgent(Agent):
    """Launches ``python -m jupyter_flows execute flow-run ID`` with the run's env and dir;
    with ``warm_start``, forks it from a pre-imported forkserver instead
    (:mod:`jupyter_flows.agents.warm`), unless the run's environment needs a fresh one."""

    type = "local"
    run_config_types = ("local", "universal")

    def __init__(self, *args: Any, log_dir: str | None = None, warm_start: bool = False,
                 **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.log_dir = Path(log_dir) if log_dir else None
        self.warm: WarmLauncher | None = None
        if warm_start:
            from jupyter_flows.agents.warm import WarmLauncher

            self.warm = WarmLauncher()
            self.warm.warm_up()

    def launch(self, claim: Claim) -> RunProcess | WarmProcess:
        run_config = claim.flow_run.run_config or {}
        working_dir = run_config.get("working_dir")
        if working_dir and not Path(working_dir).is_dir():
            raise FileNotFoundError(f"LocalRun.working_dir {working_dir!r} does not exist here")
        env = run_env(self.env, run_config, backend_url=self.client.url,
                      api_key=self.api_key, flow_run_id=claim.flow_run.id,
                      lease_id=claim.lease.lease_id)
        env.setdefault(HEARTBEAT_ENV, f"{self.lease_seconds(claim) / 3:.2f}")
        log_path = None
        if self.log_dir is not None:
            self.log_dir.mkdir(parents=True, exist_ok=True)
            log_path = self.log_dir / f"{claim.flow_run.id}.log"
        if self.warm is not None:
            from jupyter_flows.agents.warm import needs_fresh_process

            why_not = needs_fresh_process(env)
            if why_not is None:
                return self.warm.launch(claim.flow_run.id, env, working_dir or None,
                                        str(log_path) if log_path else None)
            _log.info("flow run %s: a fresh process, not a warm one: %s", claim.flow_run.id,
                      why_not)
        output: Any = None
        if log_path is not None:
            output = open(log_path, "ab")  # noqa: SIM115
        command = [sys.executable, "-m", "jupyter_flows", "execute", "flow-run",
                   claim.flow_run.id]
        try:
            return RunProcess(command, env=env, cwd=working_dir or None, stdout=output,
                              stderr=subprocess.STDOUT if output else None,
                              start_new_session=True)
        finally:
            if output is not None:
                output.close()
