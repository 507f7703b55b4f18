"""The text the notebook magics print: registration summaries, run summaries, listings."""

from __future__ import annotations

import textwrap
from collections import Counter
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from jupyter_flows.api import FlowRun, LogRecord, TaskRun
    from jupyter_flows.core.flow import Flow
    from jupyter_flows.core.task import Task
    from jupyter_flows.engine.states import State
    from jupyter_flows.notebook.flows import CellFlow, Registration
    from jupyter_flows.notebook.naming import DefaultFlow
    from jupyter_flows.notebook.run import NotebookRun

_MESSAGE_WIDTH = 100


def _names(names: Iterable[str]) -> str:
    return ", ".join(sorted(names)) or "nothing"


def _first_line(text: str | None) -> str:
    line = (text or "").strip().splitlines()[0] if (text or "").strip() else ""
    return line if len(line) <= _MESSAGE_WIDTH else line[: _MESSAGE_WIDTH - 3] + "..."


def registration_lines(reg: Registration) -> list[str]:
    """One summary line for a registered cell, then its warnings and the flow's problems."""
    cell = reg.cell
    notes = [*reg.notes]
    if cell.auto_named:
        notes.append("name it with %%task NAME")
    head = f"task {cell.name!r} registered in flow {cell.flow!r}"
    if notes:
        head += f" ({'; '.join(notes)})"
    if reg.graph is not None:
        node = reg.graph[cell.name]
        reads = [f"{name} (from {source!r})" for name, source in sorted(node.inputs.items())]
        reads += [f"{name} (notebook)" for name in sorted(node.notebook_inputs)]
        after = [up for up in node.upstream if up not in node.inputs.values()]
    else:
        reads = sorted(cell.analysis.reads)
        after = list(cell.options.after)
    parts = [f"reads {', '.join(reads) if reads else 'nothing'}"]
    if after:
        parts.append(f"runs after {', '.join(map(repr, after))}")
    outputs = (reg.graph[cell.name].outputs if reg.graph is not None
               else cell.analysis.defines - cell.analysis.loop_names)
    parts.append(f"defines {_names(outputs)}")
    lines = [f"{head}: {'; '.join(parts)}"]
    if reg.graph is not None:
        prefix = f"cell {cell.name!r} "
        lines += [f"warning: {w}" for w in reg.graph.warnings if w.startswith(prefix)]
    if reg.problem is not None:
        lines.append(f"note: flow {cell.flow!r} cannot run until this is fixed: {reg.problem}")
    return lines


def run_lines(run: NotebookRun, order: Iterable[Task], executor: str) -> list[str]:
    """The flow's final state, one line per task, and what came back to the notebook."""
    states = run.task_states
    counts = Counter(states[t].name for t in order if t in states)
    tally = ", ".join(f"{n} {name}" for name, n in counts.items())
    lines = [f"flow {run.flow.name!r}: {run.state.name} in {run.seconds:.2f} s on {executor}"
             + (f" ({tally})" if tally else "")]
    width = max((len(t.slug or t.name) for t in states), default=0)
    for task in order:
        state = states.get(task)
        if state is None:
            continue
        message = "" if state.is_successful() else f"  {_first_line(state.message)}"
        lines.append(f"  {(task.slug or task.name):<{width}}  {state.name}{message}")
    if run.outputs:
        lines.append(f"set in the notebook: {', '.join(run.outputs)}")
    lines += [f"note: {problem}" for problem in run.cache_problems]
    return lines


def failure_reports(states: Mapping[Task, State], order: Iterable[Task]) -> list[str]:
    """For each task that failed by itself (not because an upstream did): its traceback."""
    reports = []
    for task in order:
        state = states.get(task)
        if state is None or not state.is_failed() or state.name == "TriggerFailed":
            continue
        text = state.traceback or state.message or state.name
        reports.append(f"task {(task.slug or task.name)!r} failed:\n{text.rstrip()}")
    return reports


def failure_message(name: str, states: Mapping[Task, State], order: Iterable[Task]) -> str:
    """One line for the error that ends a failed ``%flow run``: what failed, what did not run."""
    failed, not_run = [], []
    for task in order:
        state = states.get(task)
        if state is None or not state.is_failed():
            continue
        slug = task.slug or task.name
        if state.name == "TriggerFailed":
            not_run.append(slug)
        elif state.name == "Failed":
            failed.append(f"task {slug!r} raised {_first_line(state.message)}")
        else:
            failed.append(f"task {slug!r} {state.name}: {_first_line(state.message)}")
    parts = failed or ["a task failed"]
    if not_run:
        parts.append(f"did not run: {', '.join(not_run)}")
    return f"flow {name!r} failed: {'; '.join(parts)}"


def listing_lines(cell_flows: Mapping[str, CellFlow], flows: Mapping[str, Flow],
                  stale: Mapping[str, Iterable[str]] | None = None,
                  default: DefaultFlow | None = None) -> list[str]:
    """``%flow list``: each flow and its tasks (stale ones marked), then where cells without
    ``--flow`` go and why."""
    hint = [default.hint()] if default is not None else []
    if not cell_flows and not flows:
        return ["no flows yet: register %%task cells, or build a flow with %%flow NAME", *hint]
    lines = []
    for name, cell_flow in cell_flows.items():
        edited = set((stale or {}).get(name, ()))
        lines.append(f"{name} ({len(cell_flow.cells)} task cells, in registration order):")
        width = max(len(c) for c in cell_flow.cells)
        for cell in cell_flow.cells.values():
            defines = cell.analysis.defines - cell.analysis.loop_names
            mark = ("  [stale: edited since it was registered; run it to register the edit]"
                    if cell.name in edited else "")
            lines.append(f"  {cell.name:<{width}}  reads {_names(cell.analysis.reads)};"
                         f" defines {_names(defines)}{mark}")
    for name, flow in flows.items():
        slugs = [t.slug or t.name for t in flow.sorted_tasks()]
        lines.append(f"{name} (%%flow, {len(slugs)} tasks): {', '.join(slugs) or 'none'}")
    return lines + hint


def stale_note(cells: Iterable[str], action: str) -> str:
    """Which cells were edited since they were registered, and that ``action`` (e.g. "this
    run uses") their registered code."""
    names = list(cells)
    which = (f"cell {names[0]!r} was" if len(names) == 1
             else f"cells {', '.join(map(repr, names))} were")
    its, them = ("its", "it") if len(names) == 1 else ("their", "them")
    return (f"note: task {which} edited since registered (stale); {action} {its} registered"
            f" code: run {them} to register the edit")


def gone_note(cell: str, flow: str, why: str) -> str:
    return f"note: task {cell!r} left flow {flow!r}: {why}"


def unmatched_lines(run: FlowRun) -> list[str]:
    """Why no agent takes a waiting run: none can, or a concurrency limit holds it back
    (empty when it can go, or the run is not waiting)."""
    match = run.agent_match
    if run.state not in ("Scheduled", "Retrying"):
        return []
    if match is not None and not match.matched:
        return _wrapped("  waiting: ", match.explanation)
    if run.waiting_for:
        return _wrapped("  ", run.waiting_for)
    return []


def status_lines(run: FlowRun, task_runs: Iterable[TaskRun], logs: Iterable[LogRecord],
                 children: Iterable[FlowRun] = ()) -> list[str]:
    """``%flow status``: a backend run's state, the run that started it and those it
    started (flows of flows), its task runs and its last logs."""
    message = f" - {run.state_message}" if run.state_message else ""
    lines = [f"run {run.id} of flow {run.flow_name!r} (version {run.flow_version}):"
             f" {run.state}{message}", *unmatched_lines(run)]
    if run.parent_flow_run_id:
        lines.append(f"  started by run {run.parent_flow_run_id} (%flow status "
                     f"{run.parent_flow_run_id[:8]})")
    for child in children:
        lines.append(f"  child run {child.id} of flow {child.flow_name!r}: {child.state}")
    task_runs = [t for t in task_runs]
    width = max((len(_task_label(t)) for t in task_runs), default=0)
    for t in task_runs:
        head = f"  {_task_label(t):<{width}}  {t.state}"
        if t.message and t.state not in ("Success", "Cached", "Mapped"):
            lines += _wrapped(head + "  ", t.message)
        else:
            lines.append(head)
    records = list(logs)
    if records:
        lines.append("last logs:")
        for r in records:
            lines += _wrapped(f"  {r.timestamp:%H:%M:%S} {r.level:<7} ", r.message)
    return lines


def _wrapped(head: str, text: str) -> list[str]:
    """``head`` then all of ``text``, wrapped at ``_MESSAGE_WIDTH`` columns, its lines kept,
    continuation lines indented under the text's start."""
    indent = " " * len(head)
    width = max(_MESSAGE_WIDTH, len(head) + 40)
    lines: list[str] = []
    for line in (text.rstrip().splitlines() or [""]):
        lines += textwrap.wrap(line, width, initial_indent=head if not lines else indent,
                               subsequent_indent=indent, break_on_hyphens=False,
                               drop_whitespace=True) or [head.rstrip() if not lines else ""]
    return lines


def _task_label(task_run: TaskRun) -> str:
    index = task_run.map_index
    return task_run.task_slug + (f"[{index}]" if index is not None else "")
