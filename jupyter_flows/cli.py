"""The ``jupyter-flows`` command line."""

from __future__ import annotations

import typer

app = typer.Typer(help="jupyter-flows: notebook cells and Python functions as workflows.",
                  no_args_is_help=True, add_completion=False)


@app.command()
def demo(
    n: int = typer.Option(12, help="how many records the demo flow processes"),
    executor: str = typer.Option("dask", help="local | local-dask | dask"),
) -> None:
    """Run the demo flow (on a temporary local Dask cluster by default) and print its states."""
    from rich.console import Console
    from rich.table import Table

    from jupyter_flows.demo import build_demo_flow
    from jupyter_flows.executors.base import executor_from_config

    console = Console()
    flow = build_demo_flow()
    config: dict[str, object] = {"type": executor}
    if executor == "dask":
        config["cluster_kwargs"] = {"n_workers": 2, "threads_per_worker": 1}
    chosen = executor_from_config(config)
    console.print(f"running flow [bold]{flow.name}[/bold] on {chosen.describe()} ...")
    state = flow.run(parameters={"n": n}, executor=chosen, progress=True)
    table = Table(title=f"{flow.name}: {state.name}")
    for column in ("task", "state", "message", "result"):
        table.add_column(column)
    for task in flow.sorted_tasks():
        task_state = state.result[task]
        result = task_state.result
        shown = f"{len(result)} items" if isinstance(result, list) else repr(result)
        table.add_row(task.slug, task_state.name, task_state.message or "", shown[:60])
    console.print(table)
    raise typer.Exit(0 if state.is_successful() else 1)


@app.command()
def version() -> None:
    """Print the installed version."""
    from jupyter_flows import __version__

    typer.echo(__version__)


def main() -> None:
    app()


if __name__ == "__main__":
    main()
