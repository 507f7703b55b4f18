"""``jupyter-flows up``: the local backend, a local agent, and a demo run, in one command.

The backend and agent are a :class:`~jupyter_flows.local_backend.LocalBackend` on the
default database (the one JupyterLab's panel uses too); ``--lab`` adds JupyterLab on them.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from jupyter_flows.local_backend import (
    LocalBackend,
    default_database_url,
    default_run_log_dir,
    die_with_parent,
    stop_processes,
)


def run_demo(client: Any) -> int:
    """Register the demo flow, run it through the agent and print what happens."""
    from jupyter_flows.cli.demo import build_demo_flow
    from jupyter_flows.cli.flows import watch_run
    from jupyter_flows.executors.dask import DaskExecutor
    from jupyter_flows.run_configs import LocalRun

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
    return code


def start_lab(backend: LocalBackend, notebook_dir: Path, port: int = 8888
              ) -> subprocess.Popen[bytes]:
    """JupyterLab on ``notebook_dir``, its panel and kernels pointed at ``backend``."""
    command = [sys.executable, "-m", "jupyter", "lab", "--no-browser", "--ip", "127.0.0.1",
               "--port", str(port), f"--ServerApp.root_dir={notebook_dir}"]
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        command.append("--allow-root")  # JupyterLab refuses to start as root otherwise
    return subprocess.Popen(command, env={**os.environ, **backend.env()},
                            preexec_fn=die_with_parent())


def command_hint(cwd: Path | None = None) -> tuple[str, str | None]:
    """How to call this installation's ``jupyter-flows`` from ``cwd``, and how to activate its
    environment: the bare name when PATH already finds this one, else its path (set-up leaves
    ``.venv/bin`` off PATH)."""
    import shutil

    here = Path.cwd() if cwd is None else cwd
    bin_dir = Path(sys.executable).parent
    found = shutil.which("jupyter-flows")
    if found and Path(found).resolve().parent == bin_dir.resolve():
        return "jupyter-flows", None

    def shown(path: Path) -> str:
        try:
            return str(path.relative_to(here))
        except ValueError:
            return str(path)

    activate = bin_dir / "activate"
    return shown(bin_dir / "jupyter-flows"), (shown(activate) if activate.exists() else None)


def _interrupt_on_signals() -> None:
    """SIGTERM and SIGINT stop `up` (and its children) the way Ctrl-C does, also when a
    non-interactive shell started it with SIGINT ignored."""
    import signal
    import threading

    def interrupt(*_: Any) -> None:
        raise KeyboardInterrupt

    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, interrupt)
        signal.signal(signal.SIGINT, interrupt)


def run_up(port: int = 4200, database_url: str | None = None,
           exit_after_demo: bool = False, lab: bool = False,
           notebook_dir: Path | None = None, lab_port: int = 8888) -> int:
    from jupyter_flows.client.client import Client

    backend = LocalBackend(database_url or default_database_url(), port=port, output=None,
                           run_log_dir=default_run_log_dir(), reuse=True)
    _interrupt_on_signals()
    lab_process: subprocess.Popen[bytes] | None = None
    try:
        backend.start()
        print(f"backend: {backend.url} (API docs at {backend.url}/docs; database "
              f"{backend.database})" + (" (already running)" if backend.reused else ""))
        print("local agent: started")
        code = run_demo(Client(backend.url))
        if exit_after_demo:
            return code
        if lab:
            where = notebook_dir or Path.cwd()
            lab_process = start_lab(backend, where, lab_port)
            print(f"\nJupyterLab on {where}: open the URL it prints below; its jupyter-flows"
                  " panel (left sidebar) shows this backend's flows and runs.")
        command, activate = command_hint()
        print(f"\nbackend and agent keep running; register flows with `{command} register"
              f" FILE.py` and run them with `{command} run NAME --watch`"
              + (f" (or `source {activate}` first, then plain `jupyter-flows ...`)"
                 if activate else "") + ". Ctrl-C stops everything.")
        while backend.alive() and (lab_process is None or lab_process.poll() is None):
            time.sleep(0.5)
        return 1
    except KeyboardInterrupt:
        return 0
    finally:
        stop_processes(lab_process)
        backend.stop()
