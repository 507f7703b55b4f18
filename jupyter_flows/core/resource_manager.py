"""``@resource_manager``: a resource (a cluster, a temp dir, a connection) set up before the
tasks of a ``with`` block and cleaned up after them, as in Prefect 1.x.

The decorated class is made by an *init* task with the call's arguments; a *setup* task
calls its ``setup()`` and gives the resource to the block (``with DaskCluster(n) as
client:``); a *cleanup* task calls ``cleanup(resource)`` once every task of the block has
finished, however they ended, provided setup succeeded. Tasks of the block with no
upstream inside it run after setup; the cleanup task does not decide the flow's state.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, overload

from jupyter_flows.core import building
from jupyter_flows.core.task import Task, task
from jupyter_flows.core.triggers import UpstreamStates
from jupyter_flows.errors import FlowContextError
from jupyter_flows.signals import SKIP, TRIGGERFAIL

if TYPE_CHECKING:
    from jupyter_flows.core.flow import Flow

__all__ = ["ResourceManager", "resource_manager"]


class ResourceSetupTask(Task):
    """Calls the manager's ``setup()``; its result is the resource."""

    def run(self, mgr: Any) -> Any:
        return mgr.setup()


class ResourceCleanupTask(Task):
    """Calls the manager's ``cleanup(resource)``."""

    is_resource_cleanup = True  # Flow.reference_tasks leaves it out

    def run(self, mgr: Any, resource: Any) -> None:
        mgr.cleanup(resource)


def resource_cleanup_trigger(upstream_states: UpstreamStates) -> bool:
    """Run once everything upstream finished, if the manager was made and set up."""
    for edge, state in upstream_states.items():
        if not state.is_finished():
            raise TRIGGERFAIL("some upstream tasks did not finish")
        if edge.key in ("mgr", "resource") and (state.is_skipped()
                                                 or not state.is_successful()):
            what = "made" if edge.key == "mgr" else "set up"
            raise SKIP(f"the resource was not {what}, so there is nothing to clean up")
    return True


class ResourceContext:
    """The ``with`` block of one resource: links the tasks made inside it."""

    def __init__(self, init_task: Task, setup_task: Task, cleanup_task: Task,
                 flow: Flow) -> None:
        self.init_task = init_task
        self.setup_task = setup_task
        self.cleanup_task = cleanup_task
        self._flow = flow

    def __enter__(self) -> Task:
        self._before = set(self._flow.tasks)
        return self.setup_task

    def __exit__(self, *exc: object) -> None:
        flow = self._flow
        inside = [t for t in flow.tasks if t not in self._before]
        block = set(inside)
        for child in inside:
            upstream = set(flow.upstream_tasks(child))
            if not upstream & block and self.setup_task not in upstream:
                flow.add_edge(self.setup_task, child)
            downstream = set(flow.downstream_tasks(child))
            if not downstream & block and self.cleanup_task not in downstream:
                flow.add_edge(child, self.cleanup_task)


class ResourceManager:
    """Makes the init, setup and cleanup tasks of a resource class on each call."""

    def __init__(self, resource_class: Callable[..., Any], name: str | None = None,
                 init_task_kwargs: dict[str, Any] | None = None,
                 setup_task_kwargs: dict[str, Any] | None = None,
                 cleanup_task_kwargs: dict[str, Any] | None = None) -> None:
        self.resource_class = resource_class
        self.name = name or getattr(resource_class, "__name__", "resource")
        self.init_task_kwargs = {"name": self.name, **(init_task_kwargs or {})}
        self.setup_task_kwargs = {"name": f"{self.name}.setup", **(setup_task_kwargs or {})}
        self.cleanup_task_kwargs = {"name": f"{self.name}.cleanup",
                                    "trigger": resource_cleanup_trigger,
                                    "skip_on_upstream_skip": False,
                                    **(cleanup_task_kwargs or {})}

    def __call__(self, *args: Any, flow: Flow | None = None, **kwargs: Any) -> ResourceContext:
        flow = flow if flow is not None else building.active_flow()
        if flow is None:
            raise FlowContextError(f"resource {self.name!r} must be used inside"
                                   f" `with Flow(...):` or get flow=")
        init = task(self.resource_class, **self.init_task_kwargs)(*args, flow=flow, **kwargs)
        setup = ResourceSetupTask(**self.setup_task_kwargs)(init, flow=flow)
        cleanup = ResourceCleanupTask(**self.cleanup_task_kwargs)(init, setup, flow=flow)
        return ResourceContext(init, setup, cleanup, flow)


@overload
def resource_manager(resource_class: Callable[..., Any], /, *, name: str | None = None,
                     init_task_kwargs: dict[str, Any] | None = None,
                     setup_task_kwargs: dict[str, Any] | None = None,
                     cleanup_task_kwargs: dict[str, Any] | None = None) -> ResourceManager: ...


@overload
def resource_manager(resource_class: None = None, /, *, name: str | None = None,
                     init_task_kwargs: dict[str, Any] | None = None,
                     setup_task_kwargs: dict[str, Any] | None = None,
                     cleanup_task_kwargs: dict[str, Any] | None = None,
                     ) -> Callable[[Callable[..., Any]], ResourceManager]: ...


def resource_manager(resource_class: Callable[..., Any] | None = None, /, *,
                     name: str | None = None,
                     init_task_kwargs: dict[str, Any] | None = None,
                     setup_task_kwargs: dict[str, Any] | None = None,
                     cleanup_task_kwargs: dict[str, Any] | None = None,
                     ) -> ResourceManager | Callable[[Callable[..., Any]], ResourceManager]:
    """Decorate a class with ``setup(self) -> resource`` and ``cleanup(self, resource)``;
    ``with MyResource(args) as resource:`` then brackets the tasks made in the block."""

    def make(cls: Callable[..., Any]) -> ResourceManager:
        return ResourceManager(cls, name=name, init_task_kwargs=init_task_kwargs,
                               setup_task_kwargs=setup_task_kwargs,
                               cleanup_task_kwargs=cleanup_task_kwargs)

    return make if resource_class is None else make(resource_class)
