"""``%flow debug RUN TASK``: a backend run's task, with its real inputs, in the kernel.

The inputs are what the agent's run passed the task: its upstream task runs' checkpointed
results (loaded from where the run wrote them), the run's parameters, and the constants
bound in the registered flow (its code is loaded from the flow's storage, as an agent
does). They go into the notebook's namespace under the names the task reads: for a
``%%task`` cell, the names its cell reads; for a function task, its argument names. What
cannot be loaded here is refused with the reason, before anything is loaded: a checkpoint
that is missing or unreadable here (credentials), or inputs larger than ``max_bytes``.
"""

from __future__ import annotations

import inspect
import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from jupyter_flows.cells.tasks import CellTask
from jupyter_flows.core.parameter import Parameter
from jupyter_flows.errors import JupyterFlowsError

if TYPE_CHECKING:
    from jupyter_flows.api import TaskRun
    from jupyter_flows.client.client import Client
    from jupyter_flows.core.edges import Edge
    from jupyter_flows.core.flow import Flow
    from jupyter_flows.core.task import Task

#: Inputs loaded without asking, at most (``--max-size`` raises it).
DEFAULT_MAX_BYTES = 100 * 2**20
_TASK_REF = re.compile(r"^(?P<slug>.+?)(?:\[(?P<index>\d+)\])?$")


class DebugError(JupyterFlowsError):
    """The task's inputs cannot be loaded here; the message says why and what to do."""


@dataclass
class DebugSession:
    """What ``%flow debug`` puts in the kernel and shows."""

    task_slug: str
    map_index: int | None
    namespace: dict[str, Any]
    source: str | None  # the cell's text (a ``%%task`` cell) or the function's source
    is_cell: bool
    lines: list[str] = field(default_factory=list)


def parse_task_ref(ref: str) -> tuple[str, int | None]:
    """``load`` or ``double-1[2]`` (a map child) -> (slug, map index)."""
    found = _TASK_REF.match(ref.strip())
    if not found:
        raise DebugError(f"not a task: {ref!r}; give its slug, or SLUG[INDEX] for a map child")
    index = found.group("index")
    return found.group("slug"), None if index is None else int(index)


def prepare_debug(client: Client, run_id: str, task_ref: str,
                  max_bytes: int = DEFAULT_MAX_BYTES) -> DebugSession:
    """Everything ``%flow debug`` needs, loaded; DebugError when something cannot be."""
    from jupyter_flows.deploy.register import load_registered_flow

    slug, index = parse_task_ref(task_ref)
    run = client.get_flow_run(run_id)
    record = client.get_flow(run.flow_id)
    try:
        flow = load_registered_flow(record.storage)
    except JupyterFlowsError as exc:
        raise DebugError(f"cannot load flow {record.name!r} here, as its agent did: {exc}"
                         ) from None
    try:
        task = flow.task_by_slug(slug)
    except KeyError:
        slugs = ", ".join(sorted(t.slug or t.name for t in flow.tasks))
        raise DebugError(f"flow {record.name!r} has no task {slug!r}; its tasks: {slugs}"
                         ) from None
    rows = {(r.task_slug, r.map_index): r for r in client.get_task_runs(run.id)}
    if index is None and any(s == slug and i is not None for s, i in rows):
        raise DebugError(f"task {slug!r} is mapped: name one child, e.g. {slug}[0]")
    plan = _Inputs(flow, task, index, run.id, rows, run.parameters)
    plan.check_size(max_bytes)
    inputs = plan.load()
    here = rows.get((slug, index))
    lines = [f"run {run.id} of flow {record.name!r}, task {task_ref}"
             + (f": {here.state}" + (f" ({_first_line(here.message)})" if here.message else "")
                if here else ": never ran")]
    if isinstance(task, CellTask):
        namespace = task.names_read(inputs, strict=False)
        lines.append(f"loaded what the cell reads: {', '.join(sorted(namespace)) or 'nothing'}"
                     " (from the run's checkpoints); the cell is opened below, ready to run")
        return DebugSession(slug, index, namespace, _cell_text(task), True, lines)
    lines.append(f"loaded the task's inputs: {', '.join(sorted(inputs)) or 'none'} (from the "
                 f"run's checkpoints); call it with them to reproduce:")
    source = _function_source(task)
    call = ", ".join(f"{name}={name}" for name in sorted(inputs))
    lines.append(f"    {_call_name(task)}.run({call})")
    if source:
        lines.append(source)
    return DebugSession(slug, index, inputs, source, False, lines)


class _Inputs:
    """Which value each of the task's inputs is, and where it is loaded from."""

    def __init__(self, flow: Flow, task: Task, index: int | None, run_id: str,
                 rows: dict[tuple[str, int | None], TaskRun], parameters: dict[str, Any]
                 ) -> None:
        self.flow, self.task, self.index, self.run_id = flow, task, index, run_id
        self.rows, self.parameters = rows, parameters
        self.edges = [e for e in flow.edges_to(task) if e.key is not None]

    def _rows_of(self, edge: Edge) -> list[TaskRun]:
        """The upstream task runs whose results make this input."""
        slug = edge.upstream.slug or edge.upstream.name
        children = sorted((r for (s, i), r in self.rows.items() if s == slug and i is not None),
                          key=lambda r: r.map_index or 0)
        if edge.flattened:
            raise DebugError(f"input {edge.key!r} of task {self.task.slug!r} is flattened; "
                             f"%flow debug does not rebuild flattened inputs")
        if edge.mapped and self.index is not None:
            if children:
                return [self._row(slug, self.index)]
            return [self._row(slug, None)]
        if children:
            return children
        return [self._row(slug, None)]

    def _row(self, slug: str, index: int | None) -> TaskRun:
        row = self.rows.get((slug, index))
        if row is None:
            which = slug if index is None else f"{slug}[{index}]"
            raise DebugError(f"upstream task run {which} of flow run {self.run_id} never ran: "
                             f"there is no input to load")
        return row

    def check_size(self, max_bytes: int) -> None:
        import fsspec

        total = 0
        for edge in self.edges:
            if isinstance(edge.upstream, Parameter):
                continue
            for row in self._rows_of(edge):
                if not row.location:
                    continue  # loading says why it has none
                fs, path = fsspec.core.url_to_fs(row.location)
                try:
                    total += int(fs.size(path) or 0)
                except Exception as exc:  # any filesystem backend's error: say it
                    raise DebugError(f"cannot read the checkpoint of {row.task_slug!r} at "
                                     f"{row.location} from here: {exc}") from None
        if total > max_bytes:
            raise DebugError(f"the inputs are {total / 2**20:.1f} MiB, more than "
                             f"{max_bytes / 2**20:.0f} MiB: load them anyway with "
                             f"--max-size {int(total / 2**20) + 1}")

    def load(self) -> dict[str, Any]:
        from jupyter_flows.errors import ResultError
        from jupyter_flows.tasks.prefect.flow_run import read_task_run_result

        inputs = dict(self.flow.constants.get(self.task, {}))
        for edge in self.edges:
            up, key = edge.upstream, str(edge.key)
            value: Any
            if isinstance(up, Parameter):
                value = self.parameters.get(up.name, up.default)
                inputs[key] = value[self.index] if edge.mapped and self.index is not None \
                    else value
                continue
            rows = self._rows_of(edge)
            try:
                values = [read_task_run_result(row, self.run_id) for row in rows]
            except ResultError as exc:
                raise DebugError(f"cannot load input {edge.key!r} of task {self.task.slug!r}: "
                                 f"{exc}") from None
            single = len(rows) == 1 and rows[0].map_index is None
            value = values[0] if single else values
            if edge.mapped and self.index is not None and single:
                value = value[self.index]
            elif edge.mapped and self.index is not None:
                value = values[0]
            inputs[key] = value
        return inputs


def _cell_text(task: CellTask) -> str:
    """The cell as the notebook had it: the stored source keeps its ``%%task`` line as a
    comment (so line numbers match), which becomes the magic's line again."""
    header, _, body = task.source.partition("\n")
    if header.startswith("# %%task"):
        return f"{header[2:]}\n{body}"
    return f"%%task {task.name}\n{task.source}"


def _function_source(task: Task) -> str | None:
    fn = getattr(task, "fn", None) or type(task).run
    try:
        return inspect.getsource(fn)
    except (OSError, TypeError):
        return None


def _call_name(task: Task) -> str:
    fn = getattr(task, "fn", None)
    return getattr(fn, "__name__", None) or type(task).__name__


def _first_line(text: str) -> str:
    return text.strip().splitlines()[0] if text.strip() else ""
