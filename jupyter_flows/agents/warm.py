"""Warm starts for the local agent: flow-run processes forked from a pre-imported server.

A fresh ``python -m jupyter_flows execute flow-run ID`` spends about half a second
importing the client, its wire models and the engine before the run is Running. With warm
starts the agent keeps a multiprocessing *forkserver* that has imported them once; each run
is a process forked from it, so it starts with them loaded. The forkserver is its own clean
process (not a fork of the agent and its threads), and multiprocessing starts it again if it
dies.

Each run is still a process of its own, as with a fresh start: it leads a new session
(its process group is what a kill reaches), gets the run's environment and working
directory before any of the flow's code is loaded, and writes its output to the run's log
file. What a forked process cannot take from its environment is what the interpreter reads
when it starts, so a run whose environment differs from the agent's there (``PYTHON*``,
``LD_*`` variables) gets a fresh process instead (:func:`needs_fresh_process`).
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import signal
import sys
import threading
from collections.abc import Mapping
from multiprocessing.context import ForkServerContext

__all__ = ["PRELOAD", "WarmLauncher", "WarmProcess", "needs_fresh_process"]

#: What the forkserver imports once: everything a flow-run process imports before it runs
#: the flow (the flow's own modules are loaded after the fork, under the run's environment).
PRELOAD = [
    "jupyter_flows.flow_run.execute",
    "jupyter_flows.flow_run.startup",
    "jupyter_flows.flow_run.reporting",
    "jupyter_flows.flow_run.cancel",
    "jupyter_flows.client.client",
    "jupyter_flows.deploy.register",
    "jupyter_flows.engine.flow_runner",
    "jupyter_flows.executors.base",
]
_STARTUP_PREFIXES = ("PYTHON", "LD_")


def needs_fresh_process(run_env: Mapping[str, str],
                        agent_env: Mapping[str, str] | None = None) -> str | None:
    """Why a run with environment ``run_env`` cannot be forked warm, or None: a variable the
    interpreter reads at start-up differs from the agent's."""
    current = os.environ if agent_env is None else agent_env
    names = {name for name in {*run_env, *current} if name.startswith(_STARTUP_PREFIXES)}
    changed = sorted(name for name in names if run_env.get(name) != current.get(name))
    return f"its environment sets {', '.join(changed)}" if changed else None


def _run_forked(flow_run_id: str, env: dict[str, str], cwd: str | None,
                log_path: str | None) -> None:
    """The forked process: become a run's process, then run it as the fresh command does."""
    os.setsid()  # a process group of its own, as start_new_session gives a fresh process
    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    if log_path is not None:
        fd = os.open(log_path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
        os.dup2(fd, 1)
        os.dup2(fd, 2)
        os.close(fd)
    os.environ.clear()
    os.environ.update(env)
    if cwd:
        os.chdir(cwd)
    sys.path.insert(0, os.getcwd())  # what `python -m` puts first: the run's directory
    sys.argv = [sys.executable, "-m", "jupyter_flows", "execute", "flow-run", flow_run_id]
    from jupyter_flows.flow_run.execute import execute_flow_run_main

    code = execute_flow_run_main(flow_run_id)
    sys.stdout.flush()
    sys.stderr.flush()
    sys.exit(code)


class WarmProcess:
    """A forked flow-run process, with the handle an agent watches: ``poll()`` (the exit
    code, negative for a signal, as ``Popen``) and ``kill_run()`` (its process group)."""

    def __init__(self, process: multiprocessing.process.BaseProcess) -> None:
        assert process.pid is not None, "a started process has a pid"
        self.process = process
        self.pid: int = process.pid
        self._exitcode: int | None = None

    def poll(self) -> int | None:
        if self._exitcode is None:
            self._exitcode = self.process.exitcode
            if self._exitcode is not None:
                self.process.close()  # its sentinel pipe
        return self._exitcode

    def kill_run(self) -> None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.pid, signal.SIGKILL)
            return
        with contextlib.suppress(ProcessLookupError):  # killed before its setsid()
            os.kill(self.pid, signal.SIGKILL)


class WarmLauncher:
    """Forks flow-run processes from one pre-imported forkserver, started on first use."""

    def __init__(self, preload: list[str] | None = None) -> None:
        self._context: ForkServerContext = multiprocessing.get_context("forkserver")
        self._context.set_forkserver_preload(PRELOAD if preload is None else preload)
        self._lock = threading.Lock()

    def warm_up(self) -> None:
        """Start the forkserver now, so the first run does not wait for its imports."""
        from multiprocessing import forkserver

        with self._lock:
            forkserver.ensure_running()

    def launch(self, flow_run_id: str, env: dict[str, str], cwd: str | None,
               log_path: str | None) -> WarmProcess:
        process = self._context.Process(target=_run_forked, name=f"flow-run-{flow_run_id}",
                                        args=(flow_run_id, env, cwd, log_path), daemon=False)
        with self._lock:  # the forkserver takes one request at a time
            process.start()
        # multiprocessing joins the children it knows of when the agent exits; a run must
        # outlive its agent (as a fresh process does), so it forgets this one
        with contextlib.suppress(AttributeError, KeyError):
            multiprocessing.process._children.discard(process)  # type: ignore[attr-defined]
        return WarmProcess(process)
