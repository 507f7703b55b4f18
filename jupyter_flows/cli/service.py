"""``server start``, ``up``, ``demo`` and ``version``."""

from __future__ import annotations

import typer

from jupyter_flows.cli.apps import app, server_app
from jupyter_flows.cli.common import fail


@server_app.command("start")
def server_start(
    host: str = typer.Option(None, help="address to listen on (default 127.0.0.1)"),
    port: int = typer.Option(None, help="port (default 4200)"),
    db: str = typer.Option(None, "--db", help="database URL (default: a SQLite file in "
                                              "~/.jupyter-flows)"),
    api_key: str = typer.Option(None, envvar="JUPYTER_FLOWS_API_KEY",
                                help="require this bearer key on every API request"),
    lease_timeout: float = typer.Option(None, envvar="JUPYTER_FLOWS_LEASE_TIMEOUT",
                                        help="seconds a claimed run's lease outlives its "
                                             "last heartbeat (default 30)"),
    start_timeout: float = typer.Option(None, envvar="JUPYTER_FLOWS_START_TIMEOUT",
                                        help="seconds a claimed run may take to reach "
                                             "Running before it goes back to Scheduled, "
                                             "no retry used (default 300)"),
) -> None:
    """Run the backend server (FastAPI; SQLite by default, PostgreSQL by URL)."""
    from jupyter_flows.errors import ServerConfigError
    from jupyter_flows.server.app import serve
    from jupyter_flows.server.settings import Settings

    settings = Settings.from_env(host=host, port=port, database_url=db, api_key=api_key,
                                 lease_timeout=lease_timeout, start_timeout=start_timeout)
    try:
        serve(settings)
    except ServerConfigError as exc:
        raise fail(str(exc), 2) from None


# ------------------------------------------------------------------------- demos
@app.command()
def demo(
    n: int = typer.Option(12, help="how many records the demo flow processes"),
    executor: str = typer.Option("dask", help="local | local-dask | dask"),
) -> None:
    """Run the demo flow in this process (on a temporary local Dask cluster by default)."""
    from rich.console import Console

    from jupyter_flows.cli.demo import build_demo_flow, state_table
    from jupyter_flows.executors.base import executor_from_config

    console = Console()
    flow = build_demo_flow()
    config: dict[str, object] = {"type": executor}
    if executor == "dask":
        config["cluster_kwargs"] = {"n_workers": 2, "threads_per_worker": 1}
    chosen = executor_from_config(config)
    console.print(f"running flow [bold]{flow.name}[/bold] on {chosen.describe()} ...")
    state = flow.run(parameters={"n": n}, executor=chosen, progress=True)
    console.print(state_table(flow, state))
    raise typer.Exit(0 if state.is_successful() else 1)


@app.command()
def up(
    port: int = typer.Option(4200, help="backend port"),
    db: str = typer.Option(None, "--db", help="database URL (default: SQLite file)"),
    exit_after_demo: bool = typer.Option(False, "--exit-after-demo",
                                         help="stop everything after the demo run"),
    lab: bool = typer.Option(False, "--lab",
                             help="also start JupyterLab, its panel on this backend"),
    notebook_dir: str = typer.Option(None, help="JupyterLab's folder (default: here)"),
    lab_port: int = typer.Option(8888, help="JupyterLab's port"),
) -> None:
    """Start the embedded backend and a local agent, run the demo flow through them, and
    optionally JupyterLab with the flows panel."""
    from pathlib import Path

    from jupyter_flows.cli.up import run_up

    raise typer.Exit(run_up(port=port, database_url=db, exit_after_demo=exit_after_demo,
                            lab=lab, notebook_dir=Path(notebook_dir) if notebook_dir else None,
                            lab_port=lab_port))


@app.command()
def version() -> None:
    """Print the installed version."""
    from jupyter_flows import __version__

    typer.echo(__version__)


