"""Registering, running, cancelling, restarting, executing, listing and deleting flows:
``register``, ``run``, ``cancel``, ``restart``, ``execute flow-run``, ``get``, ``delete``."""

from __future__ import annotations

from typing import Any

import typer

from jupyter_flows.cli.apps import app, execute_app
from jupyter_flows.cli.common import fail, parse_params

SUCCEEDED = {"Success", "Cached", "Mapped", "Skipped"}


@app.command()
def register(
    path: str = typer.Argument(..., help="a Python script that builds one or more flows"),
    project: str = typer.Option("default", help="project to register into"),
    flow_name: list[str] = typer.Option([], "--name", "-n", help="only these flows"),
    schedule: bool = typer.Option(True, "--schedule/--no-schedule",
                                  help="whether the backend makes runs from the flows' "
                                       "schedules"),
) -> None:
    """Register the flows a script builds (their code is stored as the script).

    A flow built with a schedule is then run by the backend on that schedule, unless
    --no-schedule (resume it later with `jupyter-flows schedule resume NAME`)."""
    from jupyter_flows.deploy.scripts import flows_in_script
    from jupyter_flows.errors import JupyterFlowsError
    from jupyter_flows.storage.local import Local

    try:
        flows = flows_in_script(path)
    except JupyterFlowsError as exc:
        raise fail(str(exc)) from None
    if flow_name:
        flows = [f for f in flows if f.name in flow_name]
    if not flows:
        raise fail(f"{path} builds no flow{' named ' + ', '.join(flow_name) if flow_name else ''}")
    for flow in flows:
        if flow.storage is None:
            flow.storage = Local(stored_as_script=True, path=path)
        try:
            record = flow.register(project=project, set_schedule_active=schedule)
        except JupyterFlowsError as exc:
            raise fail(f"flow {flow.name!r}: {exc}") from None
        status = "new version" if record.is_new else "unchanged"
        typer.echo(f"flow {record.name!r} version {record.version} ({status}), id {record.id}")
        if flow.schedule is not None:
            state = "active" if record.schedule_active else "paused"
            typer.echo(f"  schedule ({state}): {flow.schedule.describe()}")


@app.command()
def run(
    name: str = typer.Argument(..., help="the registered flow's name"),
    param: list[str] = typer.Option([], "--param", "-p", help="KEY=VALUE (JSON values)"),
    project: str = typer.Option(None, help="the flow's project"),
    label: list[str] = typer.Option(None, "--label", "-l", help="override the run's labels"),
    watch: bool = typer.Option(False, "--watch", "-w", help="stream states and logs until "
                                                            "the run ends"),
    idempotency_key: str = typer.Option(None, help="create at most one run for this key"),
    run_name: str = typer.Option(None, "--name", help="a name for the run, shown beside its id"),
) -> None:
    """Create a run of a registered flow; with --watch, exit non-zero unless it succeeds."""
    from jupyter_flows.client.client import Client
    from jupyter_flows.errors import JupyterFlowsError

    client = Client()
    try:
        created = client.create_flow_run(flow_name=name, project=project,
                                         parameters=parse_params(param), labels=label or None,
                                         idempotency_key=idempotency_key, name=run_name)
        typer.echo(f"flow run {created.id} of {name!r} is {created.state}")
        found = client.get_flow_run(created.id)
        if found.agent_match is not None and not found.agent_match.matched:
            typer.secho(f"warning: {found.agent_match.explanation}", fg=typer.colors.YELLOW)
        if found.waiting_for:
            typer.secho(f"note: {found.waiting_for}", fg=typer.colors.YELLOW)
        if watch:
            raise typer.Exit(watch_run(client, created.id))
    except JupyterFlowsError as exc:
        raise fail(str(exc)) from None


@app.command()
def cancel(
    flow_run_id: str = typer.Argument(..., help="the run's id, or a unique prefix of it"),
    message: str = typer.Option(None, "--message", "-m", help="why (the run's state message)"),
    watch: bool = typer.Option(False, "--watch", "-w", help="wait, printing its states, until "
                                                            "the run has ended"),
) -> None:
    """Cancel a run: a Scheduled run is Cancelled at once; a running one goes Cancelling
    while its process stops its tasks (its agent kills it after the grace period)."""
    from jupyter_flows.client.client import Client
    from jupyter_flows.errors import JupyterFlowsError

    client = Client()
    try:
        run = client.cancel_flow_run(flow_run_id, message)
        typer.echo(f"flow run {run.id} of {run.flow_name!r} is {run.state}"
                   + (f": {run.state_message}" if run.state_message else ""))
        if watch and run.state != "Cancelled":
            watch_run(client, run.id)
    except JupyterFlowsError as exc:
        raise fail(str(exc)) from None


@app.command()
def restart(
    flow_run_id: str = typer.Argument(..., help="the run's id, or a unique prefix of it"),
    from_task: str = typer.Option(None, "--from", metavar="TASK",
                                  help="also run this task (a slug) and everything "
                                       "downstream of it again"),
    watch: bool = typer.Option(False, "--watch", "-w", help="wait, printing its states, until "
                                                            "the run has ended again"),
) -> None:
    """Restart a failed or cancelled run once its cause is fixed: the same run (same id)
    runs again, but only its task runs that did not succeed.

    The others keep their checkpointed results."""
    from jupyter_flows.client.client import Client
    from jupyter_flows.errors import JupyterFlowsError

    client = Client()
    try:
        run = client.restart_flow_run(flow_run_id, from_task)
        typer.echo(f"flow run {run.id} of {run.flow_name!r} is {run.state}"
                   + (f": {run.state_message}" if run.state_message else ""))
        if watch:
            raise typer.Exit(watch_run(client, run.id))
    except JupyterFlowsError as exc:
        raise fail(str(exc)) from None


def _task_prefix(record: Any) -> str:
    """``[slug] `` or ``[slug[i]] `` for a task's log record, else nothing."""
    if not record.task_slug:
        return ""
    index = "" if record.map_index is None else f"[{record.map_index}]"
    return f"[{record.task_slug}{index}] "


def watch_run(client: Any, flow_run_id: str, *, logs_only: bool = False) -> int:
    """Print a run's state changes and logs as they happen (the run's event stream) until it
    finishes; 0 if it succeeded."""
    final = None
    for event in client.follow_run(flow_run_id):
        if event.kind == "log":
            typer.echo(_log_line(event))
        elif event.kind == "flow_run_state":
            final = event.state
            if not logs_only:
                typer.echo(f"{event.state}: {event.message or ''}".rstrip(": "))
    return 0 if final in SUCCEEDED else 1


def _log_line(record: Any) -> str:
    return f"  {record.timestamp:%H:%M:%S} {record.level:<7} {_task_prefix(record)}{record.message}"


@execute_app.command("flow-run")
def execute_flow_run_command(flow_run_id: str = typer.Argument(...)) -> None:
    """Run one backend flow run in this process (agents launch this)."""
    from jupyter_flows.flow_run.execute import execute_flow_run_main

    # `python -m jupyter_flows execute flow-run ID` (what agents launch) calls it without typer
    raise typer.Exit(execute_flow_run_main(flow_run_id))


@app.command()
def get(
    what: str = typer.Argument(..., help="flows | runs | logs | agents"),
    flow_run_id: str = typer.Argument(None, help="the run, for logs"),
    limit: int = typer.Option(50),
    follow: bool = typer.Option(False, "--follow", "-f",
                                help="logs: print new lines as they come until the run ends"),
    parent: str = typer.Option(None, "--parent",
                               help="runs: only those started from within this run "
                                    "(its child flow runs)"),
    upcoming: bool = typer.Option(False, "--upcoming",
                                  help="runs: only those still to start, soonest first"),
) -> None:
    """List what the backend has."""
    from rich.console import Console
    from rich.table import Table

    from jupyter_flows.client.client import Client
    from jupyter_flows.errors import JupyterFlowsError

    client = Client()
    console = Console()
    try:
        if what == "flows":
            table = Table("name", "project", "version", "id", "labels")
            for f in client.list_flows(limit=limit).items:
                table.add_row(f.name, f.project, str(f.version), f.id, ",".join(f.labels))
        elif what == "runs" and upcoming:
            table = Table("id", "flow", "scheduled start", "by", "labels")
            for r in client.list_flow_runs(upcoming=True, limit=limit).items:
                table.add_row(r.id, r.flow_name,
                              f"{r.scheduled_start.astimezone():%Y-%m-%d %H:%M:%S %Z}",
                              "schedule" if r.auto_scheduled else "hand", ",".join(r.labels))
        elif what == "runs":
            table = Table("id", "flow", "state", "message", "labels", "parent")
            for r in client.list_flow_runs(parent=parent, limit=limit).items:
                table.add_row(r.id, r.flow_name, r.state, r.state_message or "",
                              ",".join(r.labels), r.parent_flow_run_id or "")
        elif what == "agents":
            table = Table("id", "name", "type", "labels", "online")
            for a in client.list_agents():
                table.add_row(a.id, a.name, a.type, ",".join(a.labels), str(a.online))
        elif what == "logs":
            if not flow_run_id:
                raise fail("get logs needs a flow run id", 2)
            if follow:
                raise typer.Exit(watch_run(client, flow_run_id, logs_only=True))
            for record in client.read_logs(flow_run_id, limit=limit).items:
                console.print(f"{record.timestamp:%H:%M:%S} {record.level:<7} "
                              f"{_task_prefix(record)}{record.message}",
                              markup=False)
            return
        else:
            raise fail(f"get: expected flows, runs, logs or agents, got {what!r}", 2)
    except JupyterFlowsError as exc:
        raise fail(str(exc)) from None
    console.print(table)




@app.command()
def delete(
    what: str = typer.Argument(..., help="flow"),
    name_or_id: str = typer.Argument(..., help="the flow's name (every version) or one "
                                               "version's id"),
    project: str = typer.Option(None, help="the flow's project"),
    with_runs: bool = typer.Option(False, "--with-runs",
                                   help="delete the flow and its runs for good (refused while "
                                        "a run is active); without it the flow is archived: "
                                        "hidden from lists, no new runs, its runs kept"),
) -> None:
    """Archive a flow (its runs kept), or delete it with its runs."""
    from jupyter_flows.client.client import Client
    from jupyter_flows.errors import JupyterFlowsError

    if what != "flow":
        raise fail(f"delete: expected flow, got {what!r}", 2)
    try:
        with Client() as client:
            removed = client.delete_flows(name_or_id, project=project, with_runs=with_runs)
    except JupyterFlowsError as exc:
        raise fail(str(exc)) from None
    for item in removed:
        typer.echo(removal_line(item))


def removal_line(item: Any) -> str:
    """One line saying what ``DELETE /api/flows/{id}`` did."""
    if item.deleted:
        return f"flow {item.id} deleted with its {item.runs_deleted} run(s)"
    return f"flow {item.id} archived (its runs kept; register it again to bring it back)"
