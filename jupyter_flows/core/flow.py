"""Flows: a named graph of tasks and the edges between them.

A ``Flow`` is responsible for:
- the tasks, edges and bound constants, with O(1) edits (``add_task``, ``add_edge``,
  ``set_dependencies``, ``chain``) and the ``with Flow(...)`` block that binds task calls;
- answering questions about the graph (upstream, downstream, roots, terminals, order);
- checking the graph (cycles with their path, duplicate slugs).

Running (``jupyter_flows.engine``), rendering and storing a flow are separate pieces that
take a flow; ``run`` and ``visualize`` here only hand the flow to them.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import TYPE_CHECKING, Any

from jupyter_flows.core import building
from jupyter_flows.core.edges import Edge, flatten, unmapped
from jupyter_flows.core.graph import find_cycle, topological_order
from jupyter_flows.core.parameter import Parameter
from jupyter_flows.core.task import Constant, Task, as_task, holds_task
from jupyter_flows.core.task_checks import failure_callback
from jupyter_flows.errors import BindError, CycleError, DuplicateSlugError, FlowDefinitionError

if TYPE_CHECKING:
    from jupyter_flows.engine.states import State
    from jupyter_flows.schedules import Schedule


class Flow:
    """A named DAG of tasks; build it with ``with Flow("name") as flow:``."""

    def __init__(
        self,
        name: str,
        tasks: Iterable[Task] = (),
        edges: Iterable[Edge] = (),
        reference_tasks: Iterable[Task] = (),
        *,
        result: Any = None,
        storage: Any = None,
        run_config: Any = None,
        executor: Any = None,
        schedule: Schedule | Mapping[str, Any] | str | None = None,
        state_handlers: Iterable[Any] = (),
        on_failure: Callable[[Flow, State], Any] | None = None,
    ) -> None:
        if not name or not isinstance(name, str):
            raise FlowDefinitionError(f"a flow needs a non-empty name, got {name!r}")
        self.name = name
        self.result = result
        self.storage = storage
        self.run_config = run_config
        self.executor = executor
        self.schedule = schedule  # the setter also reads a JSON config
        self.state_handlers = list(state_handlers)
        for handler in self.state_handlers:
            if not callable(handler):
                raise FlowDefinitionError(
                    f"flow {name!r}: state_handlers must be callables"
                    f" handler(flow, old_state, new_state), got {handler!r}")
        if on_failure is not None:
            if not callable(on_failure):
                raise FlowDefinitionError(
                    f"flow {name!r}: on_failure must be a callable fn(flow, state),"
                    f" got {on_failure!r}")
            # Prefect 1.x's meaning: a state handler that calls it on entering a failed state
            self.state_handlers.append(failure_callback(on_failure))
        self._tasks: dict[Task, None] = {}  # an ordered set
        self._by_slug: dict[str, Task] = {}
        self._slug_counts: dict[str, int] = {}
        self._upstream: dict[Task, list[Edge]] = {}
        self._downstream: dict[Task, list[Edge]] = {}
        self.constants: dict[Task, dict[str, Any]] = {}
        self._reference_tasks: set[Task] = set()
        self._order: list[Task] | None = None
        for t in tasks:
            self.add_task(t)
        for e in edges:
            self.add_edge(e.upstream, e.downstream, e.key, e.mapped, e.flattened)
        self.set_reference_tasks(reference_tasks)

    # ------------------------------------------------------------------ context
    def __enter__(self) -> Flow:
        self._token = building.enter_flow(self)
        return self

    def __exit__(self, *exc: object) -> None:
        building.exit_flow(self._token)
        del self._token  # a context token cannot be pickled, and flows travel to workers

    @property
    def schedule(self) -> Schedule | None:
        """When the flow runs (``jupyter_flows.schedules``); a Schedule, its JSON config or
        None. ``run()`` ignores it unless ``run_on_schedule=True``; registration stores it."""
        # flows pickled before schedules existed have no _schedule
        return getattr(self, "_schedule", None)

    @schedule.setter
    def schedule(self, value: Schedule | Mapping[str, Any] | str | None) -> None:
        if value is None:
            self._schedule = None
            return
        from jupyter_flows.schedules import schedule_from_config

        self._schedule = schedule_from_config(value)

    # ------------------------------------------------------------------ editing
    @property
    def tasks(self) -> list[Task]:
        """The tasks, in the order they were added."""
        return list(self._tasks)

    def __contains__(self, task: object) -> bool:
        return task in self._tasks

    def __len__(self) -> int:
        return len(self._tasks)

    def __iter__(self) -> Iterator[Task]:
        return iter(self._tasks)

    def add_task(self, task: Task) -> Task:
        """Add ``task`` (once); gives it a slug unique in this flow if it has none."""
        if not isinstance(task, Task):
            raise TypeError(f"flow {self.name!r}: add_task expects a Task, got {task!r}")
        if task in self._tasks:
            return task
        if task.slug is None:
            count = self._slug_counts.get(task.name, 0)
            slug = f"{task.name}-{count + 1}"
            while slug in self._by_slug:
                count += 1
                slug = f"{task.name}-{count + 1}"
            self._slug_counts[task.name] = count + 1
            task.slug = slug
        elif task.slug in self._by_slug:
            other = self._by_slug[task.slug]
            kind = "parameters" if isinstance(task, Parameter) else "tasks"
            raise DuplicateSlugError(
                f"flow {self.name!r} already has a task with slug {task.slug!r} ({other!r});"
                f" {kind} in one flow need distinct slugs"
            )
        self._tasks[task] = None
        self._by_slug[task.slug] = task
        self._upstream[task] = []
        self._downstream[task] = []
        self._order = None
        return task

    def add_edge(
        self,
        upstream_task: Task,
        downstream_task: Task,
        key: str | None = None,
        mapped: bool = False,
        flattened: bool = False,
        validate: bool | None = None,
    ) -> Edge:
        """Run ``upstream_task`` before ``downstream_task``; with ``key``, feed its result as
        that input. (``validate`` is accepted for Prefect code; cycles are found at run.)"""
        upstream, downstream = upstream_task, downstream_task
        self.add_task(upstream)
        self.add_task(downstream)
        if key is not None:
            if key not in downstream.input_names and not downstream.accepts_any_keyword:
                raise BindError(
                    f"task {downstream.name!r} has no input named {key!r};"
                    f" its inputs are: {', '.join(downstream.input_names) or 'none'}"
                )
            if key in self.constants.get(downstream, {}) or any(
                e.key == key for e in self._upstream[downstream]
            ):
                raise BindError(f"task {downstream.slug!r} already has an input named {key!r}")
        edge = Edge(upstream, downstream, key, mapped or flattened, flattened)
        if edge in self._upstream[downstream]:
            return edge
        self._upstream[downstream].append(edge)
        self._downstream[upstream].append(edge)
        self._order = None
        return edge

    def bind_input(self, task: Task, key: str, value: Any, mapped: bool = False) -> None:
        """Feed ``value`` (a task, a literal holding tasks, or a constant) as input ``key``."""
        flattened = isinstance(value, flatten)
        is_unmapped = isinstance(value, unmapped)
        if flattened or is_unmapped:
            if not mapped:
                raise BindError(
                    f"task {task.name!r}: unmapped()/flatten() are for task.map(), not a call"
                )
            value = value.value
        if holds_task(value):
            self.add_edge(as_task(value, self), task, key=key,
                          mapped=mapped and not is_unmapped, flattened=flattened)
        elif mapped and not is_unmapped:
            # a constant sequence that is mapped over must be a node the runner can index
            self.add_edge(Constant(value).bind(flow=self), task, key=key, mapped=True,
                          flattened=flattened)
        else:
            self.constants.setdefault(task, {})[key] = value

    def set_dependencies(
        self,
        task: Task,
        upstream_tasks: Iterable[Any] = (),
        downstream_tasks: Iterable[Any] = (),
        keyword_tasks: dict[str, Any] | None = None,
        mapped: bool = False,
        validate: bool | None = None,
    ) -> None:
        """Imperative binding: order-only upstream/downstream edges and keyword inputs."""
        self.add_task(task)
        for up in upstream_tasks or ():
            whole = isinstance(up, unmapped)
            self.add_edge(as_task(up.value if whole else up, self), task,
                          mapped=mapped and not whole)
        for down in downstream_tasks or ():
            self.add_edge(task, as_task(down, self), mapped=mapped)
        for key, value in (keyword_tasks or {}).items():
            self.bind_input(task, key, value, mapped=mapped)

    def chain(self, *tasks: Task, validate: bool | None = None) -> list[Edge]:
        """Order-only edges ``a -> b -> c`` for ``chain(a, b, c)``."""
        return [self.add_edge(a, b) for a, b in itertools.pairwise(tasks)]

    def set_reference_tasks(self, tasks: Iterable[Task]) -> None:
        """The tasks whose states decide the flow run's state (default: the terminal tasks)."""
        tasks = set(tasks)
        missing = [t for t in tasks if t not in self._tasks]
        if missing:
            raise FlowDefinitionError(f"reference tasks {missing} are not in flow {self.name!r}")
        self._reference_tasks = tasks

    def copy(self) -> Flow:
        """A new flow with the same tasks, edges, constants and settings; editing one graph
        leaves the other as it was."""
        from jupyter_flows.core.flow_edits import copy_flow

        return copy_flow(self)

    def replace(self, old: Task, new: Any, validate: bool = True) -> None:
        """Put ``new`` (a task or a constant) where ``old`` is, with ``old``'s edges."""
        from jupyter_flows.core.flow_edits import replace_task

        replace_task(self, old, new, validate=validate)

    def update(self, flow: Flow, merge_parameters: bool = False,
               validate: bool | None = None) -> None:
        """Add every task, edge and constant of ``flow`` to this one; with
        ``merge_parameters``, a parameter both flows have becomes ``flow``'s."""
        from jupyter_flows.core.flow_edits import update_flow

        update_flow(self, flow, merge_parameters=merge_parameters)

    # ---------------------------------------------------------------- questions
    @property
    def edges(self) -> list[Edge]:
        return [e for t in self._tasks for e in self._upstream[t]]

    def edges_to(self, task: Task) -> list[Edge]:
        return list(self._upstream[task])

    def edges_from(self, task: Task) -> list[Edge]:
        return list(self._downstream[task])

    def upstream_tasks(self, task: Task) -> list[Task]:
        return list(dict.fromkeys(e.upstream for e in self._upstream[task]))

    def downstream_tasks(self, task: Task) -> list[Task]:
        return list(dict.fromkeys(e.downstream for e in self._downstream[task]))

    def root_tasks(self) -> list[Task]:
        return [t for t in self._tasks if not self._upstream[t]]

    def terminal_tasks(self) -> list[Task]:
        return [t for t in self._tasks if not self._downstream[t]]

    def reference_tasks(self) -> list[Task]:
        """The tasks whose states decide the run's state: those set, else the terminal tasks
        (a resource manager's cleanup does not count, and does not hide the tasks it follows)."""
        if self._reference_tasks:
            return [t for t in self._tasks if t in self._reference_tasks]
        return [t for t in self._tasks if not _is_cleanup(t) and all(
            _is_cleanup(e.downstream) for e in self._downstream[t])]

    def parameters(self) -> list[Parameter]:
        return [t for t in self._tasks if isinstance(t, Parameter)]

    def get_tasks(self, name: str | None = None, slug: str | None = None,
                  tags: Iterable[str] = ()) -> list[Task]:
        """Tasks matching all of the given name, slug and tags."""
        if slug is not None:
            found = self._by_slug.get(slug)
            candidates = [found] if found is not None else []
        else:
            candidates = list(self._tasks)
        tags = set(tags)
        return [t for t in candidates
                if (name is None or t.name == name) and tags <= t.tags]

    def task_by_slug(self, slug: str) -> Task:
        try:
            return self._by_slug[slug]
        except KeyError:
            raise KeyError(f"flow {self.name!r} has no task with slug {slug!r}") from None

    def sorted_tasks(self) -> list[Task]:
        """Tasks in an order where every task follows its upstream tasks; checks for cycles."""
        if self._order is None:
            nodes = list(self._tasks)
            order, left = topological_order(nodes, self._children)
            if left:
                cycle = find_cycle(left, self._children)
                raise CycleError(self.name, [t.slug or t.name for t in cycle])
            self._order = order
        return list(self._order)

    def _children(self, task: Task) -> list[Task]:
        return [e.downstream for e in self._downstream[task]]

    def validate(self) -> None:
        """Raise the first rule the graph breaks (a cycle names its path)."""
        self.sorted_tasks()

    # ---------------------------------------------------------- other pieces
    def run(self, parameters: dict[str, Any] | None = None, *, executor: Any = None,
            run_on_schedule: bool = False, **options: Any) -> State:
        """Run the flow in this process with ``executor``; see ``engine.run_flow``.

        Keywords naming a parameter are parameter values, as in Prefect:
        ``flow.run(n=3)`` is ``flow.run(parameters={"n": 3})``. A scheduled flow runs once,
        now, unless ``run_on_schedule=True``: then it runs at each time of its schedule until
        interrupted (see ``engine.on_schedule``).
        """
        from jupyter_flows.engine.flow_runner import run_flow

        names = {p.name for p in self.parameters()}
        given = dict(parameters or {})
        for name in [k for k in options if k in names]:
            given[name] = options.pop(name)
        if run_on_schedule or self.schedule is not None:
            from jupyter_flows.engine import on_schedule

            if run_on_schedule:
                return on_schedule.run_on_schedule(self, given or None, executor=executor,
                                                   **options)
            on_schedule.note_schedule_ignored(self)
        return run_flow(self, parameters=given, executor=executor, **options)

    def register(self, project: str = "default", **options: Any) -> Any:
        """Store the flow's code and register it with the backend; see ``registration``."""
        from jupyter_flows.deploy.register import register

        return register(self, project, **options)

    def visualize(self, flow_state: State | None = None, **options: Any) -> Any:
        """The flow's DAG as a graphviz graph, coloured by ``flow_state`` if given."""
        from jupyter_flows.widgets.dag import visualize

        return visualize(self, flow_state=flow_state, **options)

    def __repr__(self) -> str:
        return f"<Flow: {self.name} ({len(self._tasks)} tasks)>"


def _is_cleanup(task: Task) -> bool:
    return bool(getattr(task, "is_resource_cleanup", False))
