"""Concurrency limits: ``jupyter-flows limits set | ls | rm``."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import typer

from jupyter_flows.cli.apps import App, app
from jupyter_flows.cli.common import fail

limits_app = App(help="Concurrency limits: at most N flow runs with a label, or N task runs "
                      "with a tag, at once across every agent.")
app.add_typer(limits_app, name="limits")

NameArg = typer.Argument(..., help="the label (or, with --tag, the task tag) it counts")
TagOpt = typer.Option(False, "--tag", help="limit task runs with this tag instead of flow "
                                           "runs with this label")


def _kind(tag: bool) -> str:
    return "tag" if tag else "label"


def _with_client(action: Callable[[Any], None]) -> None:
    from jupyter_flows.client.client import Client
    from jupyter_flows.errors import JupyterFlowsError

    client = Client()
    try:
        action(client)
    except JupyterFlowsError as exc:
        raise fail(str(exc)) from None
    finally:
        client.close()


def _line(limit: Any) -> str:
    what = "flow runs with label" if limit.kind == "label" else "task runs with tag"
    return f"at most {limit.limit} {what} {limit.name!r} at once ({limit.in_use} now)"


@limits_app.command("set")
def set_limit(name: str = NameArg,
              limit: int = typer.Argument(..., min=0, help="how many at once (0 holds all back)"),
              tag: bool = TagOpt) -> None:
    """Set (or change) a limit; what already runs is never stopped by a lower one."""
    _with_client(lambda client: typer.echo(_line(client.set_limit(name, limit, _kind(tag)))))


@limits_app.command("ls")
def list_limits() -> None:
    """Every limit, with how many slots are held now."""
    from rich.console import Console
    from rich.table import Table

    def show(client: Any) -> None:
        table = Table("kind", "name", "limit", "in use")
        for limit in client.list_limits():
            table.add_row(limit.kind, limit.name, str(limit.limit), str(limit.in_use))
        Console().print(table)

    _with_client(show)


@limits_app.command("rm")
def remove_limit(name: str = NameArg, tag: bool = TagOpt) -> None:
    """Remove a limit: what it held back may go."""
    _with_client(lambda client: typer.echo(
        f"removed: {_line(client.delete_limit(name, _kind(tag)))}"))
