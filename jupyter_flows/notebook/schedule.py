"""``%flow schedule``: give a notebook's flow a schedule and have the backend run it.

``--cron EXPR [--tz ZONE]`` or ``--every 15m`` sets the flow's schedule (one clock, whose
``--param`` values are the runs' parameters) and registers the flow with the schedule
active; ``--off`` pauses the registered flow's schedule and drops it from the notebook's
flow, so a later ``%flow submit`` does not turn it back on.

The schedule is built from the typed words by ``jupyter_flows.schedules.typed``, as the config
widget's schedule section builds it, so running the same magic again registers no new version.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from jupyter_flows.errors import ScheduleError
from jupyter_flows.schedules.typed import make_schedule, parse_every

if TYPE_CHECKING:
    from jupyter_flows.api import FlowSchedule
    from jupyter_flows.client.client import Client
    from jupyter_flows.core.flow import Flow
    from jupyter_flows.schedules import Schedule

__all__ = ["make_schedule", "parse_every", "pause_flow_schedule", "schedule_flow",
           "schedule_lines"]


def schedule_flow(flow: Flow, schedule: Schedule, client: Client) -> FlowSchedule:
    """Set ``flow``'s schedule and register it with the schedule active."""
    from jupyter_flows.deploy.register import register

    flow.schedule = schedule
    registration = register(flow, client=client, set_schedule_active=True)
    return client.get_schedule(registration.id)


def pause_flow_schedule(name: str, client: Client, project: str = "default") -> FlowSchedule:
    """Pause the schedule of the registered flow ``name``."""
    versions = client.list_flows(name=name, project=project, limit=1).items
    if not versions:
        raise ScheduleError(f"flow {name!r} is not registered in project {project!r}: there "
                            f"is no schedule to turn off")
    return client.pause_schedule(versions[0].id)


def schedule_lines(shown: FlowSchedule) -> list[str]:
    head = f"flow {shown.name!r} (version {shown.version})"
    if not shown.active:
        return [f"{head}: schedule paused; its runs not yet started were deleted"]
    lines = [f"{head} is scheduled on the backend: {shown.description}"]
    if shown.next_times:
        zone = getattr(shown.schedule.clocks[0], "tz", None) if shown.schedule else None
        clock = "%H:%M:%S" if any(t.second for t in shown.next_times) else "%H:%M"
        times = ", ".join(f"{t.astimezone(zone):%Y-%m-%d {clock} %Z}"
                          for t in shown.next_times)
        lines.append(f"  next: {times}")
    lines.append("  an agent runs each at its time; `%flow schedule --off` pauses it")
    return lines
