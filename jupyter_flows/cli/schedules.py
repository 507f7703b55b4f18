"""Showing, pausing and resuming a registered flow's schedule: ``jupyter-flows schedule``."""

from __future__ import annotations

from typing import Any

import typer

from jupyter_flows.cli.apps import App, app
from jupyter_flows.cli.common import fail

schedule_app = App(help="A registered flow's schedule: the backend makes its runs.")
app.add_typer(schedule_app, name="schedule")

FlowArg = typer.Argument(..., help="the flow's name (its latest version) or a version's id")
ProjectOpt = typer.Option(None, help="the flow's project, when its name is in several")


def resolve_flow_id(client: Any, flow: str, project: str | None) -> str:
    """The id of the latest version of the flow named ``flow``, or ``flow`` itself when it is
    a flow id."""
    from jupyter_flows.errors import BackendError

    versions = client.list_flows(name=flow, project=project, limit=500).items
    if versions:
        projects = sorted({v.project for v in versions})
        if len(projects) > 1:
            raise fail(f"flow {flow!r} is in several projects ({', '.join(projects)}); "
                       f"give --project", 2)
        return str(max(versions, key=lambda v: v.version).id)
    try:
        return str(client.get_flow(flow).id)
    except BackendError:
        where = f" in project {project!r}" if project else ""
        raise fail(f"no flow named {flow!r}{where}, and no flow with that id") from None


def print_schedule(shown: Any) -> None:
    """The schedule in words, whether it is active, and its next times."""
    head = f"flow {shown.name!r} version {shown.version} ({shown.project})"
    if shown.schedule is None:
        typer.echo(f"{head} has no schedule")
        return
    state = "active" if shown.active else "paused"
    typer.echo(f"{head}: {shown.description} [{state}]")
    typer.echo(f"upcoming scheduled runs: {shown.upcoming_runs}")
    if shown.next_times:
        typer.echo("next times:")
        for moment in shown.next_times:
            typer.echo(f"  {moment.astimezone():%Y-%m-%d %H:%M:%S %Z}")


def _act(flow: str, project: str | None, active: bool | None) -> None:
    from jupyter_flows.client.client import Client
    from jupyter_flows.errors import JupyterFlowsError

    client = Client()
    try:
        flow_id = resolve_flow_id(client, flow, project)
        shown = (client.get_schedule(flow_id) if active is None
                 else client.set_schedule_active(flow_id, active))
    except JupyterFlowsError as exc:
        raise fail(str(exc)) from None
    print_schedule(shown)


@schedule_app.command()
def show(flow: str = FlowArg, project: str = ProjectOpt) -> None:
    """The flow's schedule in words, whether it is active, and its next five times."""
    _act(flow, project, None)


@schedule_app.command()
def pause(flow: str = FlowArg, project: str = ProjectOpt) -> None:
    """Stop making runs of the flow's schedule; its runs not yet claimed are deleted."""
    _act(flow, project, False)


@schedule_app.command()
def resume(flow: str = FlowArg, project: str = ProjectOpt) -> None:
    """Make runs of the flow's schedule again, from now on (the paused times are skipped)."""
    _act(flow, project, True)
